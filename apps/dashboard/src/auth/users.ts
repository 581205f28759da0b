import { chmod, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { isPasswordHash } from './passwords.ts';
import { type Role, roles } from './roles.ts';

/** A user name: what logs and the audit log show, so plain and short. */
export const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/;

const User = z.strictObject({
  name: z.string().regex(USER_NAME, 'expected 1–64 of A-Z a-z 0-9 _ . @ -'),
  role: z.enum(roles),
  /** An scrypt hash; a user without one can only come in through the trusted proxy. */
  password: z
    .string()
    .refine(isPasswordHash, 'expected an scrypt hash written by `npm run dashboard:user`')
    .optional(),
});
export type User = z.output<typeof User>;

const UsersFile = z.strictObject({
  users: z
    .array(User)
    .refine(
      (users) => new Set(users.map((user) => user.name)).size === users.length,
      'a user name appears twice',
    ),
});

export class UsersFileError extends Error {
  override name = 'UsersFileError';
}

/** Read and check the users file; every problem names the file and the entry. */
export async function readUsers(path: string): Promise<User[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsersFileError(
      code === 'ENOENT'
        ? `${path}: no users file; add a user with \`npm run dashboard:user -- add NAME --role admin --password-stdin\``
        : `${path}: cannot read it (${code})`,
    );
  }
  let data: unknown;
  try {
    data = parse(text, { maxAliasCount: 10 }) ?? { users: [] };
  } catch (error) {
    throw new UsersFileError(`${path}: not valid YAML: ${(error as Error).message}`);
  }
  const result = UsersFile.safeParse(data);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => {
      const [, index, field] = issue.path;
      const name = typeof index === 'number' ? (data as UsersFileShape).users?.[index]?.name : '';
      const where =
        typeof index === 'number'
          ? `user ${JSON.stringify(name ?? index)}`
          : issue.path.join('.') || 'file';
      return `  - ${where}${field ? ` ${String(field)}` : ''}: ${issue.message}`;
    });
    throw new UsersFileError(`${path}: invalid users file\n${issues.join('\n')}`);
  }
  return result.data.users;
}
type UsersFileShape = { users?: { name?: string }[] };

/** Write the users file (owner read/write only), atomically: a reader sees the old or the new. */
export async function writeUsers(path: string, users: User[]): Promise<void> {
  const header =
    '# Dashboard users. Manage with `npm run dashboard:user -- add|remove|list`.\n' +
    '# Passwords are scrypt hashes; this file is still secret (keep it out of the repo).\n';
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, header + stringify({ users }), { mode: 0o600 });
  await chmod(temp, 0o600);
  await rename(temp, path);
}

/**
 * The users the dashboard knows, re-read when the file changes (checked at most once a
 * second), so `npm run dashboard:user` takes effect without a restart: a removed user's
 * sessions stop working, a changed role applies at the next request. A file that turns
 * invalid keeps the last good list (and says so through `onReloadError`); a file that is
 * gone leaves no user at all: deleting it locks everyone out rather than nobody.
 */
export async function openDirectory(
  path: string,
  onReloadError: (error: Error) => void,
): Promise<Directory> {
  const versionOf = () =>
    stat(path).then(
      (file) => `${file.ino}:${file.size}:${file.mtimeMs}`,
      () => 'gone',
    );
  let version = await versionOf();
  let users = byName(await readUsers(path));
  let checkedAt = Date.now();
  let reload: Promise<void> | undefined;
  const refresh = async () => {
    const now = await versionOf();
    if (now === version) return;
    version = now;
    try {
      users = byName(await readUsers(path));
    } catch (error) {
      if (now === 'gone') users = new Map();
      onReloadError(error as Error);
    }
  };
  return {
    async find(name) {
      if (Date.now() - checkedAt >= 1_000) {
        checkedAt = Date.now();
        reload ??= refresh().finally(() => {
          reload = undefined;
        });
        await reload;
      }
      return users.get(name);
    },
  };
}

export interface Directory {
  find(name: string): Promise<User | undefined>;
}

const byName = (users: User[]) => new Map(users.map((user) => [user.name, user]));

export type { Role };
