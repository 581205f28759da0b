import { hostname } from 'node:os';
import { enqueueAll, mixedJobs } from '../load.ts';
import { intact, outcomeFigures, settle } from '../outcome.ts';
import { KEEP_COMPLETED, Platform } from '../platform.ts';
import { checks, ms, percentile, type Scenario, sleep } from '../scenario.ts';

/**
 * How long the sink takes to accept each recipient (before the message is sent): a kill then
 * mostly lands in the middle of a send, where a vanished sender delivers nothing.
 */
const SEND_MS = 300;

/**
 * R2: `kill -9` a random worker mid-job, again and again, while the fleet drains a queued mixed
 * run (a fresh worker replaces each one). The killed worker's jobs stall and are run again by
 * the others once their lock expires. A message whose sender vanished before the final `.` is
 * not delivered (RFC 5321); one the server had taken before the sender read its 250 is (RFC
 * 1047's window, a few ms here: the send ledger is written right after the 250): such a mail
 * twice is shown, and told apart from any other (a bug) by when its first copy arrived.
 * Recovery of a kill: until every job the killed worker held has completed.
 * Full run: 10 kills; --quick: 3.
 */
export const workerKills: Scenario = {
  id: 'R2',
  title: 'kill -9 a random worker mid-job',
  async run({ quick, log }) {
    const kills = quick ? 3 : 10;
    const count = quick ? 3_000 : 20_000;
    const platform = await Platform.start('r2', {
      workers: 3,
      workerEnv: KEEP_COMPLETED,
    });
    try {
      const intended = mixedJobs('r2', count);
      platform.slowMails(intended, SEND_MS);
      const load = await enqueueAll(() => platform.api, intended, {
        concurrency: 32,
        deadlineMs: 120_000,
      });
      log(`R2: ${load.acknowledged.size} jobs queued; killing workers while they drain`);
      const recoveries: Promise<number>[] = [];
      const killTimes: number[] = [];
      let heldAtKills = 0;
      for (let k = 0; k < kills; k++) {
        await sleep(quick ? 1_500 : 3_000);
        const i = Math.floor(Math.random() * platform.workers.length);
        const victim = platform.workers[i];
        if (!victim) continue;
        const name = `${hostname()}:${victim.child.pid}`;
        killTimes.push(Date.now());
        victim.child.kill('SIGKILL');
        await victim.exited;
        const killedAt = performance.now();
        const held = (
          await Promise.all(
            Object.values(platform.queues).map(async (queue) =>
              (await queue.getActive()).map((job) => ({ queue, job })),
            ),
          )
        )
          .flat()
          .filter(({ job }) => job.processedBy === name);
        heldAtKills += held.length;
        log(`R2: killed worker ${k + 1}/${kills} holding ${held.length} jobs`);
        recoveries.push(
          (async () => {
            for (const { queue, job } of held) {
              while ((await queue.getJobState(job.id as string)) !== 'completed') {
                if (performance.now() - killedAt > 120_000) return Number.POSITIVE_INFINITY;
                await sleep(200);
              }
            }
            return performance.now() - killedAt;
          })(),
        );
        await platform.replaceWorker(i);
      }
      const recovered = await Promise.all(recoveries);
      const outcome = await settle(platform, 'r2', intended, load, 180_000);
      const inWindow = duplicatesInSmtpWindow(platform, killTimes);
      const { failures, check } = checks();
      check(
        intact({ ...outcome, mailsTwice: outcome.mailsTwice - inWindow }),
        `not intact: ${outcomeFigures(outcome)} (${inWindow} of the mails twice in SMTP's window)`,
      );
      check(load.gaveUp === 0, `${load.gaveUp} jobs never acknowledged`);
      check(heldAtKills > 0, 'no kill landed while the worker held a job');
      const slowest = Math.max(0, ...recovered);
      check(
        slowest <= 60_000,
        `a killed worker's jobs took ${ms(slowest)} to complete (limit 60 s)`,
      );
      return {
        pass: failures.length === 0,
        failures,
        figures:
          `${kills} kills holding ${heldAtKills} jobs; ${outcomeFigures(outcome)} ` +
          `(in SMTP's window ${inWindow}); ` +
          `recovery p50 ${ms(percentile(recovered, 50))} max ${ms(slowest)}`,
      };
    } finally {
      await platform.stop();
    }
  },
};

/** How long before a kill a message may have arrived and still be in SMTP's window. */
const WINDOW_MS = 100;

/**
 * Mails delivered twice whose first copy arrived just before a kill (within WINDOW_MS): the
 * server had the message, the killed sender had not yet written the ledger. That window is
 * SMTP's (RFC 1047) and no sender can close it; any other mail twice is a bug.
 */
function duplicatesInSmtpWindow(platform: Platform, killTimes: number[]): number {
  const first = new Map<string, number>();
  const twice = new Set<string>();
  for (const message of platform.sink.messages) {
    const id = String(message.parsed.headers.get('x-errand-job-id'));
    const seen = first.get(id);
    if (seen === undefined) first.set(id, message.receivedAt);
    else {
      twice.add(id);
      first.set(id, Math.min(seen, message.receivedAt));
    }
  }
  return [...twice].filter((id) => {
    const at = first.get(id) as number;
    return killTimes.some((killed) => killed >= at && killed - at <= WINDOW_MS);
  }).length;
}
