import { jobTypes } from '@errand/contract';
import { describe, expect, it } from 'vitest';
import { settingNames } from '../../../scripts/settings-table.ts';
import { loadEnv, WorkerEnv } from './env.ts';
import { outboundSettings } from './outbound-settings.ts';

const parse = (env: Record<string, string>) => outboundSettings.safeParse(env);

describe('outbound settings', () => {
  it('share no variable with the per-type settings (WEBHOOK_TIMEOUT_MS is the webhook queue’s)', () => {
    const perType = new Set(jobTypes.flatMap((type) => Object.values(settingNames(type))));
    const outbound = Object.keys(outboundSettings.in.shape);
    expect(outbound.filter((name) => perType.has(name))).toEqual([]);
    expect(outbound.filter((name) => name in WorkerEnv.shape)).toEqual([]);
  });

  it('bound a delivery’s request apart from the webhook attempt’s timeout', () => {
    const env = loadEnv({ WEBHOOK_REQUEST_TIMEOUT_MS: '1000', HTTP_REQUEST_TIMEOUT_MS: '2000' });
    expect(env.outbound.webhookTimeoutMs).toBe(1_000);
    expect(env.outbound.httpTimeoutMs).toBe(2_000);
    expect(env.queues.webhook.timeoutMs).toBe(60_000);
    expect(env.queues.http.timeoutMs).toBe(130_000);
  });

  it('give each origin its own limits over the defaults', () => {
    const parsed = parse({
      TARGET_CONCURRENCY: '4',
      TARGET_LIMITS: '{"https://api.example.com":{"ratePerSecond":2.5}}',
    });
    expect(parsed.success && parsed.data.limits('https://api.example.com')).toEqual({
      concurrency: 4,
      ratePerSecond: 2.5,
    });
    expect(parsed.success && parsed.data.limits('https://other.example.com')).toEqual({
      concurrency: 4,
    });
  });

  it.each([
    ['TARGET_LIMITS', 'not json'],
    ['TARGET_LIMITS', '{"api.example.com":{"concurrency":1}}'],
    ['TARGET_LIMITS', '{"https://api.example.com/path":{"concurrency":1}}'],
    ['TARGET_LIMITS', '{"https://API.example.com":{"concurrency":1}}'],
    ['TARGET_LIMITS', '{"https://api.example.com:443":{"concurrency":1}}'],
    ['TARGET_LIMITS', '{"https://api.example.com":{"concurrency":0}}'],
    ['TARGET_LIMITS', '{"https://api.example.com":{"burst":3}}'],
    ['WEBHOOK_RETRY_SCHEDULE_MS', '0,5s'],
    ['WEBHOOK_RETRY_SCHEDULE_MS', '-1'],
    ['TARGET_CONCURRENCY', '0'],
  ])('refuse %s=%s', (name, value) => {
    expect(parse({ [name]: value }).success).toBe(false);
  });

  it('keep Standard Webhooks’ schedule by default', () => {
    const parsed = parse({});
    expect(parsed.success && parsed.data.webhookScheduleMs).toEqual([
      0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 50_400_000, 72_000_000,
      86_400_000,
    ]);
  });
});
