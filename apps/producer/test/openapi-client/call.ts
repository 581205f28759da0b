/**
 * A caller without the SDK: types generated from the served `/openapi.json` by
 * openapi-typescript (`schema.d.ts`, written beside this file by the test), calls made with
 * openapi-fetch. The test type-checks it with `tsc`, then runs it against the producer.
 */
import createClient from 'openapi-fetch';
import type { components, paths } from './schema.js';

type QueueStatus = components['schemas']['QueueStatus'];

const api = createClient<paths>({
  baseUrl: process.env.ERRAND_URL,
  headers: { authorization: `Bearer ${process.env.ERRAND_API_KEY}` },
});

const enqueued = await api.POST('/v1/jobs/{type}', {
  params: { path: { type: 'analytics' }, header: { 'idempotency-key': 'generated-1' } },
  body: {
    data: { events: [{ id: 'g-1', name: 'generated', timestamp: new Date().toISOString() }] },
  },
});
if (!enqueued.data) throw new Error(`enqueue failed: ${JSON.stringify(enqueued.error)}`);
const id: string = enqueued.data.id;

const job = await api.GET('/v1/jobs/{type}/{id}', { params: { path: { type: 'analytics', id } } });
const state: components['schemas']['JobView']['state'] | undefined = job.data?.state;

const { data: listed } = await api.GET('/v1/queues');
const status: QueueStatus | undefined = listed?.queues.find((q) => q.type === 'analytics');
// The seven counted states are fields of their own, each a number.
const waiting: number | undefined = status?.counts.waiting;
const children: number | undefined = status?.counts['waiting-children'];

// Only type-checked, never called: what the generated types refuse.
export const refused = (s: QueueStatus) => [
  // @ts-expect-error the counts name their states; there is no other
  s.counts.stalled,
  // @ts-expect-error no such job type
  api.POST('/v1/jobs/{type}', { params: { path: { type: 'fax' } }, body: { data: {} } }),
  // @ts-expect-error an enqueue needs a body
  api.POST('/v1/jobs/{type}', { params: { path: { type: 'email' } } }),
];

process.stdout.write(`${JSON.stringify({ id, state, waiting, children })}\n`);
