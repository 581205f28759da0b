import { keyedLimiter } from '@errand/limiter';
import type { Metrics } from '@errand/observability';
import {
  callerPolicies,
  signingSecrets,
  subscriptionCache,
  subscriptionStore,
} from '@errand/outbound';
import type { RedisClient } from '@errand/redis';
import { TARGET_LEASE_MS } from './outbound-call.ts';
import { outboundMetrics } from './outbound-metrics.ts';
import type { OutboundSettings } from './outbound-settings.ts';
import type { HttpDeps } from './processors/http.ts';
import type { WebhookDeps } from './processors/webhook.ts';

/**
 * What the worker needs to call out: the per-origin limiter (in Redis, for every worker
 * together), the keys' published targets and signing secrets, the subscriptions (and a cache
 * of them for the end of every job), and the deliveries' metrics.
 */
export function makeOutbound(
  redis: RedisClient,
  prefix: string,
  settings: OutboundSettings,
  metrics: Metrics,
) {
  const calls = {
    limiter: keyedLimiter(redis, { prefix, name: 'target', leaseMs: TARGET_LEASE_MS }),
    leaseMs: TARGET_LEASE_MS,
    limits: settings.limits,
    allowIPAddressList: settings.allowIPAddressList,
  };
  const policies = callerPolicies(redis, prefix);
  const callerSecrets = signingSecrets(redis, prefix);
  const subscriptions = subscriptionStore(redis, prefix);
  const http: HttpDeps = {
    ...calls,
    policies,
    secrets: callerSecrets,
    defaultTimeoutMs: settings.httpTimeoutMs,
  };
  const webhook: WebhookDeps = {
    ...calls,
    redis,
    prefix,
    subscriptions,
    policies,
    callerSecrets,
    timeoutMs: settings.webhookTimeoutMs,
    disableAfterMs: settings.disableAfterMs,
    slowDownMs: settings.slowDownMs,
    metrics: outboundMetrics(metrics),
  };
  return { http, webhook, subscriptions: subscriptionCache(subscriptions) };
}
