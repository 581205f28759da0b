import { z } from 'zod';

/** One `host:port` of a Sentinel or Cluster node list. */
export interface HostPort {
  host: string;
  port: number;
}

/**
 * Where Redis is, decided once from the settings, for every app and tool:
 * - `single`: one server, `REDIS_URL` (user, password, db and TLS in the URL);
 * - `sentinel`: a primary that Redis Sentinel names and replaces on failure
 *   (`REDIS_SENTINELS`, `REDIS_SENTINEL_NAME`); the data nodes' user, password and TLS come
 *   from `REDIS_USERNAME`, `REDIS_PASSWORD`, `REDIS_TLS`, the sentinels' own from
 *   `REDIS_SENTINEL_USERNAME`, `REDIS_SENTINEL_PASSWORD`, `REDIS_SENTINEL_TLS`;
 * - `cluster`: a Redis Cluster reached through any of `REDIS_CLUSTER_NODES` (the client learns
 *   the rest), with the same `REDIS_USERNAME`, `REDIS_PASSWORD`, `REDIS_TLS` for every node.
 */
export type RedisLocation = SingleRedis | SentinelRedis | ClusterRedis;

export interface SingleRedis {
  mode: 'single';
  url: string;
}

export interface SentinelRedis {
  mode: 'sentinel';
  sentinels: HostPort[];
  name: string;
  username?: string;
  password?: string;
  /** TLS to the data nodes; `servername` when their certificates name a host the addresses Sentinel gives do not. */
  tls?: { servername?: string };
  sentinelUsername?: string;
  sentinelPassword?: string;
  sentinelTls: boolean;
}

export interface ClusterRedis {
  mode: 'cluster';
  /** Where to start: the client asks one of them for the slot map, then talks to every master. */
  nodes: HostPort[];
  username?: string;
  password?: string;
  /** TLS to every node; `servername` when the certificates name a host the nodes' addresses do not. */
  tls?: { servername?: string };
}

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

const blank = (value: unknown) => value === undefined || value === '';

/** `host:port,host:port`; IPv6 hosts in brackets (`[::1]:26379`). */
export function parseHostPorts(text: string): HostPort[] | string {
  const nodes: HostPort[] = [];
  for (const item of text.split(',').map((part) => part.trim())) {
    const match = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d{1,5})$/.exec(item);
    const port = Number(match?.[2]);
    if (!match?.[1] || port < 1 || port > 65_535) {
      return `"${item.slice(0, 80)}" is not host:port (IPv6 in brackets: [::1]:26379)`;
    }
    nodes.push({ host: match[1].replace(/^\[|\]$/g, ''), port });
  }
  return nodes;
}

const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
  .optional()
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

/**
 * The settings that say where Redis is, read from the environment as one part of an app's
 * configuration (`parseEnvParts({ …, redis: RedisLocationEnv })`). Every bad or conflicting
 * setting is an issue that names it, so start-up stops with all of them listed.
 */
export const RedisLocationEnv = z.looseObject({}).transform((env, ctx): RedisLocation => {
  const text = (name: string) => {
    const value = env[name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const issue = (name: string, message: string) => {
    ctx.addIssue({ code: 'custom', path: [name], message });
  };
  const sentinels = text('REDIS_SENTINELS');
  const clusterNodes = text('REDIS_CLUSTER_NODES');
  const tls = flag.safeParse(env.REDIS_TLS);
  if (!tls.success) issue('REDIS_TLS', 'expected true or false');
  const servername = text('REDIS_TLS_SERVERNAME');
  if (servername && !tls.data) issue('REDIS_TLS_SERVERNAME', 'needs REDIS_TLS=true');
  const nodeAccess = {
    username: text('REDIS_USERNAME'),
    password: text('REDIS_PASSWORD'),
    tls: tls.data ? (servername ? { servername } : {}) : undefined,
  };
  if (clusterNodes) {
    if (text('REDIS_URL')) {
      issue('REDIS_URL', 'set together with REDIS_CLUSTER_NODES: give one of them');
    }
    if (sentinels) {
      issue(
        'REDIS_SENTINELS',
        'set together with REDIS_CLUSTER_NODES: Sentinel or Cluster, not both',
      );
    }
    for (const name of SENTINEL_ONLY.filter((name) => !NODE_ACCESS.includes(name))) {
      if (!blank(env[name])) issue(name, 'is for Sentinel mode, not with REDIS_CLUSTER_NODES');
    }
    const nodes = parseHostPorts(clusterNodes);
    if (typeof nodes === 'string') issue('REDIS_CLUSTER_NODES', nodes);
    return { mode: 'cluster', nodes: typeof nodes === 'string' ? [] : nodes, ...nodeAccess };
  }
  if (!sentinels) {
    for (const name of SENTINEL_ONLY) {
      if (!blank(env[name]))
        issue(
          name,
          NODE_ACCESS.includes(name)
            ? 'is for Sentinel or Cluster mode: set REDIS_SENTINELS or REDIS_CLUSTER_NODES too, or unset it (a REDIS_URL carries its own user, password and TLS)'
            : 'is for Sentinel mode: set REDIS_SENTINELS too, or unset it',
        );
    }
    const url = text('REDIS_URL') ?? DEFAULT_REDIS_URL;
    if (!/^rediss?:\/\//.test(url)) issue('REDIS_URL', 'expected a redis:// or rediss:// URL');
    return { mode: 'single', url };
  }
  if (text('REDIS_URL')) {
    issue(
      'REDIS_URL',
      'set together with REDIS_SENTINELS: give one (Sentinel finds the primary itself)',
    );
  }
  const nodes = parseHostPorts(sentinels);
  if (typeof nodes === 'string') issue('REDIS_SENTINELS', nodes);
  const name = text('REDIS_SENTINEL_NAME');
  if (!name)
    issue(
      'REDIS_SENTINEL_NAME',
      'required with REDIS_SENTINELS: the name the sentinels monitor the primary under',
    );
  const sentinelTls = flag.safeParse(env.REDIS_SENTINEL_TLS);
  if (!sentinelTls.success) issue('REDIS_SENTINEL_TLS', 'expected true or false');
  return {
    mode: 'sentinel',
    sentinels: typeof nodes === 'string' ? [] : nodes,
    name: name ?? '',
    ...nodeAccess,
    sentinelUsername: text('REDIS_SENTINEL_USERNAME'),
    sentinelPassword: text('REDIS_SENTINEL_PASSWORD'),
    sentinelTls: sentinelTls.data === true,
  };
});

/** The data nodes' user, password and TLS: for Sentinel and Cluster (a URL has its own). */
const NODE_ACCESS = ['REDIS_USERNAME', 'REDIS_PASSWORD', 'REDIS_TLS', 'REDIS_TLS_SERVERNAME'];

/** Settings that mean something only in Sentinel mode (and, NODE_ACCESS, in Cluster mode). */
const SENTINEL_ONLY = [
  'REDIS_SENTINEL_NAME',
  'REDIS_USERNAME',
  'REDIS_PASSWORD',
  'REDIS_TLS',
  'REDIS_TLS_SERVERNAME',
  'REDIS_SENTINEL_USERNAME',
  'REDIS_SENTINEL_PASSWORD',
  'REDIS_SENTINEL_TLS',
];

/** Where Redis is, for logs and banners: no password. */
export function describeLocation(location: RedisLocation): string {
  if (location.mode === 'single') {
    const parsed = new URL(location.url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  }
  const list = (nodes: HostPort[]) => nodes.map(({ host, port }) => `${host}:${port}`).join(',');
  if (location.mode === 'cluster') return `cluster ${list(location.nodes)}`;
  return `sentinel ${list(location.sentinels)} (primary "${location.name}")`;
}
