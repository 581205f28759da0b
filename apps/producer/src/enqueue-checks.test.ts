import { batchEnvelope, enqueueEnvelope, type JobType, jobs, jobTypes } from '@errand/contract';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { badCases } from '../test/app.bad-input.cases.ts';
import { outboundCases } from '../test/app.bad-input.outbound.cases.ts';
import { enqueueChecks } from './enqueue-checks.ts';

/** Valid payloads of each type, every optional field used somewhere. */
const seeds: Record<JobType, unknown[]> = {
  email: [
    { to: 'a@example.com', subject: 'Hi', text: 'Hello' },
    {
      to: ['a@example.com', 'Ada <b@example.com>'],
      cc: ['c@example.com'],
      bcc: 'd@example.com',
      from: 'e@example.com',
      replyTo: 'f@example.com',
      subject: 'S',
      html: '<p>x</p>',
    },
    { to: 'a@example.com', subject: 'Hi', template: { name: 'welcome', data: { n: 1 } } },
    { to: 'a@example.com', subject: 'Hi', template: { name: 'digest' } },
  ],
  image: [
    {
      source: { url: 'https://img.example.com/a.png' },
      outputs: [{ format: 'webp', width: 100, height: 50, fit: 'cover', quality: 80 }],
    },
    { source: { key: 'uploads/a.png' }, outputs: [{ format: 'png' }, { format: 'avif' }] },
  ],
  analytics: [
    {
      events: [
        {
          id: 'e-1',
          name: 'page.view',
          timestamp: '2026-12-07T23:59:33.573Z',
          userId: 'user-1',
          properties: { plan: 'pro', amount: 3, ok: true, none: null },
        },
        { id: 'e-2', name: 'signup', timestamp: '2026-12-07T23:59:33+02:00', anonymousId: 'a' },
      ],
    },
  ],
  http: [
    {
      url: 'https://api.example.com/x',
      method: 'POST',
      headers: { 'x-a': '1' },
      body: '{}',
      timeoutMs: 1000,
    },
  ],
  webhook: [
    {
      eventId: 'msg_abc123',
      event: {
        type: 'job.completed',
        timestamp: '2026-12-07T00:00:00Z',
        data: {
          jobType: 'email',
          jobId: '1',
          state: 'completed',
          producer: null,
          attemptsMade: 1,
          result: { ok: true },
          finishedAt: '2026-12-07T00:00:00Z',
        },
      },
      to: { subscription: 'sub-1' },
    },
  ],
  digest: [
    { events: ['signup'], to: ['a@example.com'] },
    { events: ['signup', 'login'], to: ['a@example.com'], timeZone: 'Europe/Paris', subject: 'D' },
  ],
  'image-cleanup': [{ olderThanHours: 24 }],
  'analytics-maintenance': [{}],
};

const envelopes = [
  { data: {}, delay: 1000, priority: 5, attempts: 3, callbackUrl: 'https://hooks.example.com/x' },
  { data: 1, runAt: '2030-01-01T00:00:00+02:00' },
];

const DELETE = Symbol('delete');
/** What each field, element and whole value is replaced with in turn. */
const hostile: unknown[] = [
  DELETE,
  null,
  0,
  -1,
  1.5,
  2 ** 53,
  '',
  'x',
  'x'.repeat(3000),
  'a\r\nb',
  'not a url',
  'https://user:pw@api.example.com/x',
  'ftp://api.example.com/x',
  '2026-13-01T00:00:00Z',
  true,
  [],
  ['x'],
  {},
  { a: 1 },
];

/** Every path to a value inside `value` (objects and arrays), the root's included. */
function pathsOf(value: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (!value || typeof value !== 'object') return [at];
  const keys = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return [
    at,
    ...keys.flatMap((key) => pathsOf((value as Record<string, unknown>)[key], [...at, key])),
  ];
}

/** `value` with the thing at `path` replaced by `by` (or removed), or a key added beside it. */
function mutated(value: unknown, path: (string | number)[], by: unknown): unknown {
  if (path.length === 0) return by;
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as typeof copy;
  const last = path.at(-1) as string | number;
  if (by === DELETE) {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else parent[last] = by;
  return copy;
}

/** Each seed, and each seed with each of its values (and an unknown key) made hostile. */
function variantsOf(seed: unknown): unknown[] {
  const variants: unknown[] = [seed];
  for (const path of pathsOf(seed)) {
    for (const by of hostile) variants.push(mutated(seed, path, by));
    const at = path.reduce<unknown>((value, key) => (value as Record<string, unknown>)[key], seed);
    if (at && typeof at === 'object' && !Array.isArray(at)) {
      variants.push(mutated(seed, [...path, 'unknownKey'], 1));
    }
  }
  return variants;
}

/** What a parse answers, in the order its keys come (the job data is stored as JSON). */
function outcome(schema: z.ZodType, value: unknown): string {
  const result = schema.safeParse(value);
  return JSON.stringify(result.success ? { data: result.data } : { issues: result.error.issues });
}

/** The bodies of the bad-input battery sent to an enqueue route, with their job type. */
function batteryBodies(): { type: JobType; body: unknown }[] {
  const found = [];
  for (const c of [...badCases, ...outboundCases]) {
    const path = c.path ?? '/v1/jobs/email';
    const type = /^\/v1\/jobs\/([a-z-]+)(\/batch)?$/.exec(path);
    if (!type?.[1] || !(jobTypes as string[]).includes(type[1]) || c.json === undefined) continue;
    const items = type[2] ? (c.json as { jobs?: unknown }).jobs : [c.json];
    for (const body of Array.isArray(items) ? items : []) {
      found.push({ type: type[1] as JobType, body });
    }
  }
  return found;
}

/**
 * The compiled checks of every enqueue body answer exactly as zod's own parser of the same
 * schemas: the same data, key for key in the same order, for what they accept, the same issues
 * for what they refuse, so the problem documents and the stored jobs are as without them.
 */
describe('the compiled enqueue checks', () => {
  it('compile, the envelopes and every job type’s payload', () => {
    // z.compile hands a schema it cannot compile back as it is: slower, not wrong; strict says why
    for (const type of jobTypes) {
      expect(() => z.compile(jobs[type].schema, { strict: true }), type).not.toThrow();
    }
    expect(() => z.compile(enqueueEnvelope(z.unknown()), { strict: true })).not.toThrow();
    expect(() => z.compile(batchEnvelope(z.unknown()), { strict: true })).not.toThrow();
  });

  it('answer as zod’s parser for each payload, valid and made hostile field by field', () => {
    let compared = 0;
    for (const type of jobTypes) {
      for (const seed of seeds[type]) {
        for (const value of variantsOf(seed)) {
          const compiled = outcome(enqueueChecks.payloads[type], value);
          expect(compiled, `${type}: ${JSON.stringify(value)?.slice(0, 300)}`).toBe(
            outcome(jobs[type].schema, value),
          );
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(1000);
  });

  it('answer as zod’s parser for the envelope and the batch, and for every body of the bad-input battery', () => {
    const envelope = enqueueEnvelope(z.unknown());
    for (const value of envelopes.flatMap(variantsOf)) {
      expect(outcome(enqueueChecks.envelope, value), JSON.stringify(value)).toBe(
        outcome(envelope, value),
      );
    }
    const batch = batchEnvelope(z.unknown());
    for (const value of variantsOf({ jobs: [{ data: {} }, { data: 1 }] })) {
      expect(outcome(enqueueChecks.batch, value), JSON.stringify(value)).toBe(
        outcome(batch, value),
      );
    }
    const bodies = batteryBodies();
    expect(bodies.length).toBeGreaterThan(50);
    for (const { type, body } of bodies) {
      const what = `${type}: ${JSON.stringify(body).slice(0, 300)}`;
      expect(outcome(enqueueChecks.envelope, body), what).toBe(outcome(envelope, body));
      const data = (body as { data?: unknown } | null)?.data;
      expect(outcome(enqueueChecks.payloads[type], data), what).toBe(
        outcome(jobs[type].schema, data),
      );
    }
  });
});
