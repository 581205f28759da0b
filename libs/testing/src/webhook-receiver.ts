import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { baseUrl } from './http.ts';

/** One request the receiver took, as it came. */
export interface ReceivedRequest {
  at: number;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The status the receiver answered. */
  status: number;
}

/**
 * What to answer a request: a status, and headers (Retry-After…), after `delayMs` if given; or
 * no answer for `hangMs`, then a cut connection.
 */
export type Answer =
  | { status: number; headers?: Record<string, string>; delayMs?: number }
  | { hangMs: number };

/**
 * A real HTTP server that takes webhook deliveries and http jobs' requests on loopback, for
 * tests, the chaos runs and the bench: it records each request and answers what `answer` says
 * (200 by default). Signatures are checked with `standardwebhooks`, the spec's own library,
 * never with Errand's code.
 */
export async function startWebhookReceiver(
  answer: (request: Omit<ReceivedRequest, 'status'>, index: number) => Answer = () => ({
    status: 200,
  }),
): Promise<{ url: string; server: Server; received: ReceivedRequest[]; close(): Promise<void> }> {
  const received: ReceivedRequest[] = [];
  let index = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = {
        at: Date.now(),
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      const reply = answer(request, index++);
      if ('hangMs' in reply) {
        received.push({ ...request, status: 0 });
        setTimeout(() => res.destroy(), reply.hangMs);
        return;
      }
      received.push({ ...request, status: reply.status });
      setTimeout(() => {
        res.writeHead(reply.status, { 'content-type': 'text/plain', ...reply.headers });
        res.end(`answered ${reply.status}`);
      }, reply.delayMs ?? 0);
    });
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: baseUrl(server),
    server,
    received,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The request's body as `standardwebhooks` verified it with `secret` (a `whsec_…`), or throws.
 * The library also refuses a timestamp more than five minutes off.
 */
export function verifiedBody(request: Pick<ReceivedRequest, 'headers' | 'body'>, secret: string) {
  const headers = {
    'webhook-id': String(request.headers['webhook-id']),
    'webhook-timestamp': String(request.headers['webhook-timestamp']),
    'webhook-signature': String(request.headers['webhook-signature']),
  };
  return new Webhook(secret).verify(request.body, headers);
}
