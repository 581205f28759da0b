import { enqueueAll, mixedJobs } from '../load.ts';
import { intact, outcomeFigures, settle } from '../outcome.ts';
import { KEEP_COMPLETED, Platform } from '../platform.ts';
import { checks, ms, type Scenario, sleep } from '../scenario.ts';

/** Mails take this long to be accepted, so each SIGTERM finds sends in flight to finish. */
const SEND_MS = 200;

/** Log lines that say a job was not finished by its worker (stalled, or handed back at the deadline). */
const countLines = (logs: string[], msg: string) =>
  logs
    .join('\n')
    .split('\n')
    .filter((line) => line.includes(msg)).length;

/**
 * R4: a rolling restart under load, as a deploy does it: for each worker in turn, start its
 * replacement, then SIGTERM it and wait for it to exit. A SIGTERMed worker stops fetching,
 * finishes the jobs it runs and exits, so no job stalls (waits for a lock to expire), none is
 * lost and none runs twice. Full run: 2 rounds over 3 workers under a steady load; --quick: 1.
 */
export const rollingRestart: Scenario = {
  id: 'R4',
  title: 'rolling SIGTERM of every worker under load',
  async run({ quick, log }) {
    const rounds = quick ? 1 : 2;
    const platform = await Platform.start('r4', {
      workers: 3,
      workerEnv: KEEP_COMPLETED,
    });
    try {
      const intended = mixedJobs('r4', 200_000);
      platform.slowMails(intended, SEND_MS);
      let stop = false;
      const loading = enqueueAll(() => platform.api, intended, {
        concurrency: 8,
        paceMs: 10,
        deadlineMs: 10 * 60_000,
        stop: () => stop,
      });
      const exits: (number | null)[] = [];
      const drains: number[] = [];
      for (let round = 1; round <= rounds; round++) {
        for (let i = 0; i < platform.workers.length; i++) {
          await sleep(2_000);
          const old = platform.workers[i];
          if (!old) continue;
          await platform.replaceWorker(i);
          const started = performance.now();
          exits.push(await old.stop('SIGTERM'));
          drains.push(performance.now() - started);
          log(`R4: round ${round}, worker ${i + 1} replaced (exit ${exits.at(-1)})`);
        }
      }
      await sleep(2_000);
      stop = true;
      const load = await loading;
      const outcome = await settle(platform, 'r4', intended, load, 120_000);
      const logs = platform.logs();
      const stalled = countLines(logs, 'job stalled');
      const handedBack = countLines(logs, 'job handed back to the queue');
      const { failures, check } = checks();
      check(intact(outcome), `not intact: ${outcomeFigures(outcome)}`);
      check(stalled === 0, `${stalled} jobs stalled`);
      check(
        exits.every((code) => code === 0),
        `worker exit codes ${exits.join(', ')}`,
      );
      check(load.gaveUp === 0 && load.unexpected.length === 0, 'the load saw errors');
      return {
        pass: failures.length === 0,
        failures,
        figures:
          `${exits.length} SIGTERMs, slowest drain ${ms(Math.max(0, ...drains))}; stalled ${stalled}, ` +
          `handed back ${handedBack}; ${outcomeFigures(outcome)}`,
      };
    } finally {
      await platform.stop();
    }
  },
};
