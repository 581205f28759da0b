import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { baseUrl } from '@errand/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FetchRefusedError,
  FetchTimeoutError,
  type SafeRequestInit,
  safeRequest,
} from './safe-request.ts';

const TEN_MB = 10 * 1024 * 1024;

/** Echoes what it got as JSON; `?status=` sets the status, `/redirect?status=&to=` redirects. */
function handle(request: IncomingMessage, response: ServerResponse) {
  const url = new URL(request.url ?? '/', 'http://x');
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const status = Number(url.searchParams.get('status') ?? 200);
    if (url.pathname === '/redirect') {
      response.writeHead(status, { location: url.searchParams.get('to') ?? '/' }).end('moved');
    } else if (url.pathname === '/big') {
      response.writeHead(200, { 'content-length': TEN_MB }).end(Buffer.alloc(TEN_MB, 'a'));
    } else if (url.pathname === '/big-chunked') {
      response.writeHead(200);
      for (let i = 0; i < 10; i++) response.write(Buffer.alloc(1024 * 1024, 'b'));
      response.end();
    } else if (url.pathname === '/stall') {
      response.writeHead(200).write('partial'); // and never ends
    } else if (url.pathname === '/silent') {
      // never answers
    } else {
      const body = Buffer.concat(chunks).toString();
      response.writeHead(status, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          method: request.method,
          path: url.pathname,
          headers: request.headers,
          body,
        }),
      );
    }
  });
}

let one: Server;
let other: Server; // another origin (another port)
let a: string;
let b: string;
beforeAll(async () => {
  one = createServer(handle);
  other = createServer(handle);
  await Promise.all([one, other].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
  a = baseUrl(one);
  b = baseUrl(other);
});
afterAll(() => {
  for (const s of [one, other]) {
    s.closeAllConnections();
    s.close();
  }
});

const base = { maxBytes: 1024 * 1024, timeoutMs: 5_000, allowIPAddressList: ['127.0.0.1'] };
const send = (url: string, init: Partial<SafeRequestInit> = {}) =>
  safeRequest(url, { method: 'GET', ...base, ...init });
const json = (response: { body: Buffer }) => JSON.parse(response.body.toString());

describe('safeRequest', () => {
  it.each(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const)('sends a %s', async (method) => {
    const response = await send(`${a}/echo`, { method });
    expect(response.status).toBe(200);
    expect(json(response)).toMatchObject({ method, path: '/echo' });
    expect(response).toMatchObject({ truncated: false, redirects: 0, url: `${a}/echo` });
    expect(response.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('sends a HEAD and reads no body', async () => {
    const response = await send(`${a}/echo`, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.body).toHaveLength(0);
  });

  it('delivers a POST body with its headers and a content-length', async () => {
    const body = JSON.stringify({ hello: 'wörld' });
    const response = await send(`${a}/echo`, {
      method: 'POST',
      body,
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer t' },
    });
    const seen = json(response);
    expect(seen.body).toBe(body);
    expect(seen.headers).toMatchObject({
      'content-type': 'application/json',
      authorization: 'Bearer t',
      'content-length': String(Buffer.byteLength(body)),
    });
    expect(seen.headers['transfer-encoding']).toBeUndefined();
  });

  it.each([201, 404, 500, 503])('returns a %i as it is', async (status) => {
    const response = await send(`${a}/echo?status=${status}`, { method: 'POST', body: 'x' });
    expect(response.status).toBe(status);
    expect(json(response).body).toBe('x');
  });

  it('refuses a 10 MB body over the limit, declared or chunked', async () => {
    await expect(send(`${a}/big`)).rejects.toThrow(/over the 1048576-byte limit/);
    await expect(send(`${a}/big-chunked`)).rejects.toBeInstanceOf(FetchRefusedError);
  });

  it('truncates a 10 MB body to the limit when asked', async () => {
    for (const path of ['/big', '/big-chunked']) {
      const response = await send(`${a}${path}`, { overLimit: 'truncate', maxBytes: 1000 });
      expect(response.truncated).toBe(true);
      expect(response.body).toHaveLength(1000);
    }
  });

  it('times out with a TimeoutError, before the headers or in the body', async () => {
    for (const path of ['/silent', '/stall']) {
      const started = Date.now();
      const error = await send(`${a}${path}`, { timeoutMs: 200 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FetchTimeoutError);
      expect(error).toMatchObject({ name: 'TimeoutError' });
      expect(Date.now() - started).toBeLessThan(2_000);
    }
  });

  it('stops on the caller’s abort with its reason', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('shutting down')), 100);
    await expect(send(`${a}/silent`, { signal: controller.signal })).rejects.toThrow(
      'shutting down',
    );
  });
});

describe('safeRequest redirects', () => {
  const to = (status: number, target: string) =>
    `${a}/redirect?status=${status}&to=${encodeURIComponent(target)}`;

  it.each([307, 308])('follows a %i with the same method and body', async (status) => {
    const response = await send(to(status, '/landed'), { method: 'POST', body: 'payload' });
    expect(json(response)).toMatchObject({ method: 'POST', path: '/landed', body: 'payload' });
    expect(response).toMatchObject({ redirects: 1, url: `${a}/landed` });
  });

  it.each([301, 302, 303])('returns a %i to a POST without following it', async (status) => {
    const response = await send(to(status, '/landed'), { method: 'POST', body: 'payload' });
    expect(response.status).toBe(status);
    expect(response.headers.location).toBe('/landed');
    expect(response.redirects).toBe(0);
  });

  it.each([301, 302, 303])('follows a %i on a GET', async (status) => {
    const response = await send(to(status, '/landed'));
    expect(json(response)).toMatchObject({ method: 'GET', path: '/landed' });
    expect(response.redirects).toBe(1);
  });

  it('keeps the caller’s headers on the same origin and drops them on another', async () => {
    const headers = {
      Authorization: 'Bearer t',
      'webhook-signature': 'v1,x',
      'content-type': 'text/plain',
    };
    const same = json(await send(to(307, '/landed'), { method: 'POST', body: 'p', headers }));
    expect(same.headers).toMatchObject({ authorization: 'Bearer t', 'webhook-signature': 'v1,x' });
    const cross = await send(to(307, `${b}/landed`), { method: 'POST', body: 'p', headers });
    expect(cross.url).toBe(`${b}/landed`);
    const seen = json(cross);
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.headers['webhook-signature']).toBeUndefined();
    expect(seen).toMatchObject({ body: 'p', headers: { 'content-type': 'text/plain' } });
    const get = json(await send(to(302, `${b}/landed`), { headers }));
    expect(get.headers.authorization).toBeUndefined();
  });

  it('refuses more than maxRedirects', async () => {
    const chain = to(302, to(302, '/landed'));
    await expect(send(chain, { maxRedirects: 1 })).rejects.toThrow(/more than 1 redirects/);
    expect((await send(chain, { maxRedirects: 2 })).redirects).toBe(2);
  });
});
