import { randomBytes } from 'node:crypto';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  commandOnce,
  DEPLOYED_REDIS_ENTRYPOINT,
  type DeployedRedis,
  type RedisServer,
} from './redis-server.ts';

/**
 * The deployed flavour of a `SentinelGroup` and of a `RedisCluster`: launchers that start their
 * processes through `deploy/redis/entrypoint.sh`, and commands as the deployed `admin` user (a
 * `RedisServer` started this way knows no user of its own).
 */

/**
 * The secrets of a Redis Cluster run as deployed: the apps' and people's users of one Redis,
 * plus the `replica` user of `deploy/redis/users.acl` (a replica's link to its master).
 */
export interface DeployedCluster extends DeployedRedis {
  replicaPassword: string;
}

/** The secrets of a Sentinel group run as deployed: a Cluster's, plus the `sentinel` user (Sentinel's link to each data node). */
export interface DeployedGroup extends DeployedCluster {
  sentinelPassword: string;
}

/**
 * New random secrets for a deployed group or cluster (a cluster leaves `sentinelPassword`
 * unused): each password 64 hex characters, as `openssl rand -hex 32` makes them.
 */
export function randomSecrets(prefix = 'errand'): DeployedGroup {
  const secret = () => randomBytes(32).toString('hex');
  return {
    prefix,
    password: secret(),
    adminPassword: secret(),
    replicaPassword: secret(),
    sentinelPassword: secret(),
  };
}

/** What `entrypoint.sh sentinel` reads besides the password. */
export interface SentinelSettings {
  name: string;
  primaryPort: number;
  downAfterMs: number;
  failoverTimeoutMs: number;
}

/**
 * Write `<dir>/start.sh`, a launcher that `RedisServer` runs as its binary: it sets what
 * `deploy/redis/entrypoint.sh` reads from the environment, then runs the entrypoint with the
 * arguments `RedisServer` gives (port, address, data directory, `--replicaof`…). A data node
 * renders the shipped users and a redis.conf of its own (which CONFIG REWRITE may rewrite)
 * into `dir`, as one node of a Sentinel group. Returns the launcher's path.
 */
export function writeNodeLauncher(dir: string, secrets: DeployedGroup): Promise<string> {
  return writeLauncher(dir, 'node', {
    ...dataNodeEnv(dir, 'sentinel', secrets),
    ERRAND_REDIS_SENTINEL_PASSWORD: secrets.sentinelPassword,
  });
}

/**
 * The same for a node of a Redis Cluster (`ERRAND_REDIS_REPLICATION=cluster`): the shipped
 * users but `sentinel`, and the login to a master as `replica`. `RedisCluster` gives
 * `--cluster-enabled yes` and the rest as arguments.
 */
export function writeClusterNodeLauncher(dir: string, secrets: DeployedCluster): Promise<string> {
  return writeLauncher(dir, 'node', dataNodeEnv(dir, 'cluster', secrets));
}

/** What the entrypoint reads for a data node that replicates: users, prefix, where the ACL goes. */
function dataNodeEnv(dir: string, replication: 'sentinel' | 'cluster', secrets: DeployedCluster) {
  return {
    ERRAND_REDIS_REPLICATION: replication,
    ERRAND_REDIS_PASSWORD: secrets.password,
    ERRAND_REDIS_ADMIN_PASSWORD: secrets.adminPassword,
    ERRAND_REDIS_REPLICA_PASSWORD: secrets.replicaPassword,
    QUEUE_PREFIX: secrets.prefix,
    ERRAND_ACL_FILE: join(dir, 'users.acl'),
  };
}

/**
 * The same for a sentinel: `entrypoint.sh sentinel` renders the shipped sentinel.conf into
 * `<dir>/sentinel.conf`, the file `RedisServer` is given as `sentinelConfig` (and passes as the
 * first argument, which the launcher drops: the entrypoint names the file itself).
 */
export function writeSentinelLauncher(
  dir: string,
  secrets: DeployedGroup,
  settings: SentinelSettings,
): Promise<string> {
  return writeLauncher(dir, 'sentinel', {
    ERRAND_REDIS_SENTINEL_PASSWORD: secrets.sentinelPassword,
    ERRAND_SENTINEL_NAME: settings.name,
    ERRAND_SENTINEL_PRIMARY_HOST: '127.0.0.1',
    ERRAND_SENTINEL_PRIMARY_PORT: String(settings.primaryPort),
    ERRAND_SENTINEL_ANNOUNCE_HOST: '127.0.0.1',
    ERRAND_SENTINEL_DOWN_AFTER_MS: String(settings.downAfterMs),
    ERRAND_SENTINEL_FAILOVER_TIMEOUT_MS: String(settings.failoverTimeoutMs),
    ERRAND_SENTINEL_CONF: join(dir, 'sentinel.conf'),
  });
}

async function writeLauncher(
  dir: string,
  kind: 'node' | 'sentinel',
  env: Record<string, string>,
): Promise<string> {
  const exports = Object.entries(env).map(([name, value]) => `export ${name}=${shellWord(value)}`);
  const run =
    kind === 'node'
      ? `exec sh ${shellWord(DEPLOYED_REDIS_ENTRYPOINT)} "$@"`
      : `shift\nexec sh ${shellWord(DEPLOYED_REDIS_ENTRYPOINT)} sentinel "$@"`;
  const path = join(dir, 'start.sh');
  await writeFile(path, ['#!/bin/sh', ...exports, run, ''].join('\n'), { mode: 0o700 });
  await chmod(path, 0o700);
  return path;
}

/** A value as one single-quoted shell word. */
function shellWord(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** One command on a short-lived connection to a deployed data node, as `admin`. */
export const commandAsAdmin = (
  server: RedisServer,
  secrets: Pick<DeployedRedis, 'adminPassword'>,
  name: string,
  ...args: (string | number)[]
): Promise<unknown> =>
  commandOnce(
    { host: server.host, port: server.port, username: 'admin', password: secrets.adminPassword },
    name,
    ...args,
  );
