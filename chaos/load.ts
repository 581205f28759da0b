import type { JobType } from '@errand/contract';
import { request } from '@errand/testing';
import { sleep } from './scenario.ts';

/** One job the run means to enqueue, under its own Idempotency-Key. */
export interface Intended {
  key: string;
  type: Extract<JobType, 'email' | 'analytics'>;
  data: unknown;
  /** Analytics events in the job (each with an id of its own). */
  events: number;
}

/** What the enqueue side saw: per intended job the acknowledged id, and every answer's time. */
export interface LoadResult {
  acknowledged: Map<string, { id: string; type: Intended['type'] }>;
  /** Intended jobs never acknowledged before the deadline. */
  gaveUp: number;
  /** 503 answers (retried), with how long each took. */
  unavailable: number[];
  /** Network errors (connection refused or reset while the producer restarts). */
  networkErrors: number;
  /** Any other non-2xx answer: a bug. */
  unexpected: { status: number; body: string }[];
}

/** One answer of the API as the load saw it; status 0 for a network error. */
export interface Answer {
  /** The intended job's Idempotency-Key. */
  key: string;
  sentAt: number;
  ms: number;
  status: number;
  retryAfter: string | null;
}

/** The run's jobs: `count` of them, `emailShare` of them mails to the sink, the rest analytics. */
export function mixedJobs(run: string, count: number, emailShare = 0.2): Intended[] {
  const step = Math.round(1 / emailShare);
  return Array.from({ length: count }, (_, n): Intended => {
    const key = `${run}-${n}`;
    if (n % step === 0) {
      return {
        key,
        type: 'email',
        data: { to: `user${n}@chaos.localhost`, subject: `Chaos ${key}`, text: `Message ${key}` },
        events: 0,
      };
    }
    const events = 1 + (n % 3);
    const timestamp = new Date().toISOString();
    return {
      key,
      type: 'analytics',
      data: {
        events: Array.from({ length: events }, (_, e) => ({
          id: `${key}-e${e}`,
          name: `chaos_${run}`,
          userId: `u${n % 500}`,
          timestamp,
        })),
      },
      events,
    };
  });
}

/**
 * Enqueue every intended job through the HTTP API with `concurrency` requests in flight,
 * each retried (same Idempotency-Key) on 503 or a network error until acknowledged or until
 * `deadlineMs` from the start. `onProgress` sees the count of acknowledged jobs.
 */
export async function enqueueAll(
  api: () => string,
  intended: Intended[],
  options: {
    concurrency: number;
    deadlineMs: number;
    onProgress?: (acked: number) => void;
    /** Every answer (or network error, status 0): when it was sent, how long it took. */
    onAnswer?: (answer: Answer) => void;
    /** Each loop waits this long between requests: a steady rate instead of flat out. */
    paceMs?: number;
    /** Take no new intended job once this says true (those begun are still seen through). */
    stop?: () => boolean;
  },
): Promise<LoadResult> {
  const result: LoadResult = {
    acknowledged: new Map(),
    gaveUp: 0,
    unavailable: [],
    networkErrors: 0,
    unexpected: [],
  };
  const deadline = Date.now() + options.deadlineMs;
  let next = 0;
  const one = async (job: Intended) => {
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      const started = performance.now();
      try {
        const answer = await fetch(`${api()}/v1/jobs/${job.type}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': job.key },
          body: JSON.stringify({ data: job.data }),
          signal: AbortSignal.timeout(30_000),
        });
        const text = await answer.text();
        options.onAnswer?.({
          key: job.key,
          sentAt: started,
          ms: performance.now() - started,
          status: answer.status,
          retryAfter: answer.headers.get('retry-after'),
        });
        if (answer.status === 202 || answer.status === 200) {
          result.acknowledged.set(job.key, { id: JSON.parse(text).id, type: job.type });
          options.onProgress?.(result.acknowledged.size);
          return;
        }
        if (answer.status === 503) result.unavailable.push(performance.now() - started);
        else result.unexpected.push({ status: answer.status, body: text.slice(0, 300) });
        if (answer.status !== 503 && answer.status !== 409) return;
      } catch {
        result.networkErrors++;
        options.onAnswer?.({
          key: job.key,
          sentAt: started,
          ms: performance.now() - started,
          status: 0,
          retryAfter: null,
        });
      }
      await sleep(Math.min(1_000, 50 * 2 ** attempt) * (0.5 + Math.random()));
    }
    result.gaveUp++;
  };
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (next < intended.length && !options.stop?.()) {
        await one(intended[next++] as Intended);
        if (options.paceMs) await sleep(options.paceMs);
      }
    }),
  );
  return result;
}

/**
 * `count` jobs of `type` over the API, spread evenly over `spreadMs` by 8 lanes, each sent
 * until the API acknowledges it (20 tries, 200 ms apart: a restarting producer or Redis
 * answers nothing or 503 meanwhile); its Idempotency-Key `<run>-<n>` makes every retry the
 * same job. `acked` fills as they are acknowledged (index → job id); `done` resolves when
 * every lane is through, with the time of it.
 */
export function enqueuePaced(options: {
  api: string;
  type: JobType;
  run: string;
  count: number;
  spreadMs: number;
  headers?: Record<string, string>;
  body: (n: number) => unknown;
}): { acked: Map<number, string>; done: Promise<number> } {
  const { api, type, run, count, spreadMs, headers = {}, body } = options;
  const acked = new Map<number, string>();
  const started = performance.now();
  const done = Promise.all(
    Array.from({ length: 8 }, async (_, lane) => {
      for (let n = lane; n < count; n += 8) {
        await sleep(Math.max(0, started + (n * spreadMs) / count - performance.now()));
        for (let tries = 0; !acked.has(n) && tries < 20; tries++) {
          const sent = await request(`${api}/v1/jobs/${type}`, {
            method: 'POST',
            headers: { ...headers, 'idempotency-key': `${run}-${n}` },
            json: body(n),
          }).catch(() => undefined);
          if (sent?.status === 202 || sent?.status === 200) acked.set(n, sent.body.id);
          else await sleep(200);
        }
      }
    }),
  ).then(() => performance.now());
  return { acked, done };
}
