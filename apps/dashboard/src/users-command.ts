/**
 * `npm run dashboard:user -- <command>`: manage the dashboard's users file.
 *   add NAME --role viewer|operator|admin [--password-stdin | --sso]
 *       add or replace a user. With --password-stdin the password is the first line of
 *       stdin; with --sso the user has no password and comes in through the trusted proxy
 *       only; with neither, a random password is made and printed once.
 *   remove NAME
 *   list
 * The file is DASHBOARD_USERS_FILE (default config/dashboard-users.yaml), written 0600.
 */
import { parseArgs } from 'node:util';
import {
  hashPassword,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  randomPassword,
} from './auth/passwords.ts';
import { type Role, roles } from './auth/roles.ts';
import { readUsers, USER_NAME, type User, UsersFileError, writeUsers } from './auth/users.ts';
import { loadUsersFileEnv } from './env.ts';

class UsageError extends Error {}

const say = (line: string) => process.stdout.write(`${line}\n`);

async function readStdinLine(): Promise<string> {
  if (process.stdin.isTTY) {
    throw new UsageError("--password-stdin reads a pipe, not a terminal: echo '…' | npm run …");
  }
  process.stdin.setEncoding('utf8');
  let text = '';
  for await (const chunk of process.stdin) {
    text += chunk;
    if (text.includes('\n') || text.length > MAX_PASSWORD_LENGTH + 2) break;
  }
  return text.split(/\r?\n/)[0] ?? '';
}

async function existing(path: string): Promise<User[]> {
  try {
    return await readUsers(path);
  } catch (error) {
    if (error instanceof UsersFileError && error.message.includes('no users file')) return [];
    throw error;
  }
}

async function add(path: string, name: string | undefined, flags: Record<string, unknown>) {
  if (!name || !USER_NAME.test(name)) {
    throw new UsageError(
      'add: NAME must be 1–64 of A-Z a-z 0-9 _ . @ - (starting with a letter or digit)',
    );
  }
  const role = flags.role as string | undefined;
  if (!roles.includes(role as Role))
    throw new UsageError(`add: --role must be one of ${roles.join(', ')}`);
  if (flags['password-stdin'] && flags.sso)
    throw new UsageError('add: --password-stdin or --sso, not both');
  let password: string | undefined;
  let printed = false;
  if (flags['password-stdin']) {
    password = await readStdinLine();
    if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
      throw new UsageError(
        `add: the password must be ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`,
      );
    }
  } else if (!flags.sso) {
    password = randomPassword();
    printed = true;
  }
  const user: User = {
    name,
    role: role as Role,
    ...(password ? { password: await hashPassword(password) } : {}),
  };
  const users = (await existing(path)).filter((other) => other.name !== name);
  await writeUsers(path, [...users, user]);
  say(`${name} (${role}) saved in ${path}`);
  if (printed) say(`password: ${password}   (shown once; not stored anywhere in plain text)`);
}

async function main(argv: string[]) {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      role: { type: 'string' },
      'password-stdin': { type: 'boolean' },
      sso: { type: 'boolean' },
    },
  });
  const [command, name, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  const path = loadUsersFileEnv(process.env).DASHBOARD_USERS_FILE;
  if (command === 'add') return add(path, name, values);
  if (command === 'remove') {
    const users = await readUsers(path);
    if (!users.some((user) => user.name === name))
      throw new UsageError(`remove: no user ${JSON.stringify(name)} in ${path}`);
    await writeUsers(
      path,
      users.filter((user) => user.name !== name),
    );
    return say(`${name} removed from ${path}; their sessions end at their next request`);
  }
  if (command === 'list') {
    for (const user of await existing(path)) {
      say(`${user.name}\t${user.role}\t${user.password ? 'password' : 'sso only'}`);
    }
    return;
  }
  throw new UsageError(
    'usage: dashboard:user -- add NAME --role viewer|operator|admin [--password-stdin | --sso] | remove NAME | list',
  );
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(
    `dashboard:user: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  const usage =
    error instanceof UsageError ||
    String((error as { code?: string }).code).startsWith('ERR_PARSE_ARGS');
  process.exitCode = usage ? 2 : 1;
}
