import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEPLOYED_REDIS_ENTRYPOINT } from '@errand/devservers';
import { afterAll, beforeAll, expect, it } from 'vitest';

/**
 * deploy/redis/entrypoint.sh given bad settings: it must refuse to start Redis, say which
 * setting and why, and write no ACL file. (Good settings: acl.test.ts starts Redis with it.)
 */

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'errand-entrypoint-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const GOOD = 'a'.repeat(32);
const start = (env: Record<string, string>) =>
  spawnSync('sh', [DEPLOYED_REDIS_ENTRYPOINT, '--port', '0'], {
    env: { PATH: process.env.PATH ?? '', ERRAND_ACL_FILE: join(dir, 'users.acl'), ...env },
    encoding: 'utf8',
    timeout: 10_000,
  });

const refused: [string, Record<string, string>, RegExp][] = [
  [
    'no password for errand',
    { ERRAND_REDIS_ADMIN_PASSWORD: GOOD },
    /ERRAND_REDIS_PASSWORD is not set/,
  ],
  ['no admin password', { ERRAND_REDIS_PASSWORD: GOOD }, /ERRAND_REDIS_ADMIN_PASSWORD is not set/],
  [
    'a short password',
    { ERRAND_REDIS_PASSWORD: 'short', ERRAND_REDIS_ADMIN_PASSWORD: GOOD },
    /shorter than 16/,
  ],
  [
    'a "/" that would break REDIS_URL',
    { ERRAND_REDIS_PASSWORD: `${GOOD}/x`, ERRAND_REDIS_ADMIN_PASSWORD: GOOD },
    /only letters, digits/,
  ],
  [
    'a space and an ACL rule in a password',
    { ERRAND_REDIS_PASSWORD: `${GOOD} +@all ~*`, ERRAND_REDIS_ADMIN_PASSWORD: GOOD },
    /only letters, digits/,
  ],
  [
    'a newline and a second user',
    { ERRAND_REDIS_PASSWORD: GOOD, ERRAND_REDIS_ADMIN_PASSWORD: `${GOOD}\nuser x on nopass +@all` },
    /only letters, digits/,
  ],
  [
    'a password with a trailing newline',
    { ERRAND_REDIS_PASSWORD: `${GOOD}\n`, ERRAND_REDIS_ADMIN_PASSWORD: GOOD },
    /only letters, digits/,
  ],
  [
    'a prefix that widens the key pattern',
    { ERRAND_REDIS_PASSWORD: GOOD, ERRAND_REDIS_ADMIN_PASSWORD: GOOD, QUEUE_PREFIX: '*' },
    /QUEUE_PREFIX may hold only/,
  ],
];

it.each(refused)('refuses %s, names it, and writes no ACL file', async (_case, env, says) => {
  const answer = start(env);
  expect(answer.status).toBe(64);
  expect(answer.stderr).toMatch(says);
  await expect(readFile(join(dir, 'users.acl'))).rejects.toThrow(/ENOENT/);
});
