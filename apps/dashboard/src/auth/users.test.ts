import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '@errand/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from './passwords.ts';
import { readUsers } from './users.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'errand-users-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readUsers', () => {
  const hash =
    'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
  it.each([
    ['a missing file', null, /no users file; add a user with `npm run dashboard:user/],
    ['bad YAML', 'users: [', /not valid YAML/],
    [
      'a plain-text password',
      'users: [{ name: ada, role: admin, password: hunter2 }]',
      /user "ada" password: expected an scrypt hash/,
    ],
    [
      'a hash of an impossible cost',
      'users: [{ name: ada, role: admin, password: "scrypt$1000$0$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }]',
      /user "ada" password: expected an scrypt hash/,
    ],
    [
      'an unknown role',
      `users: [{ name: ada, role: root, password: "${hash}" }]`,
      /user "ada" role: /,
    ],
    [
      'a bad name',
      'users: [{ name: "<script>", role: admin }]',
      /user "<script>" name: expected 1–64/,
    ],
    [
      'a name twice',
      'users: [{ name: ada, role: admin }, { name: ada, role: viewer }]',
      /a user name appears twice/,
    ],
    [
      'an unknown key',
      'users: [{ name: ada, role: admin, isAdmin: true }]',
      /user "ada": Unrecognized key/,
    ],
    ['not a list', 'users: ada', /users: /],
  ])('names the file and the user for %s', async (_case, text, message) => {
    const path = join(dir, `case-${Math.random()}.yaml`);
    if (text !== null) await writeFile(path, text);
    const error = await readUsers(path).catch((caught: Error) => caught);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toMatch(message);
  });
});

describe('passwords', () => {
  it('verifies the password it hashed and nothing else, unicode normalised', async () => {
    const hash = await hashPassword('Grüße aus Köln');
    expect(await verifyPassword('Grüße aus Köln', hash)).toBe(true);
    expect(await verifyPassword('Gru\u0308ße aus Köln', hash)).toBe(true); // same text, decomposed
    expect(await verifyPassword('Grüße aus Koln', hash)).toBe(false);
    expect(await verifyPassword('x'.repeat(2_000), hash)).toBe(false);
    expect(await verifyPassword('Grüße aus Köln', hash.replace('32768', '2097152'))).toBe(false);
    expect(await verifyPassword('Grüße aus Köln', hash.replace('32768', '1000'))).toBe(false); // no throw
    expect(await verifyPassword('Grüße aus Köln', hash.replace('$8$', '$0$'))).toBe(false);
  });
});

/** `npm run dashboard:user`, as its own process, with `input` on stdin. */
function usersCommand(args: string[], input = '') {
  return new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(
      process.execPath,
      [join(REPO_ROOT, 'apps/dashboard/src/users-command.ts'), ...args],
      {
        env: { PATH: process.env.PATH ?? '', DASHBOARD_USERS_FILE: join(dir, 'cli.yaml') },
      },
    );
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk) => {
      out += chunk;
    });
    child.stdin.end(input);
    child.once('exit', (code) => resolve({ code, out }));
  });
}

describe('npm run dashboard:user', () => {
  it('adds, lists and removes users in a file only its owner can read', async () => {
    expect(
      await usersCommand(
        ['add', 'ada', '--role', 'admin', '--password-stdin'],
        'a long password\n',
      ),
    ).toMatchObject({ code: 0 });
    const made = await usersCommand(['add', 'vera', '--role', 'viewer']);
    expect(made.out).toMatch(/password: [A-Za-z0-9_-]{22} {3}\(shown once/);
    expect(await usersCommand(['add', 'sam', '--role', 'operator', '--sso'])).toMatchObject({
      code: 0,
    });
    expect((await usersCommand(['list'])).out).toBe(
      'ada\tadmin\tpassword\nvera\tviewer\tpassword\nsam\toperator\tsso only\n',
    );

    const users = await readUsers(join(dir, 'cli.yaml'));
    expect(await verifyPassword('a long password', users[0]?.password ?? '')).toBe(true);
    expect(JSON.stringify(users)).not.toContain('a long password');
    expect((await stat(join(dir, 'cli.yaml'))).mode & 0o777).toBe(0o600);

    expect(await usersCommand(['remove', 'vera'])).toMatchObject({ code: 0 });
    expect((await usersCommand(['list'])).out).not.toContain('vera');
  });

  it.each([
    [['add', 'ada', '--role', 'root']],
    [['add', 'a b', '--role', 'admin']],
    [['add', 'ada', '--role', 'admin', '--password-stdin', '--sso']],
    [['add', 'ada', '--role', 'admin', '--password-stdin', '--frob']],
    [['remove', 'nobody']],
    [['explode']],
  ])('refuses %j with a usage error (exit 2), changing nothing', async (args) => {
    const before = (await usersCommand(['list'])).out;
    const result = await usersCommand(args, 'short\n');
    expect(result.code).toBe(2);
    expect(result.out).toMatch(/^dashboard:user: /);
    expect((await usersCommand(['list'])).out).toBe(before);
  });

  it('refuses a password shorter than 12 characters', async () => {
    const result = await usersCommand(
      ['add', 'tiny', '--role', 'viewer', '--password-stdin'],
      'short\n',
    );
    expect(result).toMatchObject({ code: 2 });
    expect(result.out).toContain('the password must be 12 to 1024 characters');
  });
});
