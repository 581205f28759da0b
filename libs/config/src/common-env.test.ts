import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { commonEnv } from './common-env.ts';
import { ConfigError, envVar, parseEnv } from './parse.ts';

/** An app's schema as the apps write theirs: the common block spread in, its own beside it. */
const appEnv = z.object({
  ...commonEnv({ shutdownTimeoutMs: 25_000 }),
  APP_PORT: envVar.port(3002),
});

describe('commonEnv', () => {
  it('gives every app the same defaults, the shutdown deadline its own', () => {
    expect(parseEnv(appEnv, {}, 'worker')).toEqual({
      REDIS_REQUIRE_DURABLE: true,
      QUEUE_PREFIX: 'errand',
      SHUTDOWN_TIMEOUT_MS: 25_000,
      LOG_LEVEL: 'info',
      APP_PORT: 3002,
    });
    const other = z.object(commonEnv({ shutdownTimeoutMs: 10_000 }));
    expect(parseEnv(other, {}, 'producer').SHUTDOWN_TIMEOUT_MS).toBe(10_000);
  });

  it('takes a prefix of letters, digits and : _ -, and refuses braces (each queue adds its own tag)', () => {
    expect(parseEnv(appEnv, { QUEUE_PREFIX: 'team_a:errand-1' }, 'worker').QUEUE_PREFIX).toBe(
      'team_a:errand-1',
    );
    for (const prefix of ['{errand}', 'errand jobs', 'errand*']) {
      const refused = () => parseEnv(appEnv, { QUEUE_PREFIX: prefix }, 'worker');
      expect(refused).toThrow(ConfigError);
      expect(refused).toThrow(/- QUEUE_PREFIX: may hold only letters, digits and : _ -/);
    }
  });

  it('lists its bad variables beside the app’s own', () => {
    const env = { LOG_LEVEL: 'loud', SHUTDOWN_TIMEOUT_MS: '0', APP_PORT: 'x' };
    expect(() => parseEnv(appEnv, env, 'worker')).toThrow(
      /SHUTDOWN_TIMEOUT_MS: [^\n]+\n {2}- LOG_LEVEL: [^\n]+\n {2}- APP_PORT: /,
    );
  });
});
