import { ConfigError, parseEnvParts } from '@errand/config';
import { describe, expect, it } from 'vitest';
import { redisOptions } from './connection.ts';
import { describeLocation, RedisLocationEnv } from './location.ts';

const locate = (env: Record<string, string>) =>
  parseEnvParts({ redis: RedisLocationEnv }, env, 'worker').redis;

/** The ConfigError's lines for `env`. */
const refusal = (env: Record<string, string>) => {
  try {
    locate(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('where Redis is', () => {
  it('is one server at REDIS_URL, by default the local one', () => {
    expect(locate({})).toEqual({ mode: 'single', url: 'redis://127.0.0.1:6379' });
    expect(locate({ REDIS_URL: 'rediss://cache:6380/2' })).toEqual({
      mode: 'single',
      url: 'rediss://cache:6380/2',
    });
    expect(refusal({ REDIS_URL: 'http://cache' })).toContain(
      'REDIS_URL: expected a redis:// or rediss:// URL',
    );
  });

  it('is a Sentinel group with REDIS_SENTINELS and REDIS_SENTINEL_NAME', () => {
    const location = locate({
      REDIS_SENTINELS: 's1.internal:26379, 10.0.0.2:26380,[::1]:26381',
      REDIS_SENTINEL_NAME: 'errand',
      REDIS_USERNAME: 'errand',
      REDIS_PASSWORD: 'p@ss',
      REDIS_TLS: 'true',
      REDIS_TLS_SERVERNAME: 'redis.internal',
      REDIS_SENTINEL_PASSWORD: 'watch',
      REDIS_SENTINEL_TLS: 'yes',
    });
    expect(location).toEqual({
      mode: 'sentinel',
      sentinels: [
        { host: 's1.internal', port: 26379 },
        { host: '10.0.0.2', port: 26380 },
        { host: '::1', port: 26381 },
      ],
      name: 'errand',
      username: 'errand',
      password: 'p@ss',
      tls: { servername: 'redis.internal' },
      sentinelUsername: undefined,
      sentinelPassword: 'watch',
      sentinelTls: true,
    });
    expect(describeLocation(location)).toBe(
      'sentinel s1.internal:26379,10.0.0.2:26380,::1:26381 (primary "errand")',
    );
    expect(describeLocation(location)).not.toContain('p@ss');
  });

  it('gives ioredis what it needs to follow a failover', () => {
    const location = locate({ REDIS_SENTINELS: '127.0.0.1:26379', REDIS_SENTINEL_NAME: 'errand' });
    const options = redisOptions(location, 'worker');
    expect(options).toMatchObject({
      sentinels: [{ host: '127.0.0.1', port: 26379 }],
      name: 'errand',
      role: 'master',
      failoverDetector: true,
      enableTLSForSentinelMode: false,
      maxRetriesPerRequest: null,
    });
    const reconnect = options.reconnectOnError as (error: Error) => boolean | 1 | 2;
    expect(reconnect(new Error("READONLY You can't write against a read only replica."))).toBe(1);
    expect(reconnect(new Error('UNBLOCKED force unblock from blocking operation'))).toBe(1);
    expect(reconnect(new Error('ERR unknown command'))).toBe(false);
    expect(redisOptions(location, 'producer')).toMatchObject({ enableOfflineQueue: false });
  });

  it('names every bad or conflicting setting, all at once', () => {
    const message = refusal({
      REDIS_URL: 'redis://cache:6379',
      REDIS_SENTINELS: 'a:26379,b',
      REDIS_TLS: 'maybe',
      REDIS_SENTINEL_TLS: 'sometimes',
    });
    expect(message).toContain('REDIS_URL: set together with REDIS_SENTINELS');
    expect(message).toContain('REDIS_SENTINELS: "b" is not host:port');
    expect(message).toContain('REDIS_SENTINEL_NAME: required with REDIS_SENTINELS');
    expect(message).toContain('REDIS_TLS: expected true or false');
    expect(message).toContain('REDIS_SENTINEL_TLS: expected true or false');
    expect(refusal({ REDIS_SENTINELS: 'a:0', REDIS_SENTINEL_NAME: 'e' })).toContain('"a:0"');
    expect(
      refusal({ REDIS_SENTINELS: 'a:26379', REDIS_SENTINEL_NAME: 'e', REDIS_TLS_SERVERNAME: 'x' }),
    ).toContain('REDIS_TLS_SERVERNAME: needs REDIS_TLS=true');
  });

  it('refuses Sentinel settings without REDIS_SENTINELS, so a typo is not ignored', () => {
    const message = refusal({ REDIS_SENTINEL_NAME: 'errand', REDIS_PASSWORD: 'secret' });
    expect(message).toContain('REDIS_SENTINEL_NAME: is for Sentinel mode');
    expect(message).toContain('REDIS_PASSWORD: is for Sentinel or Cluster mode');
    expect(message).not.toContain('secret');
  });

  it('is a Cluster with REDIS_CLUSTER_NODES, every node reached with the same user and TLS', () => {
    const location = locate({
      REDIS_CLUSTER_NODES: '10.0.0.1:7000,redis-2.internal:7001, [::1]:7002',
      REDIS_USERNAME: 'errand',
      REDIS_PASSWORD: 'p@ss',
      REDIS_TLS: 'true',
      REDIS_TLS_SERVERNAME: 'redis.internal',
    });
    expect(location).toEqual({
      mode: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: 'redis-2.internal', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      username: 'errand',
      password: 'p@ss',
      tls: { servername: 'redis.internal' },
    });
    expect(describeLocation(location)).toBe('cluster 10.0.0.1:7000,redis-2.internal:7001,::1:7002');
    expect(redisOptions(location, 'worker')).toMatchObject({
      username: 'errand',
      password: 'p@ss',
      tls: { servername: 'redis.internal' },
      maxRetriesPerRequest: null,
    });
  });

  it('refuses a Cluster beside another mode, or with a bad node list, naming each setting', () => {
    const message = refusal({
      REDIS_CLUSTER_NODES: '10.0.0.1:7000,10.0.0.2',
      REDIS_URL: 'redis://cache:6379',
      REDIS_SENTINELS: 's1:26379',
      REDIS_SENTINEL_NAME: 'errand',
    });
    expect(message).toContain('REDIS_URL: set together with REDIS_CLUSTER_NODES');
    expect(message).toContain('REDIS_SENTINELS: set together with REDIS_CLUSTER_NODES');
    expect(message).toContain(
      'REDIS_SENTINEL_NAME: is for Sentinel mode, not with REDIS_CLUSTER_NODES',
    );
    expect(message).toContain('REDIS_CLUSTER_NODES: "10.0.0.2" is not host:port');
  });
});
