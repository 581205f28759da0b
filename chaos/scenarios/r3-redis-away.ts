import { type Answer, enqueueAll, mixedJobs } from '../load.ts';
import { intact, outcomeFigures, settle } from '../outcome.ts';
import { KEEP_COMPLETED, Platform } from '../platform.ts';
import { checks, ms, percentile, type Scenario, sleep } from '../scenario.ts';

/** The producer's REDIS_COMMAND_TIMEOUT_MS default: a frozen Redis's requests end by then. */
const COMMAND_TIMEOUT_MS = 2_000;
/** Slack over the timeout for the request's own work and this 2-core machine's scheduling. */
const SLACK_MS = 1_000;

type Way = 'stopped' | 'frozen';

/**
 * R3: Redis away for a while under a steady load, two ways. Stopped (the process is gone,
 * connections are refused): the API answers 503 + Retry-After at once. Frozen (SIGSTOP: the
 * connections stay open and nothing answers, as with a hung primary or a cut link): 503 within
 * the command timeout, never a hang. After each, every worker takes jobs again by itself
 * (its /readyz back to 200, a new job completed) without a restart; every request acknowledged
 * is processed once, and a request that got a 503 is acknowledged once retried with its key.
 * Full run: 5 s and 60 s each way; --quick: 5 s each way.
 */
export const redisAway: Scenario = {
  id: 'R3',
  title: 'Redis stopped and frozen under load',
  async run({ quick, log }) {
    const outages: [Way, number][] = quick
      ? [
          ['stopped', 5_000],
          ['frozen', 5_000],
        ]
      : [
          ['stopped', 5_000],
          ['frozen', 5_000],
          ['stopped', 60_000],
          ['frozen', 60_000],
        ];
    const platform = await Platform.start('r3', {
      workers: 2,
      workerEnv: KEEP_COMPLETED,
    });
    const { failures, check } = checks();
    try {
      const intended = mixedJobs('r3', 200_000);
      const answers: Answer[] = [];
      let stop = false;
      const loading = enqueueAll(() => platform.api, intended, {
        concurrency: 8,
        paceMs: 20,
        deadlineMs: 15 * 60_000,
        onAnswer: (answer) => answers.push(answer),
        stop: () => stop,
      });
      const lines: string[] = [];
      for (const [way, length] of outages) {
        await sleep(2_000);
        // From the moment Redis is gone: a stop waits for the process to exit.
        if (way === 'stopped') await platform.redis.stop();
        else platform.redis.freeze();
        const from = performance.now();
        log(`R3: Redis ${way} for ${length / 1000} s`);
        await sleep(length);
        const to = performance.now();
        if (way === 'stopped') await platform.redis.restart();
        else platform.redis.thaw();
        const back = performance.now();
        const resumed = await workersResumed(platform, back);
        // Requests sent while Redis was away.
        const during = answers.filter((a) => a.sentAt >= from && a.sentAt < to);
        const refused = during.filter((a) => a.status === 503);
        const latencies = during.map((a) => a.ms);
        const p99 = percentile(latencies, 99);
        const slowest = Math.max(0, ...latencies);
        const what = `${way} ${length / 1000} s`;
        check(during.length > 0, `${what}: no request was sent during the outage`);
        const others = during
          .filter((a) => a.status !== 503)
          .map((a) => `${a.status} in ${ms(a.ms)}`);
        check(
          others.length === 0,
          `${what}: answers other than 503: ${others.slice(0, 10).join(', ')}`,
        );
        check(
          refused.every((a) => a.retryAfter !== null),
          `${what}: a 503 without Retry-After`,
        );
        if (way === 'stopped') check(p99 < 100, `${what}: 503 p99 ${ms(p99)} (limit 100 ms)`);
        else
          check(slowest <= COMMAND_TIMEOUT_MS + SLACK_MS, `${what}: a request took ${ms(slowest)}`);
        check(
          resumed <= 5_000,
          `${what}: workers took ${ms(resumed)} to take jobs again (limit 5 s)`,
        );
        lines.push(
          `${what}: ${during.length} requests, ${refused.length} × 503, p99 ${ms(p99)}, max ${ms(slowest)}, workers back in ${ms(resumed)}`,
        );
      }
      stop = true;
      const load = await loading;
      const outcome = await settle(platform, 'r3', intended, load, 120_000);
      check(intact(outcome), `not intact: ${outcomeFigures(outcome)}`);
      check(load.gaveUp === 0, `${load.gaveUp} jobs never acknowledged`);
      check(
        load.unexpected.length === 0,
        `unexpected answers: ${JSON.stringify(load.unexpected.slice(0, 3))}`,
      );
      return {
        pass: failures.length === 0,
        failures,
        figures: `${lines.join('; ')}; ${outcomeFigures(outcome)}`,
      };
    } finally {
      await platform.stop();
    }
  },
};

/**
 * From `back` (Redis answering again) until every worker says ready and a job added now has
 * completed: the workers fetch again by themselves.
 */
async function workersResumed(platform: Platform, back: number): Promise<number> {
  const deadline = back + 60_000;
  const ready = async (url: string) => {
    const answer = await fetch(`${url}/readyz`).catch(() => undefined);
    return answer?.status === 200;
  };
  while ((await Promise.all(platform.workers.map((w) => ready(w.url)))).includes(false)) {
    if (performance.now() > deadline) return Number.POSITIVE_INFINITY;
    await sleep(100);
  }
  const probe = await platform.queues.analytics.add('probe', {
    events: [
      {
        id: `probe-${back}`,
        name: 'chaos_probe',
        userId: 'p',
        timestamp: new Date().toISOString(),
      },
    ],
  });
  while ((await probe.getState()) !== 'completed') {
    if (performance.now() > deadline) return Number.POSITIVE_INFINITY;
    await sleep(50);
  }
  return performance.now() - back;
}
