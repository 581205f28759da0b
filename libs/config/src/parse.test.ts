import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, envVar, parseEnv, parseEnvParts } from './parse.ts';

const schema = z.object({
  PORT: envVar.port(3000),
  CONCURRENCY: envVar.int(4, 1),
  REQUIRE_DURABLE: envVar.bool(true),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL')
    .default('redis://127.0.0.1:6379'),
  LOG_LEVEL: envVar.logLevel(),
});

/** The ConfigError thrown for `env`, so a test can read its message. */
const errorFor = (env: Record<string, string>) => {
  try {
    parseEnv(schema, env, 'worker');
  } catch (error) {
    return error;
  }
  throw new Error('expected a ConfigError');
};

describe('parseEnv', () => {
  it('applies the defaults to an empty environment', () => {
    expect(parseEnv(schema, {}, 'worker')).toEqual({
      PORT: 3000,
      CONCURRENCY: 4,
      REQUIRE_DURABLE: true,
      REDIS_URL: 'redis://127.0.0.1:6379',
      LOG_LEVEL: 'info',
    });
  });

  it('coerces the strings it is given', () => {
    const env = { PORT: '8080', CONCURRENCY: '16', REDIS_URL: 'rediss://cache:6380' };
    expect(parseEnv(schema, env, 'worker')).toMatchObject({
      PORT: 8080,
      CONCURRENCY: 16,
      REDIS_URL: 'rediss://cache:6380',
    });
  });

  it('lists every bad variable in one ConfigError, naming the app', () => {
    const error = errorFor({
      PORT: '70000',
      CONCURRENCY: '0',
      REDIS_URL: 'http://cache',
      LOG_LEVEL: 'loud',
    });
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toMatch(/^worker: invalid configuration\n/);
    for (const name of ['PORT', 'CONCURRENCY', 'REDIS_URL', 'LOG_LEVEL']) {
      expect(message).toContain(`  - ${name}: `);
    }
    expect(message).not.toContain('REQUIRE_DURABLE');
    expect(message).toContain('expected a redis:// or rediss:// URL');
  });

  it('collects the errors of every part when several schemas read one environment', () => {
    const parts = {
      base: z.object({ PORT: envVar.port(1) }),
      queue: z.object({ N: envVar.int(1) }),
    };
    expect(() => parseEnvParts(parts, { PORT: 'x', N: '-1' }, 'api')).toThrow(
      /PORT: [^\n]+\n {2}- N: /,
    );
    expect(parseEnvParts(parts, { N: '7' }, 'api')).toEqual({ base: { PORT: 1 }, queue: { N: 7 } });
  });
});

describe('envVar.bool', () => {
  const flag = z.object({ FLAG: envVar.bool(false) });
  const read = (value: string) => parseEnv(flag, { FLAG: value }, 'app').FLAG;

  it.each([
    ['true', true],
    ['1', true],
    ['yes', true],
    ['false', false],
    ['0', false],
    ['no', false],
  ])('reads %s as %s', (value, expected) => {
    expect(read(value)).toBe(expected);
  });

  it('refuses anything else instead of reading it as false', () => {
    expect(() => read('maybe')).toThrow(ConfigError);
    expect(() => read('maybe')).toThrow(/FLAG: expected true or false/);
    expect(() => read('TRUE')).toThrow(ConfigError);
  });
});

describe('blank variables', () => {
  it('treat a set-but-blank number as unset, not as 0', () => {
    const schema = z.object({ PORT: envVar.port(3000), N: envVar.int(7, 1) });
    expect(parseEnv(schema, { PORT: '', N: ' ' }, 'app')).toEqual({ PORT: 3000, N: 7 });
  });
});
