import { execFileSync } from 'node:child_process';
import { MISSING_REDIS_SERVER, RedisServer, type RedisServerOptions } from '@errand/devservers';

/** A Redis for one test file: its own process (or container), its own data. */
export interface TestRedis {
  url: string;
  /** Shut down for good and delete its data. */
  stop(): Promise<void>;
  /** Crash: SIGKILL. */
  kill(): Promise<void>;
  /** Start again on the same data (and, for a local process, the same port). */
  restart(): Promise<void>;
}

function hasLocalRedis(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * A Docker engine's Redis, for machines without a redis-server binary. kill() stops the
 * container at once; restart() starts the same container, so its AOF survives.
 */
async function startContainerRedis(options: RedisServerOptions): Promise<TestRedis> {
  const { GenericContainer } = await import('testcontainers');
  const args = ['redis-server', '--appendonly', options.appendonly === false ? 'no' : 'yes'];
  args.push('--appendfsync', options.appendfsync ?? 'everysec');
  args.push('--maxmemory-policy', options.maxmemoryPolicy ?? 'noeviction');
  if (options.password) args.push('--requirepass', options.password);
  const container = await new GenericContainer('redis:7.0')
    .withCommand(args)
    .withExposedPorts(6379)
    .start();
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  const handle: TestRedis = {
    url: `redis://${auth}${container.getHost()}:${container.getMappedPort(6379)}`,
    stop: async () => {
      await container.stop({ remove: true });
    },
    kill: async () => {
      await container.exec(['sh', '-c', 'kill -9 1']);
    },
    restart: async () => {
      await container.restart();
      handle.url = `redis://${auth}${container.getHost()}:${container.getMappedPort(6379)}`;
    },
  };
  return handle;
}

async function dockerAvailable(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

/**
 * A real Redis for a test: a local redis-server on a free port in a temp dir when the binary
 * is installed, else a testcontainers Redis when a Docker engine runs, else a clear error.
 * AOF is on unless `appendonly: false`.
 */
export async function startTestRedis(options: RedisServerOptions = {}): Promise<TestRedis> {
  if (hasLocalRedis()) {
    const server = await RedisServer.start(options);
    return {
      url: server.url,
      stop: () => server.dispose(),
      kill: () => server.kill(),
      restart: () => server.restart(),
    };
  }
  if (await dockerAvailable()) return startContainerRedis(options);
  throw new Error(
    `No Redis for tests. ${MISSING_REDIS_SERVER} (No Docker engine answered either.)`,
  );
}
