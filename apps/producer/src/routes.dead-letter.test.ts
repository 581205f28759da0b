import { request } from '@errand/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startProducer } from '../test/app.testkit.ts';
import { finisher, idsOf } from '../test/dead-letter.testkit.ts';
import { apiAuditKey } from './audit.ts';

const ADMIN = 'admin-key-0123456789abcdef';
const READER = 'reader-key-0123456789abcdef';

/** Bulk retry and discard of failed jobs: real Redis, real BullMQ, audited. */
describe('dead letter actions', () => {
  let producer: Awaited<ReturnType<typeof startProducer>>;
  let jobs: Awaited<ReturnType<typeof finisher>>;
  beforeAll(async () => {
    producer = await startProducer('deadletter', {
      apiKeys: [
        { name: 'ops', key: ADMIN, scopes: ['enqueue', 'read', 'admin'] },
        { name: 'reader', key: READER, scopes: ['read'] },
      ],
    });
    jobs = await finisher(producer);
  });
  afterAll(async () => {
    await jobs?.close();
    await producer?.stop();
  });

  const call = (method: string, path: string, json?: unknown, key = ADMIN) =>
    request(`${producer.api}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}` },
      ...(json === undefined ? {} : { json }),
    });
  const retry = (filter: object) => call('POST', '/v1/jobs/email/retry', filter);
  const stateOf = (id: string | undefined) => producer.queues.email.getJobState(id as string);
  // Retried jobs wait: the finisher would take them before the next test's own.
  beforeEach(() => producer.queues.email.obliterate({ force: true }));

  it('retries the failed jobs of a reason, a page at a time, and none twice', async () => {
    const failed = await jobs.fail('timeout: 1', 'refused', 'timeout: 2', 'timeout: 3', 'refused');
    const timeouts = [failed[3], failed[2], failed[0]].map((job) => job?.id);
    const first = await retry({ reasonPrefix: 'timeout', limit: 2 });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ matched: 2, retried: 2, skipped: 0, cursor: expect.any(String) });
    expect([await stateOf(timeouts[0]), await stateOf(timeouts[1])]).toEqual([
      'waiting',
      'waiting',
    ]);
    expect(await stateOf(timeouts[2])).toBe('failed');

    const rest = await retry({ state: 'dead', reasonPrefix: 'timeout', cursor: first.body.cursor });
    expect(rest.body).toEqual({ matched: 1, retried: 1, skipped: 0, cursor: null });
    const again = await retry({ reasonPrefix: 'timeout' });
    expect(again.body).toEqual({ matched: 0, retried: 0, skipped: 0, cursor: null });
    expect(await stateOf(failed[1]?.id)).toBe('failed');
    const view = await call('GET', `/v1/jobs/email/${timeouts[2]}`);
    expect(view.body).toMatchObject({ state: 'waiting', failedReason: null });
    // A fresh set of attempts, as the retry of one job gives
    expect((await producer.queues.email.getJob(timeouts[2] as string))?.attemptsMade).toBe(0);
  });

  it('retries each job once when two calls race, counting the other’s as skipped', async () => {
    const failed = await jobs.fail(...Array.from({ length: 20 }, (_, n) => `race ${n}`));
    const answers = await Promise.all([retry({}), retry({})]);
    const retried = answers.reduce((sum, a) => sum + a.body.retried, 0);
    expect(retried).toBe(20);
    for (const { body } of answers) expect(body.retried + body.skipped).toBe(body.matched);
    const waiting = await producer.redis.lrange(producer.queues.email.toKey('wait'), 0, -1);
    expect(waiting.sort()).toEqual(failed.map((job) => job.id).sort());
  });

  it('retries by time: since and until bound when the job failed', async () => {
    const failed = await jobs.fail('a', 'b', 'c');
    const at = new Date(failed[1]?.finishedOn as number).toISOString();
    const answer = await retry({ since: at, until: at });
    expect(answer.body).toMatchObject({ matched: 1, retried: 1 });
    expect(await stateOf(failed[1]?.id)).toBe('waiting');
    expect([await stateOf(failed[0]?.id), await stateOf(failed[2]?.id)]).toEqual([
      'failed',
      'failed',
    ]);
  });

  it('discards failed jobs of a reason, then completed ones; never waiting ones', async () => {
    const failed = await jobs.fail('poison: x', 'flaky', 'poison: y');
    const done = await jobs.complete();
    const discard = (query: string) => call('DELETE', `/v1/jobs/email?${query}`);
    const poisoned = await discard('reasonPrefix=poison&limit=1');
    expect(poisoned.body).toEqual({
      matched: 1,
      removed: 1,
      skipped: 0,
      cursor: expect.any(String),
    });
    const rest = await discard(`state=dead&reasonPrefix=poison&cursor=${poisoned.body.cursor}`);
    expect(rest.body).toEqual({ matched: 1, removed: 1, skipped: 0, cursor: null });
    expect((await call('GET', `/v1/jobs/email/${failed[0]?.id}`)).status).toBe(404);
    expect(idsOf((await call('GET', '/v1/jobs/email')).body)).toEqual([failed[1]?.id]);

    expect((await discard('state=completed')).body).toMatchObject({ matched: 1, removed: 1 });
    expect(await stateOf(done.id)).toBe('unknown');
    expect((await discard('state=waiting')).status).toBe(400);
  });

  it('audits each bulk action: who, what, the filter, the counts', async () => {
    await jobs.fail('audited');
    await retry({ reasonPrefix: 'audited' });
    await call('DELETE', '/v1/jobs/email?state=completed&limit=5');
    const rows = await producer.redis.xrevrange(apiAuditKey('deadletter'), '+', '-', 'COUNT', 2);
    const [discard, retried] = rows.map(([, fields]) => JSON.parse(fields[1] as string));
    expect(retried).toMatchObject({
      key: 'ops',
      action: 'retry-jobs',
      type: 'email',
      filter: { state: 'failed', reasonPrefix: 'audited', limit: 100 },
      counts: { matched: 1, retried: 1, skipped: 0 },
      outcome: 'ok',
      at: expect.any(String),
    });
    expect(discard).toMatchObject({
      action: 'discard-jobs',
      filter: { state: 'completed', limit: 5 },
    });
  });

  it('lets a read key list but not retry or discard (403)', async () => {
    expect((await call('GET', '/v1/jobs/email?state=failed', undefined, READER)).status).toBe(200);
    const retried = await call('POST', '/v1/jobs/email/retry', {}, READER);
    expect(retried).toMatchObject({
      status: 403,
      body: { type: expect.stringMatching(/forbidden$/) },
    });
    expect((await call('DELETE', '/v1/jobs/email', undefined, READER)).status).toBe(403);
  });

  it('keeps batch, one job’s retry and cancel beside the bulk routes', async () => {
    const data = { to: 'b@example.com', subject: 'B', text: 'x' };
    const batch = await call('POST', '/v1/jobs/email/batch', { jobs: [{ data }] });
    expect(batch.status).toBe(202);
    const cancelled = await call('DELETE', `/v1/jobs/email/${batch.body.jobs[0].id}`);
    expect(cancelled.body).toMatchObject({ state: 'cancelled' });
    const [failed] = await jobs.fail('one');
    const one = await call('POST', `/v1/jobs/email/${failed?.id}/retry`);
    expect(one).toMatchObject({ status: 202, body: { id: failed?.id, state: 'waiting' } });
  });
});
