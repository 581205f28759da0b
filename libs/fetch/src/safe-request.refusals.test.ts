import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { baseUrl } from '@errand/testing';
import { useAgent } from 'request-filtering-agent';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FetchRefusedError, type SafeRequestInit, safeRequest } from './safe-request.ts';

// Serves on 127.0.0.1 (allowed below), and redirects `/to?url=` wherever a test says.
let server: Server;
let served = 0;
let origin: string;
let port: number;
beforeAll(async () => {
  server = createServer((request, response) => {
    served++;
    const url = new URL(request.url ?? '/', 'http://x');
    const to = url.searchParams.get('url');
    if (to) response.writeHead(302, { location: to }).end();
    else response.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = baseUrl(server);
  port = (server.address() as AddressInfo).port;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const send = (url: string, init: Partial<SafeRequestInit> = {}) =>
  safeRequest(url, { method: 'GET', maxBytes: 1024, timeoutMs: 2_000, ...init });
const allowed = { allowIPAddressList: ['127.0.0.1'] };
const via = (target: string) => `${origin}/to?url=${encodeURIComponent(target)}`;

describe('safeRequest refuses before connecting', () => {
  it.each([
    ['a file URL', () => 'file:///etc/passwd'],
    ['a gopher URL', () => 'gopher://127.0.0.1:70/'],
    ['a data URL', () => 'data:text/plain,hi'],
    ['userinfo in the URL', () => `http://user:pw@127.0.0.1:${port}/`],
    ['IPv6 loopback', () => `http://[::1]:${port}/`],
    ['IPv4-mapped IPv6 loopback', () => `http://[::ffff:127.0.0.1]:${port}/`],
    ['a name that resolves to loopback', () => `http://localhost:${port}/`],
    ['loopback itself', () => `http://127.0.0.1:${port}/`],
    ['the metadata address', () => 'http://169.254.169.254/latest/meta-data/'],
    ['a private address', () => 'http://10.0.0.1/'],
    ['an IPv6 unique-local address', () => 'http://[fd00::1]/'],
    ['an IPv6 link-local address', () => 'http://[fe80::1]/'],
    ['the unspecified address', () => `http://0.0.0.0:${port}/`],
  ])('%s', async (_, url) => {
    await expect(send(url())).rejects.toBeInstanceOf(FetchRefusedError);
    expect(served).toBe(0);
  });

  it('allows loopback only as listed, and not its IPv6 spellings', async () => {
    expect((await send(`${origin}/`, allowed)).status).toBe(200);
    await expect(send(`http://[::ffff:127.0.0.1]:${port}/`, allowed)).rejects.toThrow(
      FetchRefusedError,
    );
    await expect(send(`http://[::1]:${port}/`, allowed)).rejects.toThrow(FetchRefusedError);
  });

  it.each([
    ['IPv6 loopback', () => `http://[::1]:${port}/`],
    ['IPv4-mapped IPv6', () => `http://[::ffff:127.0.0.1]:${port}/`],
    ['a private address', () => 'http://10.0.0.1/'],
    ['the metadata address', () => 'http://169.254.169.254/'],
    ['a file URL', () => 'file:///etc/passwd'],
  ])('a redirect from an allowed server to %s', async (_, target) => {
    const before = served;
    await expect(send(via(target()), allowed)).rejects.toBeInstanceOf(FetchRefusedError);
    expect(served).toBe(before + 1); // the first hop only
  });

  it('asks allowUrl about every hop', async () => {
    const asked: string[] = [];
    const allowUrl = (url: URL) => {
      asked.push(url.pathname);
      return url.pathname === '/forbidden' ? 'not on the allow-list' : undefined;
    };
    await expect(send(via('/forbidden'), { ...allowed, allowUrl })).rejects.toThrow(
      /\/forbidden: not on the allow-list/,
    );
    expect(asked).toEqual(['/to', '/forbidden']);
    await expect(send(`${origin}/forbidden`, { ...allowed, allowUrl })).rejects.toThrow(
      FetchRefusedError,
    );
  });
});

describe('safeRequest refuses unsafe headers', () => {
  it.each([
    ['CRLF in a value', { 'X-A': 'b\r\nX-B: c' }],
    ['LF in a value', { 'X-A': 'b\nX-B: c' }],
    ['NUL in a value', { 'X-A': 'b\0' }],
    ['CRLF in a name', { 'X-A\r\nX-B': 'c' }],
    ['a space in a name', { 'X A': 'c' }],
    ['an empty name', { '': 'c' }],
    ['Host', { Host: 'internal' }],
    ['Content-Length', { 'Content-Length': '0' }],
    ['Transfer-Encoding', { 'Transfer-Encoding': 'chunked' }],
    ['Connection', { connection: 'close' }],
    ['Upgrade', { Upgrade: 'websocket' }],
    ['TE', { TE: 'trailers' }],
    ['Trailer', { Trailer: 'x' }],
    ['Keep-Alive', { 'Keep-Alive': '1' }],
    ['Proxy-Authorization', { 'Proxy-Authorization': 'Basic x' }],
    ['one name twice', { 'x-a': '1', 'X-A': '2' }],
  ])('%s', async (_, headers) => {
    const before = served;
    const error = await send(`${origin}/`, { ...allowed, method: 'POST', headers }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(FetchRefusedError);
    expect((error as Error).message).toMatch(/^refusing (the value of )?header/);
    expect(served).toBe(before);
  });
});

describe('request-filtering-agent on its own', () => {
  // Guards the dependency: without our own check it too refuses IPv6 spellings of loopback.
  it.each(['::ffff:7f00:1', '::1'])('refuses [%s] although 127.0.0.1 is allowed', async (host) => {
    const url = `http://[${host}]:${port}/`;
    const agent = useAgent(url, { allowIPAddressList: ['127.0.0.1'] });
    const error = await new Promise<Error>((resolve) => {
      get(url, { agent }, () => resolve(new Error('connected'))).on('error', resolve);
    });
    expect(error.message).toMatch(/is not allowed/);
  });
});
