import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DEPLOYED_REDIS_ENTRYPOINT } from '@errand/devservers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * deploy/redis/entrypoint.sh given bad settings: it must refuse to start Redis, say which
 * setting and why, and write no file. Given good ones, what it renders and hands to
 * redis-server, here a stand-in on PATH that prints its arguments: the one Redis, a node of a
 * Sentinel group, a node of a Cluster, a sentinel, and a sentinel started again on the file
 * Sentinel rewrote.
 * (Real redis-servers on these files: acl.test.ts, acl.sentinel.ha.test.ts for the group and
 * acl.cluster.ha.test.ts for the Cluster.)
 */

let dir: string;
let standIn: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'errand-entrypoint-'));
  standIn = join(dir, 'bin');
  await mkdir(standIn);
  await writeFile(join(standIn, 'redis-server'), '#!/bin/sh\nprintf "%s\\n" "$@"\n');
  await chmod(join(standIn, 'redis-server'), 0o755);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const GOOD = 'a'.repeat(32);
const SHIPPED = dirname(DEPLOYED_REDIS_ENTRYPOINT);
/** The entrypoint in a directory of its own, with only `env` and PATH (and the stand-in). */
async function start(args: string[], env: Record<string, string>, redisServer = false) {
  const out = await mkdtemp(join(dir, 'run-'));
  const path = `${redisServer ? `${standIn}:` : ''}${process.env.PATH ?? ''}`;
  const answer = spawnSync('sh', [DEPLOYED_REDIS_ENTRYPOINT, ...args], {
    env: {
      PATH: path,
      ERRAND_ACL_FILE: join(out, 'users.acl'),
      ERRAND_SENTINEL_CONF: join(out, 'sentinel.conf'),
      ...env,
    },
    encoding: 'utf8',
    timeout: 10_000,
  });
  const read = (name: string) => readFile(join(out, name), 'utf8');
  return { ...answer, out, read, args: answer.stdout.split('\n').filter(Boolean) };
}

const passwords = { ERRAND_REDIS_PASSWORD: GOOD, ERRAND_REDIS_ADMIN_PASSWORD: GOOD };
const group = {
  ...passwords,
  ERRAND_REDIS_REPLICATION: 'sentinel',
  ERRAND_REDIS_REPLICA_PASSWORD: 'r'.repeat(32),
  ERRAND_REDIS_SENTINEL_PASSWORD: 's'.repeat(32),
};
const sentinel = {
  ERRAND_REDIS_SENTINEL_PASSWORD: 's'.repeat(32),
  ERRAND_SENTINEL_PRIMARY_HOST: 'redis',
  ERRAND_SENTINEL_ANNOUNCE_HOST: 'sentinel-1',
};

const refused: [string, string[], Record<string, string>, RegExp][] = [
  [
    'no password for errand',
    [],
    { ERRAND_REDIS_ADMIN_PASSWORD: GOOD },
    /ERRAND_REDIS_PASSWORD is not set/,
  ],
  [
    'no admin password',
    [],
    { ERRAND_REDIS_PASSWORD: GOOD },
    /ERRAND_REDIS_ADMIN_PASSWORD is not set/,
  ],
  ['a short password', [], { ...passwords, ERRAND_REDIS_PASSWORD: 'short' }, /shorter than 16/],
  [
    'a "/" that would break REDIS_URL',
    [],
    { ...passwords, ERRAND_REDIS_PASSWORD: `${GOOD}/x` },
    /only letters, digits/,
  ],
  [
    'a space and an ACL rule in a password',
    [],
    { ...passwords, ERRAND_REDIS_PASSWORD: `${GOOD} +@all ~*` },
    /only letters, digits/,
  ],
  [
    'a newline and a second user',
    [],
    { ...passwords, ERRAND_REDIS_ADMIN_PASSWORD: `${GOOD}\nuser x on nopass +@all` },
    /only letters, digits/,
  ],
  [
    'a password with a trailing newline',
    [],
    { ...passwords, ERRAND_REDIS_PASSWORD: `${GOOD}\n` },
    /only letters, digits/,
  ],
  [
    'a prefix that widens the key pattern',
    [],
    { ...passwords, QUEUE_PREFIX: '*' },
    /QUEUE_PREFIX may hold only letters, digits and : _ -/,
  ],
  [
    'a prefix with braces, which would nest in the queues’ hash tags',
    [],
    { ...passwords, QUEUE_PREFIX: 'errand:{a}' },
    /QUEUE_PREFIX may hold only/,
  ],
  [
    'a replication it does not know',
    [],
    { ...passwords, ERRAND_REDIS_REPLICATION: 'replica' },
    /ERRAND_REDIS_REPLICATION may be sentinel, cluster or unset/,
  ],
  [
    'a node of a Cluster without the replica password',
    [],
    { ...passwords, ERRAND_REDIS_REPLICATION: 'cluster' },
    /ERRAND_REDIS_REPLICA_PASSWORD is not set/,
  ],
  [
    'a node of a Sentinel group without the replica password',
    [],
    { ...group, ERRAND_REDIS_REPLICA_PASSWORD: '' },
    /ERRAND_REDIS_REPLICA_PASSWORD is not set/,
  ],
  [
    'a node of a Sentinel group with a short sentinel password',
    [],
    { ...group, ERRAND_REDIS_SENTINEL_PASSWORD: 'short' },
    /ERRAND_REDIS_SENTINEL_PASSWORD is shorter than 16/,
  ],
  [
    'a sentinel without its password',
    ['sentinel'],
    { ...sentinel, ERRAND_REDIS_SENTINEL_PASSWORD: '' },
    /ERRAND_REDIS_SENTINEL_PASSWORD is not set/,
  ],
  [
    'a sentinel without the primary to watch',
    ['sentinel'],
    { ...sentinel, ERRAND_SENTINEL_PRIMARY_HOST: '' },
    /ERRAND_SENTINEL_PRIMARY_HOST must be a host name/,
  ],
  [
    'a sentinel given a second setting in a host name',
    ['sentinel'],
    { ...sentinel, ERRAND_SENTINEL_ANNOUNCE_HOST: 'sentinel-1\nsentinel deny-scripts-reconfig no' },
    /ERRAND_SENTINEL_ANNOUNCE_HOST must be a host name/,
  ],
  [
    'a sentinel given a duration in seconds',
    ['sentinel'],
    { ...sentinel, ERRAND_SENTINEL_DOWN_AFTER_MS: '5s' },
    /ERRAND_SENTINEL_DOWN_AFTER_MS must be a number/,
  ],
];

it.each(refused)('refuses %s, names it, and writes no file', async (_case, args, env, says) => {
  const answer = await start(args, env);
  expect(answer.status).toBe(64);
  expect(answer.stderr).toMatch(says);
  await expect(answer.read('users.acl')).rejects.toThrow(/ENOENT/);
  await expect(answer.read('sentinel.conf')).rejects.toThrow(/ENOENT/);
});

/** The user names of a rendered ACL file, in order. */
const userNames = (acl: string) => [...acl.matchAll(/^user (\S+) /gm)].map((m) => m[1]);

describe('what it renders', () => {
  it('the one Redis: default, errand and admin, and a configuration that includes the shipped one', async () => {
    const answer = await start(['--port', '0'], passwords, true);
    expect(answer.stderr).toBe('');
    expect(answer.args).toEqual([join(answer.out, 'redis.conf'), '--port', '0']);
    const acl = await answer.read('users.acl');
    expect(userNames(acl)).toEqual(['default', 'errand', 'admin']);
    expect(acl).not.toMatch(/#|\$\{/);
    expect(acl).toContain(`user errand on >${GOOD} resetkeys ~errand:* `);
    expect(await answer.read('redis.conf')).toBe(
      `include "${SHIPPED}/redis.conf"\nprotected-mode yes\naclfile "${join(answer.out, 'users.acl')}"\n`,
    );
  });

  it('a node of a Sentinel group: the replica and sentinel users too, and the replica’s login to its primary', async () => {
    const answer = await start([], group, true);
    expect(answer.stderr).toBe('');
    const acl = await answer.read('users.acl');
    expect(userNames(acl)).toEqual(['default', 'errand', 'admin', 'replica', 'sentinel']);
    expect(acl).toContain(`user replica on >${'r'.repeat(32)} resetkeys resetchannels -@all `);
    expect(acl).toContain(
      `user sentinel on >${'s'.repeat(32)} resetkeys resetchannels &__sentinel__:hello -@all `,
    );
    expect(await answer.read('redis.conf')).toContain(
      `\nmasteruser replica\nmasterauth ${'r'.repeat(32)}\n`,
    );
  });

  it('a node of a Cluster: the replica user and the login to a master, no sentinel user nor its password', async () => {
    const { ERRAND_REDIS_SENTINEL_PASSWORD: _, ...node } = group;
    const answer = await start(
      ['--cluster-enabled', 'yes'],
      { ...node, ERRAND_REDIS_REPLICATION: 'cluster' },
      true,
    );
    expect(answer.stderr).toBe('');
    expect(answer.args).toEqual([join(answer.out, 'redis.conf'), '--cluster-enabled', 'yes']);
    const acl = await answer.read('users.acl');
    expect(userNames(acl)).toEqual(['default', 'errand', 'admin', 'replica']);
    expect(await answer.read('redis.conf')).toContain(
      `\nmasteruser replica\nmasterauth ${'r'.repeat(32)}\n`,
    );
  });

  it('a sentinel: its file at the first start, and on a later one keeps what Sentinel wrote but the settings', async () => {
    const first = await start(['sentinel', '--port', '0'], sentinel, true);
    expect(first.stderr).toBe('');
    const conf = join(first.out, 'sentinel.conf');
    expect(first.args).toEqual([conf, '--sentinel', '--port', '0']);
    const written = await first.read('sentinel.conf');
    expect(written).not.toMatch(/#|\$\{/);
    for (const line of [
      'sentinel resolve-hostnames yes',
      'sentinel announce-ip sentinel-1',
      'sentinel monitor errand redis 6379 2',
      'sentinel down-after-milliseconds errand 5000',
      'sentinel failover-timeout errand 60000',
      'sentinel auth-user errand sentinel',
      `sentinel auth-pass errand ${'s'.repeat(32)}`,
    ]) {
      expect(written.split('\n')).toContain(line);
    }

    // What Sentinel rewrites after a failover: the new primary, and what it has learned.
    const learned = `${written.replace('monitor errand redis 6379', 'monitor errand redis-2 6379')}sentinel myid 0123abcd\nsentinel known-replica errand redis 6379\n`;
    await writeFile(conf, learned);
    const again = spawnSync('sh', [DEPLOYED_REDIS_ENTRYPOINT, 'sentinel'], {
      env: {
        PATH: `${standIn}:${process.env.PATH ?? ''}`,
        ...sentinel,
        ERRAND_REDIS_SENTINEL_PASSWORD: 't'.repeat(32),
        ERRAND_SENTINEL_DOWN_AFTER_MS: '7000',
        ERRAND_SENTINEL_CONF: conf,
      },
      encoding: 'utf8',
    });
    expect(again.stderr).toBe('');
    const lines = (await readFile(conf, 'utf8')).split('\n');
    expect(lines).toContain('sentinel monitor errand redis-2 6379 2');
    expect(lines).toContain('sentinel known-replica errand redis 6379');
    expect(lines).toContain('sentinel myid 0123abcd');
    expect(lines.filter((l) => l.startsWith('sentinel auth-pass '))).toEqual([
      `sentinel auth-pass errand ${'t'.repeat(32)}`,
    ]);
    expect(lines.filter((l) => l.startsWith('sentinel down-after-milliseconds '))).toEqual([
      'sentinel down-after-milliseconds errand 7000',
    ]);
  });
});
