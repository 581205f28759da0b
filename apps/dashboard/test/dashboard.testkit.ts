import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@errand/devservers';
import { type AppProcess, startApp } from '@errand/testing';
import { hashPassword } from '../src/auth/passwords.ts';
import type { Role } from '../src/auth/roles.ts';
import { type User, writeUsers } from '../src/auth/users.ts';

export interface TestUser {
  name: string;
  role: Role;
  /** undefined: a single-sign-on user, who has no password. */
  password?: string;
}

/** One user of each role, with passwords long enough for the users command. */
export const testUsers = {
  viewer: { name: 'vera', role: 'viewer', password: 'viewer-password-1' },
  operator: { name: 'otto', role: 'operator', password: 'operator-password-1' },
  admin: { name: 'ada', role: 'admin', password: 'admin-password-1' },
} as const satisfies Record<Role, TestUser>;

/** A users file in a temp dir of its own; `remove()` deletes the dir. */
export async function writeTestUsers(
  users: readonly TestUser[],
): Promise<{ path: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'errand-users-'));
  const path = join(dir, 'dashboard-users.yaml');
  const entries: User[] = await Promise.all(
    users.map(async ({ name, role, password }) => ({
      name,
      role,
      ...(password ? { password: await hashPassword(password) } : {}),
    })),
  );
  await writeUsers(path, entries);
  return { path, remove: () => rm(dir, { recursive: true, force: true }) };
}

export type DashboardProcess = AppProcess & { url: string; usersFile: string };

/**
 * A dashboard process on a free port with a users file of `users` (one per role unless
 * told otherwise), once it listens. `stop()` also deletes the users file it wrote.
 */
export async function startDashboard(
  env: Record<string, string>,
  users: readonly TestUser[] = Object.values(testUsers),
): Promise<DashboardProcess> {
  // a users file of the caller's own (DASHBOARD_USERS_FILE in env) is theirs to keep
  const given = env.DASHBOARD_USERS_FILE;
  const file = given ? { path: given, remove: async () => {} } : await writeTestUsers(users);
  const port = await freePort();
  const app = startApp('dashboard', {
    DASHBOARD_USERS_FILE: file.path,
    DASHBOARD_PORT: String(port),
    ...env,
  });
  try {
    await app.waitForLine('dashboard listening');
  } catch (error) {
    await file.remove();
    throw error;
  }
  const stop = app.stop;
  return Object.assign(app, {
    url: `http://127.0.0.1:${port}`,
    usersFile: file.path,
    async stop(signal?: NodeJS.Signals) {
      const code = await stop(signal);
      await file.remove();
      return code;
    },
  });
}

/** A logged-in browser, minus the browser: its session cookie and CSRF token. */
export interface Login {
  cookie: string;
  csrf: string;
  /** fetch with the session cookie, and for a state change the token and our Origin. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
}

const setCookie = (response: Response, name: string) =>
  response.headers
    .getSetCookie()
    .map((line) => line.split(';')[0] ?? '')
    .find((pair) => pair.startsWith(`${name}=`));

/** Log in through the login form, as a browser would, and read the token off the page. */
export async function logIn(
  url: string,
  user: { name: string; password?: string },
): Promise<Login> {
  const form = await fetch(`${url}/login`);
  const loginCookie = setCookie(form, 'errand_login') ?? '';
  const token = /name="csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
  const posted = await fetch(`${url}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      cookie: loginCookie,
      origin: url,
    },
    body: new URLSearchParams({ name: user.name, password: user.password ?? '', csrf: token }),
  });
  const cookie = setCookie(posted, 'errand_session');
  if (posted.status !== 303 || !cookie) {
    throw new Error(`login as ${user.name}: ${posted.status} ${await posted.text()}`);
  }
  return withSession(url, cookie);
}

/** A Login for a session cookie: reads the CSRF token from the board's page. */
export async function withSession(url: string, cookie: string): Promise<Login> {
  const page = await fetch(`${url}/`, { headers: { cookie } }).then((response) => response.text());
  const csrf = /<meta name="csrf-token" content="([^"]*)">/.exec(page)?.[1] ?? '';
  return {
    cookie,
    csrf,
    fetch(path, init = {}) {
      const headers = new Headers(init.headers);
      headers.set('cookie', cookie);
      if (init.method && init.method !== 'GET') {
        if (!headers.has('x-csrf-token')) headers.set('x-csrf-token', csrf);
        if (!headers.has('origin')) headers.set('origin', url);
      }
      return fetch(`${url}${path}`, { redirect: 'manual', ...init, headers });
    },
  };
}

/** What a raw request got back. */
export interface RawAnswer {
  status: number;
  sessionCookie: boolean;
  /** The methods an OPTIONS answer names. */
  allow: string | undefined;
  contentType: string | undefined;
  body: string;
}

/**
 * A request to the dashboard at `url` sent as written: node:http keeps `..`, `%2e` and odd
 * bytes that fetch would clean, and sends no `Sec-Fetch-Mode` of its own.
 */
export type RawCall = [
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string | Buffer,
];

export function rawRequest(url: string, ...[method, path, headers, body]: RawCall) {
  const { port } = new URL(url);
  return new Promise<RawAnswer>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (chunk) => {
        text += chunk;
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          sessionCookie: (res.headers['set-cookie'] ?? []).some((line) =>
            line.startsWith('errand_session='),
          ),
          allow: res.headers.allow,
          contentType: res.headers['content-type'],
          body: text.slice(0, 300),
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}
