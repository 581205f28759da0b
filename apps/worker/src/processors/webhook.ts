import type { DeliveryAttempt, DeliveryPayload, DeliveryResult } from '@errand/contract';
import { parseAllowedTarget, targetAllowed } from '@errand/fetch';
import {
  type CallerPolicies,
  logDelivery,
  type SigningSecrets,
  type SubscriptionStore,
} from '@errand/outbound';
import type { RedisClient } from '@errand/redis';
import { callOut, type OutboundDeps, verdictOf } from '../outbound-call.ts';
import type { OutboundMetrics } from '../outbound-metrics.ts';
import {
  type JobContext,
  PermanentError,
  type Processor,
  RetryAfterError,
  SnoozeError,
} from '../processor.ts';

export interface WebhookDeps extends OutboundDeps {
  redis: RedisClient;
  prefix: string;
  subscriptions: SubscriptionStore;
  policies: CallerPolicies;
  callerSecrets: SigningSecrets;
  timeoutMs: number;
  /** A subscription whose deliveries have failed this long without a success is disabled. */
  disableAfterMs: number;
  /** How long 429, 502 and 504 hold back a subscription's other deliveries, without a Retry-After. */
  slowDownMs: number;
  metrics: OutboundMetrics;
}

/** How much of a receiver's answer is read: its status is what counts. */
const ANSWER_BYTES = 256;

/**
 * Deliver one event to one target:
 * 1. find where: a subscription (skipped if it was deleted or is disabled, snoozed while a
 *    429/502/504 slows it) or a callbackUrl (skipped if its key no longer allows it);
 * 2. POST the event, signed (`callOut`), redirects only within the target's origin;
 * 3. 2xx: delivered. 410: the subscription is disabled, no retry. Otherwise retried on the
 *    type's schedule; 429/502/504 also slow the subscription. A subscription failing for
 *    `disableAfterMs` is disabled. Each attempt goes to the subscription's delivery log.
 */
export const makeWebhookProcessor =
  (deps: WebhookDeps): Processor<'webhook'> =>
  async (payload, ctx): Promise<DeliveryResult> => {
    const target = await resolve(deps, payload);
    if ('skipped' in target) {
      deps.metrics.deliveries.inc({ outcome: 'skipped' });
      return target;
    }
    const startedAt = performance.now();
    const record = (outcome: DeliveryAttempt['outcome'], status: number | null, error?: string) =>
      target.subscription
        ? logDelivery(deps.redis, deps.prefix, target.subscription, {
            at: new Date().toISOString(),
            eventId: payload.eventId,
            eventType: payload.event.type,
            jobType: payload.event.data.jobType,
            jobId: payload.event.data.jobId,
            attempt: ctx.attempt,
            status,
            durationMs: Math.round(performance.now() - startedAt),
            outcome,
            error: error ?? null,
          })
        : Promise.resolve();
    const observe = (outcome: string) => {
      deps.metrics.deliveries.inc({ outcome });
      deps.metrics.latency.observe({ outcome }, (performance.now() - startedAt) / 1000);
    };
    let status: number | null = null;
    try {
      const response = await callOut(deps, ctx, {
        url: target.url,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payload.event),
        timeoutMs: deps.timeoutMs,
        maxBytes: ANSWER_BYTES,
        allowUrl: target.allowUrl,
        messageId: payload.eventId,
        secrets: target.secrets,
      });
      status = response.status;
      const verdict = verdictOf(response);
      if (verdict === 'done') {
        observe('delivered');
        await record('delivered', status);
        if (target.subscription) await deps.subscriptions.markSuccess(target.subscription);
        return { status, durationMs: response.durationMs };
      }
      if (status === 410 && target.subscription) {
        await deps.subscriptions.disable(target.subscription, `${target.url} answered 410 Gone`);
        deps.metrics.disabled.inc({ reason: 'gone' });
        observe('failed');
        await record('disabled', status, 'answered 410 Gone');
        throw new PermanentError(`${response.url} answered 410 Gone: subscription disabled`);
      }
      if ((status === 429 || status === 502 || status === 504) && target.subscription) {
        const holdMs =
          (verdict instanceof RetryAfterError && verdict.retryAfterMs) || deps.slowDownMs;
        await deps.redis.set(slowKey(deps.prefix, target.subscription), '1', 'PX', holdMs);
      }
      throw verdict;
    } catch (error) {
      if (error instanceof SnoozeError) throw error;
      if (status === 410 && target.subscription) throw error;
      const final = error instanceof PermanentError || ctx.lastAttempt;
      const outcome = final ? 'failed' : 'retrying';
      observe(outcome);
      await record(outcome, status, (error as Error).message);
      if (target.subscription) await noteFailure(deps, target.subscription, ctx);
      throw error;
    }
  };

const slowKey = (prefix: string, id: string) => `${prefix}:webhooks:slow:${id}`;

async function noteFailure(deps: WebhookDeps, id: string, ctx: JobContext) {
  const failingMs = await deps.subscriptions.markFailure(id);
  if (failingMs < deps.disableAfterMs) return;
  const days = (failingMs / 86_400_000).toFixed(1);
  if (await deps.subscriptions.disable(id, `every delivery failed for ${days} days`)) {
    deps.metrics.disabled.inc({ reason: 'failing' });
    ctx.logger.error(
      { subscription: id, failingMs },
      'webhook subscription disabled: failing for days',
    );
  }
}

type Resolved =
  | {
      url: string;
      subscription: string | undefined;
      secrets: string[];
      allowUrl: (url: URL) => string | undefined;
    }
  | Extract<DeliveryResult, { skipped: string }>;

async function resolve(deps: WebhookDeps, payload: DeliveryPayload): Promise<Resolved> {
  const { to } = payload;
  if ('subscription' in to) {
    const subscription = await deps.subscriptions.get(to.subscription);
    if (!subscription) return { skipped: 'subscription-deleted' };
    const state = await deps.subscriptions.state(to.subscription);
    if (state.disabled) return { skipped: 'subscription-disabled' };
    // Only where the key that put it may send, as its targets are configured now.
    const targets = await targetsOf(deps, subscription.owner);
    if (!targetAllowed(new URL(subscription.url), targets))
      return { skipped: 'target-not-allowed' };
    const held = await deps.redis.pttl(slowKey(deps.prefix, to.subscription));
    if (held > 0) throw new SnoozeError(`subscription ${to.subscription} is slowed down`, held);
    const origin = new URL(subscription.url).origin;
    return {
      url: subscription.url,
      subscription: to.subscription,
      secrets: deps.subscriptions.signingSecrets(subscription),
      allowUrl: (url) =>
        url.origin === origin && targetAllowed(url, targets)
          ? undefined
          : `a redirect to ${url.origin} leaves the subscription's allowed targets`,
    };
  }
  const targets = await targetsOf(deps, to.producer);
  if (!targetAllowed(new URL(to.callbackUrl), targets)) return { skipped: 'target-not-allowed' };
  const secrets = await deps.callerSecrets.of(to.producer);
  if (secrets.length === 0)
    throw new PermanentError(`the key "${to.producer}" has no signing secret`);
  return {
    url: to.callbackUrl,
    subscription: undefined,
    secrets,
    allowUrl: (url) =>
      targetAllowed(url, targets)
        ? undefined
        : `${url.origin} is not one of the allowed targets of the key "${to.producer}"`,
  };
}

/** A key's allowed targets as the producer last published them; none for a key it does not know. */
async function targetsOf(deps: WebhookDeps, key: string | undefined) {
  const policy = key ? await deps.policies(key) : undefined;
  return (policy?.allowedTargets ?? []).map(parseAllowedTarget);
}
