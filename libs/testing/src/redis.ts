import { execFileSync } from 'node:child_process';
import { dirname } from 'node:path';
import {
  DEPLOYED_REDIS_ENTRYPOINT,
  MISSING_REDIS_SERVER,
  RedisServer,
  type RedisServerOptions,
} from '@errand/devservers';

/** A Redis for one test file: its own process (or container), its own data. */
export interface TestRedis {
  url: string;
  /** A deployed Redis's `admin` user (see `RedisServerOptions.deployed`). */
  adminUrl?: string;
  /** Shut down for good and delete its data. */
  stop(): Promise<void>;
  /** Crash: SIGKILL. */
  kill(): Promise<void>;
  /** Start again on the same data (and, for a local process, the same port). */
  restart(): Promise<void>;
  /** Stop answering while keeping every connection open (SIGSTOP; a paused container). */
  freeze(): Promise<void>;
  /** Answer again after `freeze`. */
  thaw(): Promise<void>;
}

function hasLocalRedis(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The Redis image of docker-compose.yml, for the container path of the harness. */
const REDIS_IMAGE = 'redis:7.4.11-alpine';

/**
 * A Docker engine's Redis, for machines without a redis-server binary. kill() stops the
 * container at once; restart() starts the same container, so its AOF survives. A deployed
 * Redis runs the shipped entrypoint, config and ACL users, as docker-compose.yml does.
 */
async function startContainerRedis(options: RedisServerOptions): Promise<TestRedis> {
  const { deployed } = options;
  if (options.tls) {
    throw new Error(
      'A TLS Redis needs a local redis-server (apt install redis-server): the container path has no certificates.',
    );
  }
  const { GenericContainer, getContainerRuntimeClient: runtime } = await import('testcontainers');
  let image = new GenericContainer(REDIS_IMAGE).withExposedPorts(6379);
  if (deployed) {
    image = image
      .withBindMounts([
        { source: dirname(DEPLOYED_REDIS_ENTRYPOINT), target: '/usr/local/etc/redis', mode: 'ro' },
      ])
      .withEnvironment({
        ERRAND_REDIS_PASSWORD: deployed.password,
        ERRAND_REDIS_ADMIN_PASSWORD: deployed.adminPassword,
        QUEUE_PREFIX: deployed.prefix,
      })
      .withEntrypoint(['sh', '/usr/local/etc/redis/entrypoint.sh']);
  } else {
    const args = ['redis-server', '--appendonly', options.appendonly === false ? 'no' : 'yes'];
    args.push('--appendfsync', options.appendfsync ?? 'everysec');
    args.push('--maxmemory-policy', options.maxmemoryPolicy ?? 'noeviction');
    if (options.password) args.push('--requirepass', options.password);
    image = image.withCommand(args);
  }
  const container = await image.start();
  const urlAs = (auth: string) =>
    `redis://${auth}${container.getHost()}:${container.getMappedPort(6379)}`;
  const secret = encodeURIComponent;
  const auth = deployed
    ? `errand:${secret(deployed.password)}@`
    : options.password
      ? `:${secret(options.password)}@`
      : '';
  const handle: TestRedis = {
    url: urlAs(auth),
    ...(deployed ? { adminUrl: urlAs(`admin:${secret(deployed.adminPassword)}@`) } : {}),
    stop: async () => {
      await container.stop({ remove: true });
    },
    kill: async () => {
      await container.exec(['sh', '-c', 'kill -9 1']);
    },
    restart: async () => {
      await container.restart();
      handle.url = urlAs(auth);
    },
    // docker pause freezes the container's processes (the cgroup freezer), as SIGSTOP does.
    freeze: async () => {
      await (await runtime()).container.getById(container.getId()).pause();
    },
    thaw: async () => {
      await (await runtime()).container.getById(container.getId()).unpause();
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
      ...(server.adminUrl ? { adminUrl: server.adminUrl } : {}),
      stop: () => server.dispose(),
      kill: () => server.kill(),
      restart: () => server.restart(),
      freeze: async () => server.freeze(),
      thaw: async () => server.thaw(),
    };
  }
  if (await dockerAvailable()) return startContainerRedis(options);
  throw new Error(
    `No Redis for tests. ${MISSING_REDIS_SERVER} (No Docker engine answered either.)`,
  );
}
