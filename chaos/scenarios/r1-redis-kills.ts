import { enqueueAll, mixedJobs } from '../load.ts';
import { intact, outcomeFigures, settle } from '../outcome.ts';
import { CRASH_SAFE_FSYNC, KEEP_COMPLETED, Platform } from '../platform.ts';
import { checks, ms, percentile, type Scenario, sleep } from '../scenario.ts';

/**
 * R1: `kill -9` Redis (`appendfsync always`) several times during a mixed run (analytics + email)
 * and restart it from the same AOF. Every acknowledged job must be processed once: no job lost, no
 * mail sent twice, no event counted twice. Recovery: from Redis back up to the next 202.
 */
export const redisKills: Scenario = {
  id: 'R1',
  title: 'kill -9 Redis (appendfsync always) during a mixed run, restart from the same AOF',
  async run({ quick, log }) {
    const count = quick ? 4_000 : 50_000;
    const kills = quick ? 2 : 5;
    const platform = await Platform.start('r1', {
      workers: 3,
      workerEnv: KEEP_COMPLETED,
      appendfsync: CRASH_SAFE_FSYNC,
    });
    try {
      const intended = mixedJobs('r1', count);
      const recoveries: number[] = [];
      let acked = 0;
      const loading = enqueueAll(() => platform.api, intended, {
        concurrency: 32,
        deadlineMs: quick ? 120_000 : 600_000,
        onProgress: (n) => {
          acked = n;
        },
      });
      let done = false;
      void loading.finally(() => {
        done = true;
      });
      for (let k = 1; k <= kills && !done; k++) {
        // Kill at evenly spaced points of the run (by acknowledged jobs).
        while (!done && acked < (count * k) / (kills + 1)) await sleep(20);
        if (done) break;
        log(`R1: Redis killed (${k}/${kills}) at ${acked} acknowledged`);
        await platform.killRedis();
        const back = performance.now();
        const before = acked;
        while (acked === before && !done) await sleep(5);
        recoveries.push(performance.now() - back);
      }
      const load = await loading;
      log(`R1: enqueued; waiting for the workers`);
      const outcome = await settle(platform, 'r1', intended, load, quick ? 120_000 : 600_000);
      const { failures, check } = checks();
      check(intact(outcome), `not intact: ${outcomeFigures(outcome)}`);
      check(load.gaveUp === 0, `${load.gaveUp} jobs never acknowledged`);
      check(
        load.unexpected.length === 0,
        `unexpected answers: ${JSON.stringify(load.unexpected.slice(0, 3))}`,
      );
      check(recoveries.length === kills, `${recoveries.length} of ${kills} kills happened`);
      return {
        pass: failures.length === 0,
        failures,
        figures:
          `${kills} kills; ${outcomeFigures(outcome)}; 503s ${load.unavailable.length}, ` +
          `recovery to next 202 p50 ${ms(percentile(recoveries, 50))} max ${ms(Math.max(0, ...recoveries))}`,
      };
    } finally {
      await platform.stop();
    }
  },
};
