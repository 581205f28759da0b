import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { jobs, jobTypes } from '@errand/contract';
import { freePort } from '@errand/devservers';
import { PROBLEM_BASE } from '@errand/http';
import { closeQueues, openQueues, type Queues } from '@errand/queues';
import {
  type AppProcess,
  baseUrl,
  eventually,
  REPO_ROOT,
  startApp,
  startTestRedis,
  type TestRedis,
} from '@errand/testing';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type DashboardProcess,
  startDashboard,
  type TestUser,
  testUsers,
} from '../test/dashboard.testkit.ts';
import { dashboardProblems } from './problems.ts';

/**
 * The dashboard in a real browser: headless Chromium (Debian's `/usr/bin/chromium`, or the
 * binary named by CHROMIUM_PATH) against a dashboard process, a worker process and a Redis.
 * An image job fails for real (its source answers 500 once) and an operator retries it from
 * Bull Board's UI; a viewer sees the same page without buttons and is refused by the server.
 * Every request the page makes must stay on 127.0.0.1 (the page works offline), and no
 * Content-Security-Policy violation may happen.
 *
 * Writes `test-artifacts/dashboard-queue.png` (repo root) each run, and `docs/dashboard.png`
 * (the picture of README and docs/operating.md, naming no machine: `showNoMachine`) when UPDATE_SCREENSHOT=1.
 */
/** Where `name` is on the PATH, or undefined. */
function onPath(name: string): string | undefined {
  try {
    return (
      execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined
    );
  } catch {
    return undefined;
  }
}
const CHROMIUM = process.env.CHROMIUM_PATH || onPath('chromium') || '/usr/bin/chromium';
const UPDATE_SCREENSHOT = process.env.UPDATE_SCREENSHOT === '1';
const ARTIFACT = join(REPO_ROOT, 'test-artifacts', 'dashboard-queue.png');
const DOCS_SCREENSHOT = join(REPO_ROOT, 'docs', 'dashboard.png');

const PREFIX = 'board-browser';
const QUEUE = jobs.image.queue;
/** How long a locator waits for the page; the page is local, so it is quick or broken. */
const UI_MS = 10_000;
/** The menu of a queue's actions (pause, resume, empty, clean…), for those who may act. */
const QUEUE_MENU = 'button[aria-haspopup="menu"]:has(svg.lucide-ellipsis-vertical)';

let redis: TestRedis;
let connection: Redis;
let queues: Queues;
let dir: string;
let images: Server;
let worker: AppProcess;
let dashboard: DashboardProcess;
let url: string;
let browser: Browser;

/** The image source: `/flaky.png` answers 500 the first time, the rest a real PNG. */
const served = new Map<string, number>();
/** Jobs of the image queue: one that fails once, one that always fails, one that works. */
let flaky: Job;
let broken: Job;

/** What every page did that the test judges: where it went, what the CSP refused. */
const offLoopback: string[] = [];
const cspViolations: string[] = [];
const consoleErrors: string[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
  connection = new Redis(redis.url);
  queues = openQueues(connection, PREFIX);
  dir = await mkdtemp(join(tmpdir(), 'errand-board-browser-'));
  await writeFile(join(dir, 'schedules.yaml'), 'schedules: []\n');

  const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#36a' } })
    .png()
    .toBuffer();
  images = createServer((req, res) => {
    const path = req.url ?? '';
    const count = (served.get(path) ?? 0) + 1;
    served.set(path, count);
    if (path === '/broken.png' || (path === '/flaky.png' && count === 1)) {
      res.writeHead(500).end('not now');
    } else {
      res.writeHead(200, { 'content-type': 'image/png' }).end(png);
    }
  });
  await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', resolve));

  [dashboard, worker] = await Promise.all([
    startDashboard({ REDIS_URL: redis.url, QUEUE_PREFIX: PREFIX }),
    (async () => {
      const started = startApp('worker', {
        REDIS_URL: redis.url,
        QUEUE_PREFIX: PREFIX,
        WORKER_PORT: String(await freePort()),
        WORKER_QUEUES: 'image',
        IMAGE_FETCH_ALLOW_IPS: '127.0.0.1',
        STORAGE_DIR: join(dir, 'storage'),
        SCHEDULES_FILE: join(dir, 'schedules.yaml'),
      });
      await started.waitForLine('worker running');
      return started;
    })(),
  ]);
  url = dashboard.url;

  const ok = await addImageJob('/ok.png');
  flaky = await addImageJob('/flaky.png');
  broken = await addImageJob('/broken.png');
  await eventually(
    async () => {
      const states = await Promise.all([ok, flaky, broken].map((job) => job.getState()));
      return states.join() === 'completed,failed,failed' ? states : undefined;
    },
    { what: 'the image jobs settle: one completed, two failed' },
  );

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Chromium's sandbox refuses to run as root (CI containers); as anyone else it stays on.
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([dashboard?.stop(), worker?.stop()]);
  await closeQueues(queues);
  connection?.disconnect();
  images?.close();
  await redis?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** An image job of one try, its source a path of the test's image server. */
const addImageJob = (path: string) =>
  queues.image.add(
    'image',
    { source: { url: `${baseUrl(images)}${path}` }, outputs: [{ format: 'png', width: 4 }] },
    { attempts: 1 },
  );

const completed = (job: Job) => async () =>
  (await job.getState()) === 'completed' ? true : undefined;

/** Judged after each test, so each test names what its pages did wrong. */
afterEach(() => {
  const [away, refused, errors] = [[...offLoopback], [...cspViolations], [...consoleErrors]];
  offLoopback.length = cspViolations.length = consoleErrors.length = 0;
  expect(away, 'requests off 127.0.0.1').toEqual([]);
  expect(refused, 'CSP violations').toEqual([]);
  // The only errors the console may show are the refusals the tests provoke on purpose.
  expect(errors.filter((line) => !line.includes('status of 403'))).toEqual([]);
});

/** A job's link on a queue page: `#<id>` then its name, and no longer id. */
const jobLink = (page: Page, job: Job) =>
  page.getByRole('link', { name: new RegExp(`^#${job.id}(?!\\d)`) });

/** A tab of a queue page's status bar (links: "LATEST", "FAILED 2"…). */
const statusTab = (page: Page, status: string) =>
  page.getByRole('link', { name: new RegExp(`^${status}`, 'i') });

/** Runs in every page before its own scripts: each CSP violation goes to the test. */
const REPORT_CSP_VIOLATIONS = `document.addEventListener('securitypolicyviolation', (event) =>
  errandCspViolation(\`\${event.effectiveDirective} blocked \${event.blockedURI || '(inline)'} at \${event.sourceFile}:\${event.lineNumber} \${event.sample}\`));`;

/**
 * A fresh browser context that records every request (Playwright's events, and Chromium's
 * own through CDP: the browser fetches `/favicon.ico` by itself, unseen by `page.on`), the
 * page's console errors and its CSP violations.
 */
async function openPage(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const judge = (where: string) => {
    const { protocol, hostname } = new URL(where);
    if (['data:', 'blob:', 'about:'].includes(protocol)) return;
    if (hostname !== '127.0.0.1') offLoopback.push(where);
  };
  context.on('request', (request) => judge(request.url()));
  await context.exposeBinding('errandCspViolation', (_source, violation: string) => {
    cspViolations.push(violation);
  });
  await context.addInitScript({ content: REPORT_CSP_VIOLATIONS });
  const page = await context.newPage();
  page.setDefaultTimeout(UI_MS);
  page.on('websocket', (socket) => judge(socket.url()));
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(`${page.url()}: ${message.text()}`);
  });
  const cdp = await context.newCDPSession(page);
  cdp.on('Network.requestWillBeSent', ({ request }) => judge(request.url));
  await cdp.send('Network.enable');
  return { context, page };
}

/** Log in the way a person does: the login page, the two fields, the Sign in button. */
async function logInWithForm(page: Page, user: TestUser): Promise<void> {
  await page.goto(`${url}/`);
  expect(page.url()).toBe(`${url}/login`);
  await page.getByLabel('User').fill(user.name);
  await page.getByLabel('Password').fill(user.password ?? '');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const bar = page.getByText(`${user.name} · ${user.role}`, { exact: true });
  const refusal = page.getByRole('alert');
  await bar.or(refusal).first().waitFor();
  if (await refusal.isVisible()) {
    throw new Error(`the login form refused ${user.name}: ${await refusal.textContent()}`);
  }
  expect(page.url()).toBe(`${url}/`);
}

/** The image queue's failed jobs, reached by clicking: the queue, then the Failed tab. */
async function openFailedTab(page: Page): Promise<void> {
  await page.getByRole('complementary').getByRole('link', { name: QUEUE, exact: true }).click();
  await statusTab(page, 'failed').click();
  await page.waitForURL(`${url}/queue/${QUEUE}?status=failed`);
  await jobLink(page, flaky).waitFor();
  await jobLink(page, broken).waitFor();
}

/** The session cookie the browser holds, as a `cookie` header. */
async function sessionCookie(context: BrowserContext): Promise<string> {
  const cookie = (await context.cookies(url)).find((each) => each.name === 'errand_session');
  expect(cookie).toBeDefined();
  return `errand_session=${cookie?.value}`;
}

/** Log out through the bar; the browser lands on the login page. */
async function logOutWithBar(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForURL(`${url}/login`);
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
}

/**
 * For the README's picture: the page names no machine. The worker's name (`<host>:<pid>`,
 * shown as "by <host>:<pid>") reads `worker:<pid>`; the checkout's path in a stack reads
 * `/app`, the image's.
 */
async function showNoMachine(page: Page): Promise<void> {
  const workerName = new RegExp(`\\b${hostname().replaceAll('.', '\\.')}:(\\d+)`, 'g');
  await page.evaluate(`(() => {
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent;
      const neutral = text
        .replace(${workerName}, 'worker:$1')
        .replaceAll(${JSON.stringify(REPO_ROOT)}, '/app');
      if (neutral !== text) node.textContent = neutral;
    }
  })()`);
  const shown = (await page.locator('body').textContent()) ?? '';
  expect(shown).toMatch(/by worker:\d+/);
  expect(shown).not.toMatch(workerName);
  expect(shown).not.toContain(REPO_ROOT);
}

describe('the dashboard in Chromium', () => {
  it('shows a viewer the queues without a button to press, and refuses what they forge', async () => {
    const { context, page } = await openPage();
    try {
      await logInWithForm(page, testUsers.viewer);
      const main = page.getByRole('main');
      for (const type of jobTypes) {
        await main.getByRole('link', { name: jobs[type].queue, exact: true }).waitFor();
      }
      await expect(page.getByRole('link', { name: 'Audit log' }).count()).resolves.toBe(0);

      await openFailedTab(page);
      // Bull Board's read-only mode: no queue actions (their menu: pause, resume, empty,
      // clean…; an operator has it, below), no job actions (icon buttons).
      await expect(page.locator(QUEUE_MENU).count()).resolves.toBe(0);
      for (const icon of ['refresh-cw', 'trash-2', 'pencil', 'files']) {
        await expect(page.locator(`button:has(svg.lucide-${icon})`).count()).resolves.toBe(0);
      }

      // A retry forged from the page: board.js adds the CSRF token, so only the role refuses it.
      const sent = page.waitForRequest((request) => request.url().endsWith('/retry'));
      const forged = await page.evaluate(async (path) => {
        const response = await fetch(path, { method: 'PUT' });
        return { status: response.status, body: await response.text() };
      }, `api/queues/${QUEUE}/${flaky.id}/retry`);
      expect((await (await sent).allHeaders())['x-csrf-token']).toMatch(/^[\w-]{43}$/);
      expect(forged.status).toBe(403);
      expect(forged.body).toContain('needs the operator role');
      expect(await flaky.getState()).toBe('failed');
      expect(served.get('/flaky.png')).toBe(1);

      const cookie = await sessionCookie(context);
      await logOutWithBar(page);
      // the session ended on the server, not only in this browser
      const after = await fetch(`${url}/api/queues`, { headers: { cookie } });
      expect(after.status).toBe(401);
      await page.goto(`${url}/`);
      expect(page.url()).toBe(`${url}/login`);
    } finally {
      await context.close();
    }
  });

  it('lets an operator retry a failed job from the UI, and refuses a request without the token', async () => {
    const { context, page } = await openPage();
    try {
      await logInWithForm(page, testUsers.operator);
      await openFailedTab(page);

      const card = page.locator('[class^="card-"]').filter({ has: jobLink(page, flaky) });
      await page.locator(QUEUE_MENU).waitFor({ timeout: UI_MS }); // what the viewer lacks
      const retry = card.locator('button:has(svg.lucide-refresh-cw)');
      await retry.hover();
      await page.getByText('Retry', { exact: true }).waitFor(); // the icon's tooltip
      await retry.click();
      const confirm = page.getByRole('alertdialog');
      await confirm.getByText('Are you sure that you want to retry this job?').waitFor();
      await confirm.getByRole('button', { name: 'Confirm' }).click();
      await eventually(completed(flaky), { what: `job ${flaky.id} completes after the retry` });
      expect(served.get('/flaky.png')).toBe(2);
      // The failed tab loses the job; the completed tab shows it.
      await jobLink(page, flaky).waitFor({ state: 'detached' });
      await statusTab(page, 'completed').click();
      await jobLink(page, flaky).waitFor();

      // The same kind of request from outside the page: the session, our Origin, no token.
      const cookie = await sessionCookie(context);
      for (const token of [undefined, 'not-the-token']) {
        const response = await fetch(`${url}/api/queues/${QUEUE}/${broken.id}/retry`, {
          method: 'PUT',
          headers: { cookie, origin: url, ...(token ? { 'x-csrf-token': token } : {}) },
        });
        expect(response.status).toBe(403);
        expect(await response.json()).toMatchObject({ type: `${PROBLEM_BASE}csrf`, status: 403 });
      }
      expect(await broken.getState()).toBe('failed');
      expect(served.get('/broken.png')).toBe(1);

      // The picture of a queue, completed and failed jobs together. Bull Board shows the
      // newest first, and a retried job keeps its old error: one more plain success goes on top.
      const fresh = await addImageJob('/ok.png');
      await eventually(completed(fresh), { what: `job ${fresh.id} completes` });
      await statusTab(page, 'latest').click();
      await jobLink(page, fresh).waitFor();
      await jobLink(page, flaky).waitFor();
      const png = await page.screenshot();
      await mkdir(join(REPO_ROOT, 'test-artifacts'), { recursive: true });
      await writeFile(ARTIFACT, png);
      if (UPDATE_SCREENSHOT) {
        await showNoMachine(page);
        await mkdir(join(REPO_ROOT, 'docs'), { recursive: true });
        await writeFile(DOCS_SCREENSHOT, await page.screenshot());
      }

      await logOutWithBar(page);
    } finally {
      await context.close();
    }
  });

  it('shows the dashboard’s own refusals as Bull Board shows its errors', async () => {
    const { context, page } = await openPage();
    try {
      await logInWithForm(page, testUsers.operator);
      await page.getByRole('complementary').getByRole('link', { name: QUEUE, exact: true }).click();
      await statusTab(page, 'failed').click();
      await jobLink(page, broken).waitFor();

      // The session's token changes under the page: its next action fails the CSRF check.
      const id = (await sessionCookie(context)).split('=')[1] ?? '';
      const hash = createHash('sha256').update(id).digest('base64url');
      await connection.hset(`${PREFIX}:dashboard:session:${hash}`, 'csrf', 'x'.repeat(43));
      const card = page.locator('[class^="card-"]').filter({ has: jobLink(page, broken) });
      await card.locator('button:has(svg.lucide-refresh-cw)').click();
      await page.getByRole('alertdialog').getByRole('button', { name: 'Confirm' }).click();
      await page.getByText(dashboardProblems.csrf.title).waitFor();
      await page.getByText('the CSRF token does not match the session').waitFor();
      expect(await broken.getState()).toBe('failed');
      expect(served.get('/broken.png')).toBe(1);
    } finally {
      await context.close();
    }
  });
});
