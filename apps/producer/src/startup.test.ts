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
    });
    expect(await app.exited).toBe(1);
    for (const name of ['PRODUCER_PORT', 'REDIS_URL', 'REDIS_REQUIRE_DURABLE']) {
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
});
