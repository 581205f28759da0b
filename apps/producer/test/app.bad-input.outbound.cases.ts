import type { BadCase } from './app.bad-input.cases.ts';

/**
 * http jobs and callbacks: hostile URLs, methods, headers and bodies. The battery's key may
 * call `https://api.example.com` only; what the schema refuses is a 400, what it takes but the
 * key does not allow is a 403, and nothing is enqueued either way.
 */
const ok = { url: 'https://api.example.com/orders', method: 'POST' };
const http = (name: string, data: unknown, extra: Record<string, unknown> = {}): BadCase => ({
  name: `http: ${name}`,
  path: '/v1/jobs/http',
  json: { data, ...extra },
  status: 400,
  type: 'invalid-body',
});
const notAllowed = (name: string, data: unknown, extra: Record<string, unknown> = {}): BadCase => ({
  ...http(name, data, extra),
  status: 403,
  type: 'target-not-allowed',
});
const at = (url: string) => ({ ...ok, url });
const callback = (callbackUrl: unknown) => ({ callbackUrl });

export const outboundCases: BadCase[] = [
  http('a file: URL', at('file:///etc/passwd')),
  http('a gopher: URL', at('gopher://127.0.0.1:6379/_FLUSHALL')),
  http('a data: URL', at('data:text/plain,hi')),
  http('an ftp: URL', at('ftp://api.example.com/x')),
  http('a URL with a user and password', at('https://user:pw@api.example.com/x')),
  http('a URL whose user part names the allowed host', at('https://api.example.com@evil.test/')),
  http('a URL of 3,000 characters', at(`https://api.example.com/${'a'.repeat(3000)}`)),
  http('not a URL', at('api.example.com/orders')),
  notAllowed('an IPv6 loopback literal', at('http://[::1]:6379/')),
  notAllowed('an IPv4-mapped IPv6 literal', at('http://[::ffff:127.0.0.1]/')),
  notAllowed('a name that resolves to loopback', at('http://localhost:6379/')),
  notAllowed('the cloud metadata address', at('http://169.254.169.254/latest/meta-data/')),
  notAllowed('a private address', at('http://10.0.0.1/')),
  notAllowed(
    'a host that only starts like the allowed one',
    at('https://api.example.com.evil.test/'),
  ),
  notAllowed('the allowed host over plain http', at('http://api.example.com/orders')),
  notAllowed('the allowed host on another port', at('https://api.example.com:8443/orders')),
  http('the CONNECT method', { ...ok, method: 'CONNECT' }),
  http('the TRACE method', { ...ok, method: 'TRACE' }),
  http('a lower-case method', { ...ok, method: 'post' }),
  http('a body on a GET', { ...ok, method: 'GET', body: 'x' }),
  http('a body that is not a string', { ...ok, body: { order: 1 } }),
  http('a header value with CR LF', { ...ok, headers: { 'x-a': 'b\r\nx-injected: 1' } }),
  http('a header value with NUL', { ...ok, headers: { 'x-a': 'b\u0000c' } }),
  http('a header name with a colon', { ...ok, headers: { 'x-a: b': 'c' } }),
  http('a header name with a space', { ...ok, headers: { 'x a': 'c' } }),
  http('a Host header', { ...ok, headers: { Host: 'internal.local' } }),
  http('one header twice in two cases', { ...ok, headers: { 'X-A': '1', 'x-a': '2' } }),
  http('a Content-Length header', { ...ok, headers: { 'content-length': '0' } }),
  http('a Transfer-Encoding header', { ...ok, headers: { 'Transfer-Encoding': 'chunked' } }),
  http('a forged signature header', { ...ok, headers: { 'webhook-signature': 'v1,xxx' } }),
  http('a Proxy-Authorization header', { ...ok, headers: { 'proxy-authorization': 'x' } }),
  http('51 headers', {
    ...ok,
    headers: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`x-h${i}`, 'v'])),
  }),
  http('a header value of 5,000 characters', { ...ok, headers: { 'x-a': 'v'.repeat(5000) } }),
  http('a timeout of 0', { ...ok, timeoutMs: 0 }),
  http('a timeout of ten minutes', { ...ok, timeoutMs: 600_000 }),
  http('an unknown field', { ...ok, retries: 3 }),
  http('no method', { url: ok.url }),
  http('a callbackUrl with file:', ok, callback('file:///etc/passwd')),
  http('a callbackUrl with gopher:', ok, callback('gopher://127.0.0.1:70/')),
  http('a callbackUrl with a password', ok, callback('https://u:p@api.example.com/cb')),
  http('a callbackUrl that is a number', ok, callback(42)),
  notAllowed('a callbackUrl to the metadata address', ok, callback('http://169.254.169.254/')),
  notAllowed('a callbackUrl to loopback', ok, callback('http://127.0.0.1:6379/')),
  notAllowed('a callbackUrl on an email job', undefined, {}),
  {
    name: 'http: a 10 MB body',
    path: '/v1/jobs/http',
    raw: JSON.stringify({ data: { ...ok, body: 'x'.repeat(10 * 1024 * 1024) } }),
    status: 413,
    type: 'body-too-large',
  },
  {
    name: 'webhook: a delivery job from the API',
    path: '/v1/jobs/webhook',
    json: { data: {} },
    status: 403,
    type: 'forbidden',
  },
];

// An email job may carry a callbackUrl too: it is checked against the key's targets the same way.
const emailCallback = outboundCases.find((c) => c.name === 'http: a callbackUrl on an email job');
if (emailCallback) {
  emailCallback.path = '/v1/jobs/email';
  emailCallback.json = {
    data: { to: 'a@example.com', subject: 'Hi', text: 'x' },
    callbackUrl: 'http://[::1]/cb',
  };
}
