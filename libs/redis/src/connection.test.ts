import { describe, expect, it } from 'vitest';
import { redactRedisUrl, redisOptions } from './connection.ts';

describe('redisOptions', () => {
  it('takes host, port, user, password and db from the URL, decoding them', () => {
    const options = redisOptions(
      'redis://job%40user:p%40ss%2Fw:rd@cache.internal:6380/3',
      'worker',
    );
    expect(options).toMatchObject({
      host: 'cache.internal',
      port: 6380,
      username: 'job@user',
      password: 'p@ss/w:rd',
      db: 3,
      tls: undefined,
    });
  });

  it('defaults to port 6379, db 0 and no credentials', () => {
    const options = redisOptions('redis://127.0.0.1', 'worker');
    expect(options).toMatchObject({ host: '127.0.0.1', port: 6379, db: 0 });
    expect(options.username).toBeUndefined();
    expect(options.password).toBeUndefined();
  });

  it('turns on TLS for rediss://, and strips the brackets of an IPv6 host', () => {
    expect(redisOptions('rediss://redis.example.com:6380', 'worker').tls).toEqual({
      servername: 'redis.example.com',
    });
    expect(redisOptions('redis://[::1]:7000', 'worker')).toMatchObject({ host: '::1', port: 7000 });
    // an address is checked against the certificate, but is no server name to send
    expect(redisOptions('rediss://127.0.0.1:6380', 'worker').tls).toEqual({});
    expect(redisOptions('rediss://[::1]:6380', 'worker').tls).toEqual({});
  });

  it('refuses other schemes and a database that is not a number', () => {
    expect(() => redisOptions('http://127.0.0.1:6379', 'worker')).toThrow(
      /must start with redis:\/\/ or rediss:\/\/, got "http:\/\/"/,
    );
    expect(() => redisOptions('redis://127.0.0.1:6379/jobs', 'worker')).toThrow(
      /database "jobs", not a number/,
    );
    expect(() => redisOptions('redis://127.0.0.1:6379/1.5', 'worker')).toThrow(/not a number/);
  });

  it('makes producers fail fast and workers wait for Redis forever', () => {
    const producer = redisOptions('redis://127.0.0.1', 'producer');
    expect(producer).toMatchObject({ enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    const worker = redisOptions('redis://127.0.0.1', 'worker');
    expect(worker.maxRetriesPerRequest).toBeNull();
    expect(worker.enableOfflineQueue).toBe(true);
  });

  it('backs off reconnects up to 2 s', () => {
    const retry = redisOptions('redis://127.0.0.1', 'worker').retryStrategy;
    expect([1, 2, 5, 100].map((times) => retry?.(times))).toEqual([100, 200, 1_600, 2_000]);
  });
});

describe('redactRedisUrl', () => {
  it('blanks the password and keeps everything else', () => {
    expect(redactRedisUrl('redis://app:hunter2@cache:6380/2')).toBe('redis://app:***@cache:6380/2');
    expect(redactRedisUrl('rediss://:hunter2@cache:6380')).toBe('rediss://:***@cache:6380');
  });

  it('leaves a URL without a password unchanged', () => {
    expect(redactRedisUrl('redis://cache:6380/2')).toBe('redis://cache:6380/2');
  });
});
