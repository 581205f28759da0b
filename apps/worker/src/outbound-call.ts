import {
  FetchRefusedError,
  type SafeRequestInit,
  type SafeResponse,
  safeRequest,
} from '@errand/fetch';
import type { KeyedLimiter, LimitSpec } from '@errand/limiter';
import { signatureHeaders } from '@errand/signing';
import { retryAfterMs } from './backoff.ts';
import { type JobContext, PermanentError, RetryAfterError, SnoozeError } from './processor.ts';

/**
 * How long a target slot is held without renewal. A worker renews its slots while their
 * requests run, so this bounds only how long a dead worker's slots stay taken (as BullMQ's job
 * lock does its jobs).
 */
export const TARGET_LEASE_MS = 15_000;

/** How the worker calls out, for http jobs and webhook deliveries alike. */
export interface OutboundDeps {
  /** Per target origin, over all workers: a slow or rate-limited service cannot take every slot. */
  limiter: KeyedLimiter;
  /** The limiter's lease (`TARGET_LEASE_MS`): a slot is renewed three times in each. */
  leaseMs: number;
  limits: (origin: string) => LimitSpec;
  /** Private addresses an operator allows (`OUTBOUND_ALLOW_IPS`); every other one is refused. */
  allowIPAddressList: string[];
}

export interface OutboundRequest {
  url: string;
  method: SafeRequestInit['method'];
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  /** How much of the answer to keep. */
  maxBytes: number;
  /** Checked on the first URL and on every redirect hop: a refusal reason, or undefined. */
  allowUrl: (url: URL) => string | undefined;
  /** `webhook-id`: the same for every attempt of one message, so the receiver can deduplicate. */
  messageId: string;
  /** The secrets it is signed with (one signature each), current first. */
  secrets: readonly string[];
}

/**
 * How long a refused job waits before it asks again, at most `CONCURRENCY_RECHECK_MS` (±50%)
 * for a concurrency refusal: its `retryInMs` is when the earliest lease would run out if its
 * holder died (the lease length, minutes), but a holder that finishes frees its slot at once,
 * so waiting that long would park every job refused at a busy moment for minutes. A rate
 * refusal's `retryInMs` is exact: the moment a slot of the window opens.
 */
export const CONCURRENCY_RECHECK_MS = 1_000;
export function snoozeMs(refusal: { retryInMs: number; reason: 'concurrency' | 'rate' }) {
  if (refusal.reason === 'rate') return refusal.retryInMs;
  const recheck = Math.round(CONCURRENCY_RECHECK_MS * (0.5 + Math.random()));
  return Math.min(refusal.retryInMs, recheck);
}

/**
 * One signed request to a service, within its origin's limits:
 * 1. take a slot of the target origin's limiter, or snooze the job (attempt not spent) until
 *    one may be free (`snoozeMs`);
 * 2. sign it as Standard Webhooks v1 says (`webhook-id`, `webhook-timestamp`,
 *    `webhook-signature`), with every valid secret;
 * 3. send it through the SSRF-guarded client; a refusal (private address, a redirect to a
 *    target not allowed, a bad header) fails the job for good;
 * 4. free the slot.
 */
export async function callOut(
  deps: OutboundDeps,
  ctx: JobContext,
  request: OutboundRequest,
): Promise<SafeResponse> {
  const first = new URL(request.url);
  const refusal = request.allowUrl(first);
  if (refusal) throw new PermanentError(refusal);
  const origin = first.origin;
  const admission = await deps.limiter.acquire(
    origin,
    deps.limits(origin),
    `${ctx.id}:${ctx.attempt}`,
  );
  if (!admission.admitted) {
    throw new SnoozeError(`${origin} is at its ${admission.reason} limit`, snoozeMs(admission));
  }
  const body = request.body ?? '';
  // A short lease, renewed while the request runs: the slots of a worker killed mid-request
  // are free again within one lease, not after the longest request there could be.
  const renewal = setInterval(() => {
    admission.lease.extend().catch(() => {}); // a missed renewal: the next one, or the lease ends
  }, deps.leaseMs / 3);
  try {
    return await safeRequest(request.url, {
      method: request.method,
      headers: {
        'user-agent': 'Errand',
        ...request.headers,
        ...signatureHeaders({
          id: request.messageId,
          timestamp: Math.floor(Date.now() / 1000),
          body,
          secrets: request.secrets,
        }),
      },
      ...(request.body !== undefined ? { body: request.body } : {}),
      maxBytes: request.maxBytes,
      overLimit: 'truncate',
      timeoutMs: request.timeoutMs,
      signal: ctx.signal,
      allowIPAddressList: deps.allowIPAddressList,
      allowUrl: request.allowUrl,
    });
  } catch (error) {
    if (error instanceof FetchRefusedError) throw new PermanentError(error.message);
    throw error;
  } finally {
    clearInterval(renewal);
    // The answer stands whatever happens here: a slot not given back frees itself at its
    // lease's end, and a failed release must not turn a sent request into a retried one.
    await admission.lease.release().catch((error: unknown) => {
      ctx.logger.warn({ err: error, origin }, 'target slot not released; it frees at lease end');
    });
  }
}

/**
 * What an answer means for the job: 2xx done; 408, 409, 425, 429 and 5xx retried (after a
 * Retry-After, if sent); anything else, redirects not followed included, fails for good.
 */
export function verdictOf(response: SafeResponse): 'done' | RetryAfterError | PermanentError {
  const { status } = response;
  if (status >= 200 && status < 300) return 'done';
  const said = `${new URL(response.url).origin} answered ${status}`;
  if (status === 408 || status === 409 || status === 425 || status === 429 || status >= 500) {
    return new RetryAfterError(said, retryAfterMs(response.headers['retry-after']));
  }
  return new PermanentError(said);
}
