import { HTTP_RESULT_BYTES, type HttpResult } from '@errand/contract';
import { parseAllowedTarget, targetAllowed } from '@errand/fetch';
import type { CallerPolicies, SigningSecrets } from '@errand/outbound';
import { messageId } from '@errand/signing';
import { callOut, type OutboundDeps, verdictOf } from '../outbound-call.ts';
import { PermanentError, type Processor } from '../processor.ts';

export interface HttpDeps extends OutboundDeps {
  /** Each key's allowed targets as the producer last published them. */
  policies: CallerPolicies;
  secrets: SigningSecrets;
  /** When the job names no timeout. */
  defaultTimeoutMs: number;
}

/**
 * Call a service for the caller: the key that enqueued the job must allow the URL (and every
 * redirect hop) now, not only at enqueue; the request is signed with the key's secret; the
 * answer's status, duration and first KiB are the result. 2xx completes; 408, 409, 429, 5xx,
 * timeouts and connection errors are retried with the type's backoff (after a Retry-After);
 * other answers fail for good.
 */
export const makeHttpProcessor =
  (deps: HttpDeps): Processor<'http'> =>
  async (payload, ctx) => {
    if (!ctx.producer) throw new PermanentError('an http job needs the API key that enqueued it');
    const policy = await deps.policies(ctx.producer);
    if (!policy) {
      throw new PermanentError(`the API key "${ctx.producer}" is no longer configured`);
    }
    const targets = policy.allowedTargets.map(parseAllowedTarget);
    const secrets = await deps.secrets.of(ctx.producer);
    if (secrets.length === 0) {
      throw new PermanentError(`the API key "${ctx.producer}" has no signing secret`);
    }
    const response = await callOut(deps, ctx, {
      url: payload.url,
      method: payload.method,
      ...(payload.headers ? { headers: payload.headers } : {}),
      ...(payload.body !== undefined ? { body: payload.body } : {}),
      timeoutMs: payload.timeoutMs ?? deps.defaultTimeoutMs,
      maxBytes: HTTP_RESULT_BYTES,
      allowUrl: (url) =>
        targetAllowed(url, targets)
          ? undefined
          : `${url.origin} is not one of the allowed targets of the key "${ctx.producer}"`,
      // The same on every attempt of this job, and not on a later job given the same id.
      messageId: messageId('http', ctx.id, String(ctx.createdAt)),
      secrets,
    });
    const verdict = verdictOf(response);
    if (verdict !== 'done') throw verdict;
    const result: HttpResult = {
      status: response.status,
      durationMs: response.durationMs,
      url: response.url,
      contentType: (response.headers['content-type'] as string | undefined) ?? null,
      body: response.body.toString('utf8'),
      truncated: response.truncated,
    };
    return result;
  };
