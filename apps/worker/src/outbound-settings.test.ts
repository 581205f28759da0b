import { describe, expect, it } from 'vitest';
import { loadEnv } from './env.ts';
import { outboundSettings } from './outbound-settings.ts';
import { queueSettings } from './queue-settings.ts';

/** The outbound settings and the per-queue ones are read from one environment. */
describe('outbound settings', () => {
  it('share no name with a queue setting', () => {
    // A queue setting that reads the name refuses a value that is no number.
    const shared = Object.keys(outboundSettings.in.shape).filter(
      (name) => !queueSettings.safeParse({ [name]: 'not-a-number' }).success,
    );
    expect(shared).toEqual([]);
    expect(queueSettings.safeParse({ WEBHOOK_TIMEOUT_MS: 'not-a-number' }).success).toBe(false);
  });

  it('bound a delivery’s request apart from the webhook attempt’s timeout', () => {
    const env = loadEnv({ WEBHOOK_REQUEST_TIMEOUT_MS: '1000', HTTP_REQUEST_TIMEOUT_MS: '2000' });
    expect(env.outbound.webhookTimeoutMs).toBe(1_000);
    expect(env.outbound.httpTimeoutMs).toBe(2_000);
    expect(env.queues.webhook.timeoutMs).toBe(60_000);
    expect(env.queues.http.timeoutMs).toBe(130_000);
  });
});
