import { isIP } from 'node:net';
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import { pipelineWhenBusy } from './auto-pipelining.ts';
import {
  type ClusterRedis,
  describeLocation,
  type RedisLocation,
  type SentinelRedis,
  type SingleRedis,
} from './location.ts';

/**
 * A client of Errand's Redis, whichever the mode: one connection (single, Sentinel) or a
 * Cluster client that routes each command to the master of its key's slot. Code that runs
 * one command at a time takes either; code that must reach every node (INFO, CLIENT LIST)
 * goes through `nodesOf`.
 */
export type RedisClient = Redis | Cluster;

/** The per-command timeout the client was made with (`commandTimeout`), if any. */
export const commandTimeoutOf = (redis: RedisClient): number | undefined =>
  redis instanceof Cluster
    ? redis.options.redisOptions?.commandTimeout
    : redis.options.commandTimeout;

/** The masters to ask a per-server question (memory, clients): every one on a Cluster. */
export const mastersOf = (redis: RedisClient): Redis[] =>
  redis instanceof Cluster ? redis.nodes('master') : [redis];

/**
 * How a connection is used decides how it behaves when Redis goes away:
 * - `producer`: fail fast (no offline queue, one retry per request) so an API can answer 503
 *   at once instead of holding a request while Redis is down;
 * - `worker`: wait for Redis forever (`maxRetriesPerRequest: null`), as BullMQ's blocking
 *   commands require.
 */
export type ConnectionRole = 'producer' | 'worker';

const roleOptions: Record<ConnectionRole, RedisOptions> = {
  producer: { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000 },
  worker: { maxRetriesPerRequest: null, enableOfflineQueue: true },
};

/** Reconnect quickly at first, then every 2 s at most: outages end, and workers must notice. */
const retryStrategy = (times: number) => Math.min(50 * 2 ** times, 2_000);

/**
 * ioredis options for where Redis is (a `redis://` or `rediss://` URL is a single server),
 * tuned for the role.
 */
export function redisOptions(where: RedisLocation | string, role: ConnectionRole): RedisOptions {
  const location = locationOf(where);
  return { ...nodeOptionsOf(location), ...commonOptions(role) };
}

/** How to reach the data nodes: from the URL, through Sentinel, or every node of a Cluster. */
function nodeOptionsOf(location: RedisLocation): RedisOptions {
  switch (location.mode) {
    case 'single':
      return urlOptions(location.url);
    case 'sentinel':
      return sentinelOptions(location);
    case 'cluster':
      return clusterNodeOptions(location);
  }
}

/** What every connection gets, whatever the mode: reconnects, and the role's behaviour. */
function commonOptions(role: ConnectionRole): RedisOptions {
  return {
    retryStrategy,
    // No CLIENT SETINFO at connect (Redis ≥ 7.2): the apps' ACL user is not given it, and a
    // refused SETINFO per connection would fill ACL LOG, hiding the denials that matter.
    disableClientInfo: true,
    ...roleOptions[role],
  };
}

/** User, password, db and TLS from a `redis://` or `rediss://` URL. */
function urlOptions(url: string): RedisOptions {
  const parsed = new URL(url);
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new Error(`REDIS_URL must start with redis:// or rediss://, got "${parsed.protocol}//"`);
  }
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) {
    throw new Error(`REDIS_URL names database "${parsed.pathname.slice(1)}", not a number`);
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  return {
    host,
    port: parsed.port ? Number(parsed.port) : 6379,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db,
    // TLS checks the certificate against the host; SNI carries only names, never addresses.
    tls: parsed.protocol === 'rediss:' ? (isIP(host) ? {} : { servername: host }) : undefined,
  };
}

/**
 * A primary found through Sentinel. After a failover the client must follow the new primary
 * even where its socket to the old one stays up: `failoverDetector` listens for the
 * sentinels' +switch-master, and an old primary turned replica answers writes with READONLY
 * (and blocked commands with UNBLOCKED), which reconnects the client — through Sentinel, to
 * the new primary — and fails that one command, which the caller retries (BullMQ does).
 */
function sentinelOptions(location: SentinelRedis): RedisOptions {
  return {
    sentinels: location.sentinels,
    name: location.name,
    role: 'master',
    username: location.username,
    password: location.password,
    // In Sentinel mode ioredis uses `tls` only with enableTLSForSentinelMode.
    tls: location.tls,
    enableTLSForSentinelMode: location.tls !== undefined,
    sentinelUsername: location.sentinelUsername,
    sentinelPassword: location.sentinelPassword,
    sentinelTLS: location.sentinelTls ? {} : undefined,
    failoverDetector: true,
    sentinelRetryStrategy: retryStrategy,
    reconnectOnError: (error) => (/^(READONLY|UNBLOCKED)/.test(error.message) ? 1 : false),
  };
}

const locationOf = (where: RedisLocation | string): RedisLocation =>
  typeof where === 'string' ? { mode: 'single', url: where } : where;

/** What every node of a Cluster is reached with: the same user, password and TLS. */
function clusterNodeOptions(location: ClusterRedis): RedisOptions {
  return { username: location.username, password: location.password, tls: location.tls };
}

/**
 * A Cluster client: it reads the slot map from any of the nodes, sends each command to its
 * slot's master and follows MOVED/ASK. After a master fails, its replica is promoted; the
 * client refreshes the map on the first MOVED or connection error and retries the command.
 * The role's options go to every node's connection, and the offline queue to the client.
 */
function createCluster(location: ClusterRedis, role: ConnectionRole, extra: RedisOptions) {
  const { lazyConnect, enableAutoPipelining, enableOfflineQueue, ...node } = {
    ...redisOptions(location, role),
    ...extra,
  };
  const options: ClusterOptions = {
    redisOptions: node,
    lazyConnect,
    enableAutoPipelining,
    enableOfflineQueue,
    clusterRetryStrategy: retryStrategy,
    // A failed-over master answers nothing for a while: ask for a fresh map soon, not once.
    slotsRefreshTimeout: 2_000,
    retryDelayOnClusterDown: 200,
    retryDelayOnFailover: 200,
    retryDelayOnTryAgain: 200,
  };
  return new Cluster(location.nodes, options);
}

/**
 * A new ioredis client for where Redis is and the role; `lazyConnect` is left to the caller.
 * One server or a Sentinel primary is a `Redis`; a Cluster is a `Cluster` client. With
 * `enableAutoPipelining`, a `Redis` batches only while busy (`pipelineWhenBusy`); a Cluster
 * client batches as ioredis does.
 */
export function createRedis(
  where: SingleRedis | SentinelRedis | string,
  role: ConnectionRole,
  extra?: RedisOptions,
): Redis;
export function createRedis(
  where: RedisLocation,
  role: ConnectionRole,
  extra?: RedisOptions,
): RedisClient;
export function createRedis(
  where: RedisLocation | string,
  role: ConnectionRole,
  extra?: RedisOptions,
): RedisClient;
export function createRedis(
  where: RedisLocation | string,
  role: ConnectionRole,
  extra: RedisOptions = {},
): RedisClient {
  const location = locationOf(where);
  if (location.mode === 'cluster') return createCluster(location, role, extra);
  const redis = new Redis({ ...redisOptions(location, role), ...extra });
  // A lone command is written at once; batches form only behind commands in flight.
  if (extra.enableAutoPipelining) pipelineWhenBusy(redis);
  return redis;
}

/** Redis URL with the password blanked, for logs and start-up banners. */
export function redactRedisUrl(url: string): string {
  return describeLocation({ mode: 'single', url });
}
