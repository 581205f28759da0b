import { makeAnalyticsReader } from '@errand/analytics';
import type { Intended, LoadResult } from './load.ts';
import type { Platform, RedisTopology } from './platform.ts';

/** The figures every scenario prints: what was promised, and what became of it. */
export interface Outcome {
  acknowledged: number;
  processed: number;
  /** Acknowledged jobs that are gone from Redis without having run. */
  lost: number;
  /** Acknowledged jobs still not completed at the deadline (failed or stuck). */
  unfinished: number;
  mailsTwice: number;
  mailsMissing: number;
  eventsTwice: number;
  eventsMissing: number;
  /** The Idempotency-Keys of the lost jobs, and of the acknowledged mails never delivered. */
  lostKeys: string[];
  undeliveredKeys: string[];
}

const DAY_S = 86_400;

/**
 * Wait until every acknowledged job completed (or `timeoutMs` passed), then count: job states
 * from Redis, mails from the SMTP sink by their X-Errand-Job-Id header, analytics events from
 * the aggregates of the run's event name. Every event has an id of its own, so an event
 * counted twice shows as a total above what the acknowledged jobs carried.
 */
export async function settle(
  platform: Platform<RedisTopology>,
  run: string,
  intended: Intended[],
  load: LoadResult,
  timeoutMs: number,
): Promise<Outcome> {
  const acked = [...load.acknowledged];
  const deadline = Date.now() + timeoutMs;
  let states: string[] = [];
  for (;;) {
    states = await Promise.all(
      acked.map(([, { id, type }]) => platform.queues[type].getJobState(id).catch(() => 'error')),
    );
    const open = states.filter((s) => s !== 'completed' && s !== 'failed' && s !== 'unknown');
    if (open.length === 0 || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }

  const delivered = deliveries(platform);
  const mailsTwice = [...delivered.values()].reduce((sum, at) => sum + at.length - 1, 0);
  const undeliveredKeys = acked
    .filter(([, job]) => job.type === 'email' && !delivered.has(job.id))
    .map(([key]) => key);

  const byKey = new Map(intended.map((job) => [job.key, job]));
  const expectedEvents = [...load.acknowledged.keys()].reduce(
    (sum, key) => sum + (byKey.get(key)?.events ?? 0),
    0,
  );
  const now = Math.floor(Date.now() / 1000);
  const from = (Math.floor(now / DAY_S) - 1) * DAY_S;
  const report = await makeAnalyticsReader(platform.observer, platform.prefix).report({
    event: `chaos_${run}`,
    range: { granularity: 'day', from, to: from + 3 * DAY_S },
    top: [],
    limit: 1,
  });
  const counted = report.total.count;

  return {
    acknowledged: acked.length,
    processed: states.filter((s) => s === 'completed').length,
    lost: states.filter((s) => s === 'unknown').length,
    unfinished: states.filter((s) => s !== 'completed' && s !== 'unknown').length,
    mailsTwice,
    mailsMissing: undeliveredKeys.length,
    eventsTwice: Math.max(0, counted - expectedEvents),
    eventsMissing: Math.max(0, expectedEvents - counted),
    lostKeys: acked.filter((_, i) => states[i] === 'unknown').map(([key]) => key),
    undeliveredKeys,
  };
}

/** When each mail the sink took arrived (`Date.now()`), in order, by its X-Errand-Job-Id. */
export function deliveries(platform: Platform<RedisTopology>): Map<string, number[]> {
  const arrivals = new Map<string, number[]>();
  for (const message of platform.sink.messages) {
    const id = String(message.parsed.headers.get('x-errand-job-id'));
    arrivals.set(
      id,
      [...(arrivals.get(id) ?? []), message.receivedAt].sort((a, b) => a - b),
    );
  }
  return arrivals;
}

/** Whether nothing acknowledged was lost, left undone or done twice. */
export const intact = (o: Outcome) =>
  o.lost + o.unfinished + o.mailsTwice + o.mailsMissing + o.eventsTwice + o.eventsMissing === 0 &&
  o.processed === o.acknowledged;

/** The outcome as the figures of a result line. */
export const outcomeFigures = (o: Outcome) =>
  `acknowledged ${o.acknowledged}, processed ${o.processed}, lost ${o.lost}, unfinished ${o.unfinished}, ` +
  `mails twice ${o.mailsTwice}, mails missing ${o.mailsMissing}, events twice ${o.eventsTwice}, events missing ${o.eventsMissing}`;
