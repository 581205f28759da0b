import type { ScheduleBody } from '@errand/contract';
import { sameDefinition } from '@errand/queues';
import { describe, expect, it } from 'vitest';
import { fingerprintOf } from './idempotency.ts';

/** One notion of "the same body" for an Idempotency-Key's record and for a schedule. */
describe('the same body', () => {
  const schedule = {
    every: 60_000,
    overlap: 'skip',
    catchUp: 'latest',
    job: { type: 'email', data: { to: 'a@example.com', subject: 'Hi', text: 'x' }, attempts: 3 },
  } as ScheduleBody;
  // The same value: other key orders at every depth, and keys that are undefined.
  const reordered = {
    job: { attempts: 3, data: { text: 'x', subject: 'Hi', to: 'a@example.com' }, type: 'email' },
    catchUp: 'latest',
    cron: undefined,
    overlap: 'skip',
    every: 60_000,
    jitter: undefined,
  } as ScheduleBody;
  const changed = { ...schedule, every: 120_000 } as ScheduleBody;

  it('is the same for a schedule and for an idempotency record', () => {
    expect(sameDefinition(schedule, reordered)).toBe(true);
    expect(fingerprintOf('email', reordered)).toBe(fingerprintOf('email', schedule));
  });

  it('tells a changed body apart, for both', () => {
    expect(sameDefinition(schedule, changed)).toBe(false);
    expect(fingerprintOf('email', changed)).not.toBe(fingerprintOf('email', schedule));
  });

  it('keeps the fingerprints that stored records (kept 48 h) hold', () => {
    const body = {
      data: {
        to: ['b@example.com', 'a@example.com'],
        subject: 'Zürich ✓',
        text: 'x',
        headers: { 'X-B': '2', 'x-a': '1' },
      },
      priority: 3,
      delay: 0,
    };
    // Computed by the code of before the shared canonical JSON: a change of key order (say,
    // to localeCompare, which puts "x-a" before "X-B") or of escaping fails here.
    expect(fingerprintOf('email', body)).toBe(
      'c3ee58722ffef5ec4beaaf7a7495499446fe4266979d975ab861418392237495',
    );
  });
});
