import {
  appSettings,
  type Deployment,
  dataNodes,
  environmentOf,
  sentinelServices,
} from './compose.model.ts';
import type { Rule } from './compose.rules.ts';

/** The port of deploy/redis/sentinel.conf. */
const SENTINEL_PORT = 26379;

/** The value after `flag` in a command (`--replicaof redis 6379` → ['redis', '6379']). */
function after(command: string[] | undefined, flag: string, count = 1): string[] | undefined {
  const at = command?.indexOf(flag) ?? -1;
  return at < 0 ? undefined : command?.slice(at + 1, at + 1 + count);
}

/** The one Redis: no sentinel, and every app at redis:6379 by REDIS_URL, as errand. */
function* single(d: Deployment) {
  for (const [name] of sentinelServices(d)) yield `${name}: a sentinel without a Sentinel group`;
  const nodes = dataNodes(d).map(([name]) => name);
  if (nodes.join() !== 'redis') yield `data nodes ${nodes.join(', ')}, not the one redis`;
  for (const [app, { redis }] of appSettings(d).ok) {
    const url = redis.mode === 'single' ? new URL(redis.url) : undefined;
    if (url?.host !== 'redis:6379' || url.username !== 'errand')
      yield `${app}: not at redis:6379 as errand by REDIS_URL`;
  }
}

/**
 * The Sentinel group: `redis` the first primary, two replicas of it, each node announcing its
 * service name and started as one of a group; three sentinels watching `redis` under one name,
 * each announcing its own; every app asking all three for that name, as errand.
 */
function* group(d: Deployment) {
  const nodes = dataNodes(d);
  if (nodes.length !== 3) yield `${nodes.length} data nodes, not a primary and 2 replicas`;
  for (const [name, s] of nodes) {
    if (environmentOf(d, name).ERRAND_REDIS_REPLICATION !== 'sentinel')
      yield `${name}: not started as a node of a Sentinel group (ERRAND_REDIS_REPLICATION)`;
    if (after(s.command, '--replica-announce-ip')?.[0] !== name)
      yield `${name}: does not announce its name (--replica-announce-ip ${name})`;
    const primary = after(s.command, '--replicaof', 2)?.join(' ');
    if (name === 'redis' ? primary !== undefined : primary !== 'redis 6379')
      yield `${name}: replica of ${primary ?? 'nothing'}`;
  }
  const sentinels = sentinelServices(d);
  if (sentinels.length !== 3) yield `${sentinels.length} sentinels, not 3`;
  const names = new Set<string>();
  for (const [name, s] of sentinels) {
    const env = environmentOf(d, name);
    const groupName = env.ERRAND_SENTINEL_NAME ?? 'errand';
    names.add(groupName);
    if (env.ERRAND_SENTINEL_PRIMARY_HOST !== 'redis') yield `${name}: does not watch redis`;
    if (env.ERRAND_SENTINEL_ANNOUNCE_HOST !== name) yield `${name}: does not announce its name`;
    const check = s.healthcheck?.test?.join(' ') ?? '';
    if (!check.includes(`-p ${SENTINEL_PORT} SENTINEL CKQUORUM ${groupName} | grep -q '^OK'`))
      yield `${name}: health check is not CKQUORUM of ${groupName}`;
    if (s.depends_on?.redis?.condition !== 'service_healthy')
      yield `${name}: starts before redis, whose name it must resolve`;
  }
  if (names.size > 1) yield `the sentinels watch different groups: ${[...names].join(', ')}`;
  const expected = sentinels.map(([name]) => `${name}:${SENTINEL_PORT}`).sort();
  const password = d.filled.get('ERRAND_REDIS_PASSWORD');
  for (const [app, { redis }] of appSettings(d).ok) {
    if (redis.mode !== 'sentinel') {
      yield `${app}: not in Sentinel mode`;
      continue;
    }
    const asked = redis.sentinels.map(({ host, port }) => `${host}:${port}`).sort();
    if (asked.join() !== expected.join()) yield `${app}: asks ${asked.join(', ')}`;
    if (!names.has(redis.name)) yield `${app}: asks for group ${redis.name}`;
    if (redis.username !== 'errand' || redis.password !== password)
      yield `${app}: does not log in as errand`;
  }
}

export const sentinelRules = {
  sentinel: {
    title:
      'Redis: the apps reach the one redis by REDIS_URL, or (compose.sentinel.yml) a primary and 2 replicas through 3 sentinels',
    *check(d) {
      yield* appSettings(d).errors;
      yield* d.variant === 'sentinel' ? group(d) : single(d);
    },
  },
} satisfies Record<string, Rule>;
