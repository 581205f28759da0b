import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { isJobType, type JobType, jobs } from '@errand/contract';
import { HttpProblem, Problem, problemDocument } from '@errand/http';
import type { ApiKey } from './api-keys.ts';
import { bearerOf, keyOf } from './auth.ts';
import type { ApiSettings, Deps } from './deps.ts';
import { enqueue } from './enqueue.ts';
import { batchAnswer, checkOutbound, parseBatch, parseEnqueue } from './enqueue-request.ts';
import { isIdempotencyKey } from './idempotency.ts';
import type { KeyRateLimit } from './rate-limit.ts';
import { refuseProtoKeys } from './validation.ts';

/** `/v1/jobs/{type}` or `/v1/jobs/{type}/batch`, as the app's routes spell them. */
const PATH = /^\/v1\/jobs\/([a-z-]{1,64})(\/batch)?$/;
/** What body-parser reads as JSON without a second look: UTF-8 (or no charset), no encoding. */
const JSON_TYPE = /^application\/json[ \t]*(;[ \t]*charset=utf-8[ \t]*)?$/i;
/** The request metric's `route` label, as the app's routes give it. */
const ROUTE = { single: '/v1/jobs/:type', batch: '/v1/jobs/:type/batch' };
/** body-parser's strict mode: a JSON body is an object or an array. */
const FIRST = /^[ \t\n\r]*([^ \t\n\r])/;

/**
 * `POST /v1/jobs/{type}` and `POST /v1/jobs/{type}/batch`, the routes every caller hits
 * hardest, served straight from node:http when the request is plainly well-formed: a public
 * job type, a valid key with the `enqueue` scope, a JSON body of a stated length within the
 * limit, a valid Idempotency-Key or none. Anything else goes to the Express app, untouched,
 * which answers it as it always has. Served here it takes the same steps in the same order
 * with the same code (rate limit, body, `__proto__` keys, the contract, allowed targets,
 * `enqueue`) and answers the same headers, statuses and problem documents, without Express's
 * router, body-parser and response helpers, which cost more CPU than the rest of the request
 * (docs/performance.md).
 *
 * Returns the listener: true when it took the request.
 */
export function enqueueFastPath(
  deps: Deps,
  settings: ApiSettings,
  limit: KeyRateLimit,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    if (req.method !== 'POST' || settings.apiKeys.length === 0) return false;
    const path = PATH.exec(req.url ?? '');
    const type = path?.[1];
    if (!type || !isJobType(type) || jobs[type].enqueueScope !== 'enqueue') return false;
    const { headers } = req;
    if (!JSON_TYPE.test(headers['content-type'] ?? '')) return false;
    if (headers['content-encoding'] !== undefined || headers['transfer-encoding'] !== undefined) {
      return false;
    }
    const length = Number(headers['content-length']);
    if (!(length > 0 && length <= settings.bodyLimitBytes)) return false;
    const idempotencyKey = headers['idempotency-key'];
    if (Array.isArray(idempotencyKey)) return false;
    if (idempotencyKey !== undefined && !isIdempotencyKey(idempotencyKey)) return false;
    const secret = bearerOf(headers.authorization);
    const caller = secret === undefined ? undefined : keyOf(settings.apiKeys, secret);
    if (!caller?.scopes.has('enqueue')) return false;
    const batch = path?.[2] !== undefined;
    void serve(deps, limit, { req, res, type, batch, caller, idempotencyKey });
    return true;
  };
}

/** The fast path in front of the app: the listener to serve. */
export const withFastPath =
  (fast: ReturnType<typeof enqueueFastPath>, app: RequestListener): RequestListener =>
  (req, res) => {
    if (!fast(req, res)) app(req, res);
  };

interface Request {
  req: IncomingMessage;
  res: ServerResponse;
  type: JobType;
  /** `/batch`: the body is `{ jobs: [...] }`, added all or none. */
  batch: boolean;
  caller: ApiKey;
  idempotencyKey: string | undefined;
}

async function serve(deps: Deps, limit: KeyRateLimit, request: Request) {
  const { req, res, type, batch, caller, idempotencyKey } = request;
  const route = batch ? ROUTE.batch : ROUTE.single;
  const stop = deps.metrics.requests.startTimer({ method: 'POST' });
  res.once('finish', () => stop({ route, status: String(res.statusCode) }));
  try {
    await limit.check(caller, (name, value) => res.setHeader(name, value));
    const text = textOf(await bodyOf(req));
    const body = jsonOf(text);
    // A `__proto__` key is spelled out in the text, or hidden behind a \u escape.
    if (text.includes('__proto__') || text.includes('\\u')) refuseProtoKeys(body);
    const items = batch ? parseBatch(type, body) : [parseEnqueue(type, body)];
    await checkOutbound(deps, caller, items);
    const { jobs: added, replayed } = await enqueue(deps, {
      type,
      caller: caller.name,
      idempotencyKey,
      body,
      items,
      batch,
    });
    if (replayed) res.setHeader('Idempotent-Replayed', 'true');
    let answer: string;
    if (batch) answer = JSON.stringify(batchAnswer(type, added));
    else {
      const [job] = added;
      res.setHeader('Location', `/v1/jobs/${type}/${job?.id}`);
      answer = JSON.stringify({ id: job?.id, type, state: job?.state });
    }
    send(res, replayed ? 200 : 202, 'application/json; charset=utf-8', answer);
  } catch (error) {
    let problem = error instanceof Problem ? error : undefined;
    if (!problem) {
      deps.logger.error({ err: error, method: req.method, path: req.url }, 'request failed');
      problem = new HttpProblem('internal', 'An unexpected error occurred; it has been logged.');
    }
    for (const [name, value] of Object.entries(problem.headers)) res.setHeader(name, value);
    const document = problemDocument(problem, req.url);
    send(res, problem.kind.status, 'application/problem+json; charset=utf-8', document);
  }
}

function send(res: ServerResponse, status: number, contentType: string, body: string) {
  if (res.headersSent || res.destroyed) return;
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

/** The request's body; its length is the stated one (node:http holds it to that). */
function bodyOf(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () =>
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)),
    );
    req.once('error', reject);
  });
}

/** The body as body-parser's `json()` reads it: UTF-8, a byte-order mark dropped. */
function textOf(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Parse as body-parser's `json({ strict: true })` does: an object or an array. */
function jsonOf(text: string): unknown {
  const first = FIRST.exec(text)?.[1];
  if (first === '{' || first === '[') {
    try {
      return JSON.parse(text);
    } catch {
      // the same answer as below
    }
  }
  throw new HttpProblem('malformed-json', 'The request body could not be parsed as JSON.');
}
