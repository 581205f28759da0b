import { freePort } from '@errand/devservers';
import { startApp, startTestRedis, type TestRedis } from '@errand/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** How the producer process starts, or refuses to, as an operator sees it. */
describe('producer start-up', () => {
  let volatile: TestRedis;

  beforeAll(async () => {
    volatile = await startTestRedis({ appendonly: false });
  });
  afterAll(async () => {
    await volatile?.stop();
  });

  it('refuses a Redis without AOF, saying what to change', async () => {
    const app = startApp('producer', { REDIS_URL: volatile.url, PRODUCER_PORT: '0' });
    expect(await app.exited).toBe(1);
    expect(app.output()).toContain('producer did not start');
    expect(app.output()).toContain('appendonly yes');
    expect(app.output()).toContain('REDIS_REQUIRE_DURABLE=false');
  });

  it('starts with a warning on the same Redis when REDIS_REQUIRE_DURABLE=false', async () => {
    const app = startApp('producer', {
      REDIS_URL: volatile.url,
      REDIS_REQUIRE_DURABLE: 'false',
      PRODUCER_PORT: String(await freePort()),
    });
    await app.waitForLine('producer listening');
    expect(app.output()).toContain('AOF persistence is off');
    expect(await app.stop()).toBe(0);
  });

  it('lists every bad variable at once', async () => {
    const app = startApp('producer', {
      PRODUCER_PORT: 'eighty',
      REDIS_URL: 'http://localhost',
      REDIS_REQUIRE_DURABLE: 'maybe',
      REDIS_COMMAND_TIMEOUT_MS: '0', // below the 50 ms a command needs at least
    });
    expect(await app.exited).toBe(1);
    for (const name of [
      'PRODUCER_PORT',
      'REDIS_URL',
      'REDIS_REQUIRE_DURABLE',
      'REDIS_COMMAND_TIMEOUT_MS',
    ]) {
      expect(app.output()).toContain(`- ${name}:`);
    }
    expect(app.output()).not.toMatch(/\n\s+at /); // a message, not a stack trace
  });

  it('says how to get a Redis when none answers', async () => {
    const app = startApp('producer', { REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    expect(await app.exited).toBe(1);
    expect(app.output()).toContain('Cannot reach Redis');
    expect(app.output()).toContain('REDIS_URL');
  });

  it('refuses to serve beyond loopback without API keys, and refuses production without keys', async () => {
    const exposed = startApp('producer', { PRODUCER_HOST: '0.0.0.0' });
    expect(await exposed.exited).toBe(1);
    expect(exposed.output()).toMatch(/- PRODUCER_HOST: without API_KEYS .*loopback/);
    const production = startApp('producer', { NODE_ENV: 'production' });
    expect(await production.exited).toBe(1);
    expect(production.output()).toMatch(/- API_KEYS: required when NODE_ENV=production/);
  });

  it('names a bad API_KEYS entry without printing its secret', async () => {
    const secret = 'short-secret';
    const app = startApp('producer', {
      API_KEYS: JSON.stringify([{ name: 'billing', key: secret, scopes: ['enqueue', 'root'] }]),
    });
    expect(await app.exited).toBe(1);
    expect(app.output()).toContain('- API_KEYS.0.key:');
    expect(app.output()).toContain('- API_KEYS.0.scopes.1:');
    expect(app.output()).not.toContain(secret);
  });

  it('warns loudly without keys; with keys logs their names, never the secrets', async () => {
    const open = startApp('producer', {
      REDIS_URL: volatile.url,
      REDIS_REQUIRE_DURABLE: 'false',
      PRODUCER_PORT: String(await freePort()),
    });
    await open.waitForLine('producer listening');
    expect(open.output()).toContain('NO API KEYS CONFIGURED');
    expect(await open.stop()).toBe(0);

    const secret = 'a-very-secret-key-0123456789';
    const keyed = startApp('producer', {
      REDIS_URL: volatile.url,
      REDIS_REQUIRE_DURABLE: 'false',
      PRODUCER_PORT: String(await freePort()),
      API_KEYS: JSON.stringify([{ name: 'billing', key: secret, scopes: ['enqueue', 'read'] }]),
    });
    await keyed.waitForLine('producer listening');
    expect(keyed.output()).toContain('"name":"billing"');
    expect(keyed.output()).not.toContain('NO API KEYS');
    expect(keyed.output()).not.toContain(secret);
    expect(await keyed.stop()).toBe(0);
  });
});
