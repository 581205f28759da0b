import { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';
import { type ConnectionRole, createRedis, type RedisClient, redisOptions } from './connection.ts';
import { checkDurability, inspectDurability, replicasOf } from './durability.ts';
import { describeLocation, type RedisLocation } from './location.ts';

export class RedisUnreachableError extends Error {
  override name = 'RedisUnreachableError';
}

/**
 * Connect for an app's start-up: fail with a message that says what to do when Redis does not
 * answer, then refuse (or warn about) a Redis that would lose jobs. Connection errors after
 * start are logged once per distinct message, since ioredis retries every second or two.
 */
export async function connectRedis(
  where: RedisLocation | string,
  role: ConnectionRole,
  options: {
    requireDurable: boolean;
    logger: Logger;
    /** Send the commands issued in one tick in one write (many concurrent jobs, one socket). */
    autoPipelining?: boolean;
    /**
     * Fail a command that has no answer after this long (never for blocking commands): a
     * frozen or partitioned Redis keeps the socket open, and without it a request waits for
     * as long as the freeze lasts.
     */
    commandTimeoutMs?: number;
    /** One more check before the app goes on (the key layout): its error stops the start. */
    startupCheck?: (redis: RedisClient) => Promise<void>;
  },
) {
  const location: RedisLocation =
    typeof where === 'string' ? { mode: 'single', url: where } : where;
  const redis = createRedis(location, role, {
    lazyConnect: true,
    enableAutoPipelining: options.autoPipelining ?? false,
    ...(options.commandTimeoutMs ? { commandTimeout: options.commandTimeoutMs } : {}),
  });
  let lastError = '';
  redis.on('error', (error: Error) => {
    if (error.message === lastError) return;
    lastError = error.message;
    options.logger.warn({ err: error }, 'redis connection error');
  });
  redis.on('ready', () => {
    if (lastError) options.logger.info('redis connection back');
    lastError = '';
  });
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw new RedisUnreachableError(
      `Cannot reach Redis at ${describeLocation(location)} (${(error as Error).message}). ` +
        {
          single:
            'Start one (npm start starts a local redis-server for you), or set REDIS_URL to a running Redis.',
          sentinel:
            'Check REDIS_SENTINELS and REDIS_SENTINEL_NAME, and that a sentinel names a primary that answers.',
          cluster:
            'Check REDIS_CLUSTER_NODES, and that the cluster is up (CLUSTER INFO: cluster_state:ok).',
        }[location.mode],
    );
  }
  try {
    const report =
      redis instanceof Cluster
        ? await checkClusterDurability(redis, location, options)
        : await checkDurability(redis, {
            require: options.requireDurable,
            warn: (message) => options.logger.warn(message),
            others: location.mode === 'sentinel' ? await promotable(redis, location) : [],
          });
    await options.startupCheck?.(redis);
    options.logger.info(
      { redis: describeLocation(location), aof: report.appendonly },
      'redis connected',
    );
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  return redis;
}

/** One node, inspected over a short-lived connection of its own. */
function nodeCheck(location: RedisLocation, name: string, host: string, port: number) {
  const {
    sentinels,
    name: _,
    role,
    sentinelUsername,
    sentinelPassword,
    ...node
  } = redisOptions(location, 'producer');
  return {
    name,
    inspect: async () => {
      const client = new Redis({
        ...node,
        host,
        port,
        lazyConnect: true,
        retryStrategy: () => null,
      });
      try {
        await client.connect();
        return await inspectDurability(client);
      } finally {
        client.disconnect();
      }
    },
  };
}

/** A Sentinel group's replicas: each may be promoted, so each must keep jobs. */
async function promotable(redis: Redis, location: RedisLocation) {
  return (await replicasOf(redis)).map(({ host, port }) =>
    nodeCheck(location, `Replica ${host}:${port}`, host, port),
  );
}

/** Every master and replica of a Cluster (from its slot map), each named by its address. */
async function checkClusterDurability(
  cluster: Cluster,
  location: RedisLocation,
  options: { requireDurable: boolean; logger: Logger },
) {
  const [first, ...masters] = cluster.nodes('master');
  if (!first)
    throw new RedisUnreachableError('The cluster names no master (CLUSTER SLOTS is empty).');
  const others = [
    ...masters.map((node) => ['Master', node] as const),
    ...cluster.nodes('slave').map((node) => ['Replica', node] as const),
  ].map(([kind, node]) => {
    const { host = '', port = 0 } = node.options;
    return nodeCheck(location, `${kind} ${host}:${port}`, host, port);
  });
  const { host, port } = first.options;
  const client = new Redis({
    ...redisOptions(location, 'producer'),
    host,
    port,
    lazyConnect: true,
  });
  try {
    await client.connect();
    return await checkDurability(client, {
      require: options.requireDurable,
      warn: (message) => options.logger.warn(message),
      others,
    });
  } finally {
    client.disconnect();
  }
}
