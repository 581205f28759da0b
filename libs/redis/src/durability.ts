import type { Redis } from 'ioredis';

export interface DurabilityReport {
  appendonly: boolean;
  maxmemoryPolicy: string;
  /** One line per setting that puts queued jobs at risk, each saying what to change. */
  problems: string[];
}

/** Parse the `key:value` lines of an INFO section. */
function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

/**
 * Read INFO and say whether Redis keeps queued jobs: AOF must be on, and Redis must never
 * evict keys (an evicted job is a lost job). INFO only, never CONFIG: the apps' Redis user is
 * not allowed CONFIG (deploy/redis/users.acl), nor are the users of managed Redis services.
 * The fsync policy is not in INFO; deploy/redis/redis.conf sets it.
 */
export async function inspectDurability(redis: Redis): Promise<DurabilityReport> {
  const info = parseInfo(`${await redis.info('persistence')}\n${await redis.info('memory')}`);
  const appendonly = info.get('aof_enabled') === '1';
  const maxmemoryPolicy = info.get('maxmemory_policy') ?? 'unknown';
  const problems: string[] = [];
  if (!appendonly) {
    problems.push(
      'AOF persistence is off, so a Redis restart loses every queued job: set "appendonly yes" in redis.conf (or run CONFIG SET appendonly yes).',
    );
  }
  if (maxmemoryPolicy !== 'noeviction') {
    problems.push(
      `maxmemory-policy is "${maxmemoryPolicy}", so Redis may evict queued jobs under memory pressure: set "maxmemory-policy noeviction".`,
    );
  }
  return { appendonly, maxmemoryPolicy, problems };
}

export class RedisNotDurableError extends Error {
  override name = 'RedisNotDurableError';
}

/**
 * The replicas the primary knows (INFO replication: `slave0:ip=…,port=…,state=online,…`).
 * Under Sentinel each may be promoted, so each must keep jobs as the primary does.
 */
export async function replicasOf(redis: Redis): Promise<{ host: string; port: number }[]> {
  const info = parseInfo(await redis.info('replication'));
  const replicas: { host: string; port: number }[] = [];
  for (const [key, value] of info) {
    if (!/^slave\d+$/.test(key)) continue;
    const fields = new Map(value.split(',').map((pair) => pair.split('=') as [string, string]));
    const port = Number(fields.get('port'));
    const host = fields.get('ip');
    if (host && Number.isInteger(port)) replicas.push({ host, port });
  }
  return replicas;
}

/**
 * Refuse to start on a Redis that would lose jobs, or only warn when `require` is false
 * (throwaway development Redis). `others` are nodes that may become the primary (a Sentinel
 * group's replicas): each is inspected too, its problems named by its address; one that
 * cannot be reached is a warning, since it may be down for now. Returns the primary's report.
 */
export async function checkDurability(
  redis: Redis,
  options: {
    require: boolean;
    warn: (message: string) => void;
    others?: { name: string; inspect: () => Promise<DurabilityReport> }[];
  },
): Promise<DurabilityReport> {
  const report = await inspectDurability(redis);
  const problems = [...report.problems];
  for (const other of options.others ?? []) {
    try {
      problems.push(...(await other.inspect()).problems.map((text) => `${other.name}: ${text}`));
    } catch (error) {
      options.warn(`Could not check ${other.name} (${(error as Error).message}).`);
    }
  }
  if (problems.length === 0) return report;
  const text = problems.join(' ');
  if (options.require) {
    throw new RedisNotDurableError(
      `Redis would lose jobs. ${text} To run anyway against a throwaway Redis, set REDIS_REQUIRE_DURABLE=false.`,
    );
  }
  options.warn(`Redis would lose jobs (REDIS_REQUIRE_DURABLE=false, so starting anyway). ${text}`);
  return report;
}
