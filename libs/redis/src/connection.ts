import { isIP } from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';
import { describeLocation, type RedisLocation, type SentinelRedis } from './location.ts';

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
  const location = typeof where === 'string' ? { mode: 'single' as const, url: where } : where;
  return {
    ...(location.mode === 'sentinel' ? sentinelOptions(location) : urlOptions(location.url)),
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

/** A new ioredis client for where Redis is and the role; `lazyConnect` is left to the caller. */
export function createRedis(
  where: RedisLocation | string,
  role: ConnectionRole,
  extra: RedisOptions = {},
): Redis {
  return new Redis({ ...redisOptions(where, role), ...extra });
}

/** Redis URL with the password blanked, for logs and start-up banners. */
export function redactRedisUrl(url: string): string {
  return describeLocation({ mode: 'single', url });
}
