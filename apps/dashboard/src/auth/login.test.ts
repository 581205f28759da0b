import { rm } from 'node:fs/promises';
import { get } from 'node:http';
import { eventually, startTestRedis, type TestRedis } from '@errand/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import {
  type DashboardProcess,
  logIn,
  startDashboard,
  testUsers,
  withSession,
  writeTestUsers,
} from '../../test/dashboard.testkit.ts';
import { hashPassword } from './passwords.ts';
import { readUsers, writeUsers } from './users.ts';

let redis: TestRedis;
let dashboard: DashboardProcess;
const env = () => ({
  REDIS_URL: redis.url,
  QUEUE_PREFIX: 'login',
  DASHBOARD_LOGIN_FAILURES_PER_USER: '3',
});

beforeAll(async () => {
  redis = await startTestRedis();
  dashboard = await startDashboard(env());
});
afterAll(async () => {
  await dashboard?.stop();
  await redis?.stop();
});

/** Post the login form as a browser would (form token, its cookie, our Origin). */
async function postLogin(
  url: string,
  name: string,
  password: string,
  headers: Record<string, string> = {},
) {
  const form = await fetch(`${url}/login`, { headers });
  const cookie = form.headers.getSetCookie()[0]?.split(';')[0] ?? '';
  const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
  return fetch(`${url}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      cookie,
      origin: url,
      ...headers,
    },
    body: new URLSearchParams({ name, password, csrf }),
  });
}

/** A GET as a browser sends it (fetch would set its own Sec-Fetch-Mode). */
function navigate(url: string, mode = 'navigate') {
  return new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
    get(url, { headers: { accept: 'text/html', 'sec-fetch-mode': mode } }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, location: res.headers.location });
    }).on('error', reject);
  });
}

const sessionCookieOf = (response: Response) =>
  response.headers.getSetCookie().find((line) => line.startsWith('errand_session='));

describe('login', () => {
  it('sends a visitor without a session to the login page, and the API answers 401', async () => {
    const page = await navigate(`${dashboard.url}/queue/email`);
    expect([page.status, page.location]).toEqual([303, '/login']);
    // a browser's own fetch (a favicon, a script) is no navigation: no redirect
    expect((await navigate(`${dashboard.url}/static/x.png`, 'no-cors')).status).toBe(401);
    const api = await fetch(`${dashboard.url}/api/queues`);
    expect(api.status).toBe(401);
    const form = await fetch(`${dashboard.url}/login`);
    const html = await form.text();
    expect(html).toContain('<form method="post" action="login">');
    expect(html).not.toMatch(/https?:\/\//); // nothing from elsewhere
  });

  it('sets an HttpOnly, SameSite=Strict session cookie on a good password, and none on a bad one', async () => {
    const good = await postLogin(
      dashboard.url,
      testUsers.operator.name,
      testUsers.operator.password,
    );
    expect([good.status, good.headers.get('location')]).toEqual([303, './']);
    const cookie = sessionCookieOf(good) ?? '';
    expect(cookie).toMatch(
      /^errand_session=[A-Za-z0-9_-]{43}; Max-Age=43200; Path=\/; Expires=.*; HttpOnly; SameSite=Strict$/,
    );
    expect(cookie).not.toContain('Secure'); // plain http, no TLS proxy

    for (const [name, password] of [
      [testUsers.operator.name, 'wrong-password-1'],
      ['nobody', 'any-password-12'],
    ] as const) {
      const bad = await postLogin(dashboard.url, name, password);
      expect(bad.status).toBe(401);
      expect(sessionCookieOf(bad)).toBeUndefined();
      expect(await bad.text()).toContain('Wrong user name or password.');
    }
    await dashboard.waitForLine('"user":"otto","ip":"127.0.0.1","msg":"login failed"', 5_000);
  });

  it('logs a failed login of a name no user has without the name: people type their password there', async () => {
    // one a user name could be, one it could not (spaces): neither is looked up, neither logged
    for (const typed of ['Tr0ub4dor-and-3', 'correct horse battery staple']) {
      const from = dashboard.output().length;
      const failed = await postLogin(dashboard.url, typed, 'any-password-12');
      expect(failed.status).toBe(401);
      const logged = await eventually(() => {
        const lines = dashboard.output().slice(from);
        return lines.includes('"msg":"audit: login by -: denied"') ? lines : undefined;
      });
      expect(logged).toContain('"user":null,"ip":"127.0.0.1","msg":"login failed"');
      expect(logged.toLowerCase()).not.toContain(typed.toLowerCase());
    }
    // nor kept in Redis, where the failure limit counts it
    const client = new Redis(redis.url);
    onTestFinished(() => client.disconnect());
    const keys = (await client.keys('*')).join('\n').toLowerCase();
    expect(keys).toContain('login-attempts:user');
    expect(keys).not.toContain('tr0ub4dor');
  });

  it('refuses a user after 3 failed logins, even with the right password, while others still log in', async () => {
    const { name, password } = testUsers.admin;
    // at once, so that every guess is in flight before any is checked
    const guesses = await Promise.all(
      Array.from({ length: 10 }, () => postLogin(dashboard.url, name, 'not-it-at-all')),
    );
    expect(guesses.map((guess) => guess.status).sort()).toEqual([
      ...Array(3).fill(401),
      ...Array(7).fill(429),
    ]);
    const blocked = await postLogin(dashboard.url, name, password);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(800);
    expect(sessionCookieOf(blocked)).toBeUndefined();
    await dashboard.waitForLine('login refused: too many attempts', 5_000);
    expect(
      (await postLogin(dashboard.url, testUsers.viewer.name, testUsers.viewer.password)).status,
    ).toBe(303);
  });

  it('keeps sessions in Redis: a restarted dashboard knows them; logout ends them', async () => {
    const login = await logIn(dashboard.url, testUsers.viewer);
    expect((await login.fetch('/api/queues')).status).toBe(200);
    // the same users (a new file would hash the passwords anew: a new password ends sessions)
    const users = await readUsers(dashboard.usersFile);
    await dashboard.stop();
    const kept = await writeTestUsers([]);
    await writeUsers(kept.path, users);
    dashboard = await startDashboard({ ...env(), DASHBOARD_USERS_FILE: kept.path });
    onTestFinished(async () => {
      await dashboard.stop();
      dashboard = await startDashboard(env());
      await kept.remove();
    });
    const again = await withSession(dashboard.url, login.cookie);
    expect(again.csrf).toBe(login.csrf);
    expect((await again.fetch('/api/queues')).status).toBe(200);

    const out = await again.fetch('/logout', { method: 'POST' });
    expect([out.status, out.headers.get('location')]).toEqual([303, 'login']);
    expect((await again.fetch('/api/queues')).status).toBe(401);
  });

  it('applies a change of the users file at the next request: a new role, a removed user', async () => {
    const login = await logIn(dashboard.url, testUsers.operator);
    const pause = () => login.fetch('/api/queues/email/pause', { method: 'PUT' });
    expect((await pause()).status).toBe(200);
    const users = await readUsers(dashboard.usersFile);
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // the file is checked once a second
    await writeUsers(
      dashboard.usersFile,
      users.map((user) => (user.name === 'otto' ? { ...user, role: 'viewer' } : user)),
    );
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await pause()).status).toBe(403);
    await writeUsers(
      dashboard.usersFile,
      users.filter((user) => user.name !== 'otto'),
    );
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await login.fetch('/api/queues')).status).toBe(401);
    await writeUsers(dashboard.usersFile, users);
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // read back before the next test
  });

  it('ends the sessions of a user whose password changed, and everyone’s when the file is gone', async () => {
    const vera = await logIn(dashboard.url, testUsers.viewer);
    const otto = await logIn(dashboard.url, testUsers.operator);
    const users = await readUsers(dashboard.usersFile);
    const newHash = await hashPassword('a brand new password');
    const changed = users.map((user) =>
      user.name === 'vera' ? { ...user, password: newHash } : user,
    );
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await writeUsers(dashboard.usersFile, changed);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await vera.fetch('/api/queues')).status).toBe(401);
    expect((await otto.fetch('/api/queues')).status).toBe(200);
    await rm(dashboard.usersFile);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await otto.fetch('/api/queues')).status).toBe(401);
    await writeUsers(dashboard.usersFile, users);
  });
});

describe('behind a trusted proxy', () => {
  it('marks the cookie Secure over TLS, and takes the user from the proxy header (single sign-on)', async () => {
    const behind = await startDashboard({
      ...env(),
      QUEUE_PREFIX: 'login-sso',
      DASHBOARD_TRUSTED_PROXIES: '127.0.0.1',
      DASHBOARD_TRUSTED_PROXY_HEADER: 'X-Forwarded-User',
    });
    try {
      const tls = { 'x-forwarded-proto': 'https' };
      const https = behind.url.replace('http:', 'https:');
      const form = await fetch(`${behind.url}/login`, { headers: tls });
      expect(form.headers.getSetCookie()[0]).toContain('; Secure');

      const sso = await fetch(`${behind.url}/api/queues`, {
        headers: { ...tls, 'x-forwarded-user': 'otto' },
      });
      expect(sso.status).toBe(200);
      const cookie = sessionCookieOf(sso) ?? '';
      expect(cookie).toContain('; Secure');
      const page = await fetch(`${behind.url}/`, {
        headers: { ...tls, 'x-forwarded-user': 'otto', cookie: cookie.split(';')[0] ?? '' },
      }).then((response) => response.text());
      const csrf = /<meta name="csrf-token" content="([^"]*)">/.exec(page)?.[1] ?? '';
      expect(page).toContain('<meta name="errand-role" content="operator">');
      const pause = await fetch(`${behind.url}/api/queues/email/pause`, {
        method: 'PUT',
        headers: {
          ...tls,
          'x-forwarded-user': 'otto',
          'x-forwarded-for': '203.0.113.9',
          origin: https,
          'x-csrf-token': csrf,
          cookie: cookie.split(';')[0] ?? '',
        },
      });
      expect(pause.status).toBe(200);
      await behind.waitForLine('"msg":"audit: pause-queue by otto: ok"', 5_000);
      expect(behind.output()).toMatch(/"action":"pause-queue".*"ip":"203\.0\.113\.9"/);

      const stranger = await fetch(`${behind.url}/api/queues`, {
        headers: { 'x-forwarded-user': 'mallory' },
      });
      expect(stranger.status).toBe(401);
    } finally {
      await behind.stop();
    }
  });

  it('ignores the user header from anywhere but the configured proxies', async () => {
    const elsewhere = await startDashboard({
      ...env(),
      DASHBOARD_TRUSTED_PROXIES: '10.9.8.7',
      DASHBOARD_TRUSTED_PROXY_HEADER: 'X-Forwarded-User',
    });
    try {
      const forged = await fetch(`${elsewhere.url}/api/queues`, {
        headers: { 'x-forwarded-user': 'ada' },
      });
      expect(forged.status).toBe(401);
    } finally {
      await elsewhere.stop();
    }
  });
});
