import { createClient, ErrandApiError } from '@errand/client';
import type { ScheduleInput } from '@errand/contract';
import { request } from '@errand/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProducer } from '../test/app.testkit.ts';

const ADMIN = 'schedules-admin-key-0123456789';
const READER = 'schedules-reader-key-012345678';
const ENQUEUER = 'schedules-enqueue-key-01234567';
const ROOT = 'schedules-root-key-0123456789ab';

const digest: ScheduleInput = {
  cron: '0 7 * * *',
  tz: 'Europe/Berlin',
  job: { type: 'digest', data: { events: ['signup'], to: ['ops@example.com'] } },
};

/** The schedules API over HTTP, through the typed client, against a real Redis. */
describe('schedules API', () => {
  let producer: Awaited<ReturnType<typeof startProducer>>;
  const client = (key: string) => createClient({ baseUrl: producer.api, apiKey: key, retries: 0 });
  const refusal = async (call: Promise<unknown>) => {
    const error = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ErrandApiError);
    return error as ErrandApiError;
  };

  beforeAll(async () => {
    producer = await startProducer('schedules-api', {
      apiKeys: [
        { name: 'ops', key: ADMIN, scopes: ['read', 'admin'] },
        { name: 'viewer', key: READER, scopes: ['read'] },
        { name: 'service', key: ENQUEUER, scopes: ['enqueue'] },
        { name: 'root', key: ROOT, scopes: ['enqueue', 'read', 'admin'] },
      ],
    });
  });
  afterAll(() => producer?.stop());

  it('creates with 201, answers the same body with 200 and changes nothing', async () => {
    const first = await request(`${producer.api}/v1/schedules/daily-digest`, {
      method: 'PUT',
      json: digest,
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(first.status).toBe(201);
    expect(first.headers.get('location')).toBe('/v1/schedules/daily-digest');
    expect(first.body).toMatchObject({
      id: 'daily-digest',
      source: 'api',
      paused: false,
      overlap: 'allow',
      catchUp: 'latest',
      job: { type: 'digest', data: { timeZone: 'UTC', subject: 'Errand daily digest' } },
      history: [],
      lastRun: null,
    });
    // 07:00 in Berlin is 06:00 or 05:00 UTC, by the season
    expect(first.body.nextRuns).toHaveLength(5);
    for (const at of first.body.nextRuns as string[]) expect(at).toMatch(/T0[56]:00:00\.000Z$/);
    expect(first.body.nextRunAt).toBe(first.body.nextRuns[0]);

    const again = await request(`${producer.api}/v1/schedules/daily-digest`, {
      method: 'PUT',
      json: digest,
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(again.status).toBe(200);
    expect(again.body.updatedAt).toBe(first.body.updatedAt);
    const changed = await client(ADMIN).schedules.put('daily-digest', { ...digest, jitter: 1_000 });
    expect(changed.jitter).toBe(1_000);
    expect(changed.updatedAt > first.body.updatedAt).toBe(true);
    await client(ADMIN).schedules.put('daily-digest', digest);
    const list = await client(READER).schedules.list();
    expect(list.map((s) => s.id)).toEqual(['daily-digest']);
  });

  it('needs admin to write, pause, resume, run or delete; read to look', async () => {
    for (const key of [READER, ENQUEUER]) {
      const error = await refusal(client(key).schedules.put('x', digest));
      expect([error.status, error.code]).toEqual([403, 'forbidden']);
      expect((await refusal(client(key).schedules.run('daily-digest'))).status).toBe(403);
      expect((await refusal(client(key).schedules.pause('daily-digest'))).status).toBe(403);
      expect((await refusal(client(key).schedules.delete('daily-digest'))).status).toBe(403);
    }
    expect((await refusal(client(ENQUEUER).schedules.list())).status).toBe(403);
    expect((await client(READER).schedules.get('daily-digest')).id).toBe('daily-digest');
  });

  it('pauses, resumes and runs once now; the job carries the schedule id', async () => {
    const admin = client(ADMIN);
    expect(await admin.schedules.pause('daily-digest')).toMatchObject({
      paused: true,
      nextRunAt: null,
      nextRuns: [],
    });
    const resumed = await admin.schedules.resume('daily-digest');
    expect(resumed.paused).toBe(false);
    expect(resumed.nextRunAt).not.toBeNull();

    const run = await admin.schedules.run('daily-digest');
    expect(run).toMatchObject({ schedule: 'daily-digest', type: 'digest' });
    const job = await admin.get('digest', run.jobId);
    expect(job).toMatchObject({ schedule: 'daily-digest', producer: null, state: 'waiting' });
  });

  it('answers 409 for a schedule of the file, saying to edit the file', async () => {
    await producer.deps.schedules.put(
      'from-file',
      { ...digest, overlap: 'allow', catchUp: 'latest' } as never,
      'file',
    );
    const write = await refusal(client(ADMIN).schedules.put('from-file', digest));
    expect([write.status, write.code]).toEqual([409, 'schedule-source-conflict']);
    expect(write.problem?.detail).toContain('change or remove it there');
    expect((await refusal(client(ADMIN).schedules.delete('from-file'))).status).toBe(409);
    // operating it is fine
    expect((await client(ADMIN).schedules.pause('from-file')).paused).toBe(true);
  });

  it('deletes: gone from the list, its scheduler gone, then 404', async () => {
    await client(ADMIN).schedules.delete('daily-digest');
    expect(await producer.queues.digest.getJobScheduler('daily-digest')).toBeUndefined();
    const gone = await refusal(client(ADMIN).schedules.get('daily-digest'));
    expect([gone.status, gone.code]).toEqual([404, 'schedule-not-found']);
  });

  it('refuses internal job types to a key without admin, and takes them with it', async () => {
    const data = { olderThanHours: 24 };
    const refused = await refusal(client(ENQUEUER).enqueue('image-cleanup', data));
    expect([refused.status, refused.problem?.detail]).toEqual([
      403,
      'The key "service" lacks the "admin" scope.',
    ]);
    const taken = await client(ROOT).enqueue('image-cleanup', data);
    expect(taken).toMatchObject({ type: 'image-cleanup', state: 'waiting' });
    expect(
      (
        await client(ENQUEUER).enqueue('analytics', {
          events: [{ id: 'e', name: 'signup', timestamp: new Date().toISOString() }],
        })
      ).state,
    ).toBe('waiting');
  });
});
