import type { RedisServer } from '@errand/devservers';
import { type Answer, enqueueAll, type Intended, mixedJobs } from './load.ts';
import { deliveries, outcomeFigures, settle } from './outcome.ts';
import {
  CRASH_SAFE_FSYNC,
  KEEP_COMPLETED,
  type Platform,
  type PlatformOptions,
  type RedisTopology,
  type Served,
} from './platform.ts';
import { inAof, promotedHolding, replicatedUntil, sampleOffsets } from './replication.ts';
import { type ChaosContext, checks, ms, type ScenarioResult, sleep } from './scenario.ts';

/** The API must take jobs again this soon after the kill. */
const API_BACK_MS = 15_000;
/** Every worker must complete a job again this soon after the promotion. */
const WORKERS_BACK_MS = 10_000;
/**
 * Writes the promoted replica lacked were acknowledged at most this long before the kill; on
 * loopback replication trails by milliseconds, so a longer window means it was not keeping up.
 */
const WINDOW_LIMIT_MS = 1_000;
/**
 * A worker writes the send ledger a few milliseconds after the SMTP server's 250: a mail whose
 * first copy arrived this long before the replication window may have had its entry in it.
 */
const LEDGER_AFTER_MAIL_MS = 100;

/**
 * What a failover scenario needs of its topology (R8: a Sentinel group, R9: a Cluster): the
 * platform on it, the node to kill with the replicas that may take its place, the wait for
 * the one that does, and how many failovers happened (one is right: a second hands the writes
 * to a node that had not taken the first's).
 */
export interface FailoverSide<P extends Platform<RedisTopology>> {
  id: string;
  /** The run's name: key prefix, event name, temp dir. */
  run: string;
  /** What the killed node is called in the figures: `primary`, `master`. */
  node: string;
  /**
   * The job type whose writes the kill stops, where the others go on (a Cluster master holds
   * some queues only): the API is back when a job of it is taken again. Every type when unset.
   */
  stops?: Intended['type'];
  start(options: PlatformOptions): Promise<P>;
  target(platform: P): Promise<{ primary: RedisServer; replicas: RedisServer[] }>;
  promoted(platform: P, killed: RedisServer): Promise<RedisServer>;
  switches(platform: P): Promise<string[]>;
  stop(platform: P): Promise<void>;
}

/**
 * `kill -9` the node that holds the run's writes halfway through a mixed run (every data node
 * under `appendfsync always`); a replica takes over and every app finds it by itself.
 * Promises: the API takes jobs again within 15 s of the kill, every worker completes jobs
 * again within 10 s of the promotion, no app process restarts, one failover. Replication is
 * asynchronous, so writes the node acknowledged but had not yet sent to the promoted replica
 * are gone: a job, a send-ledger entry (its mail then goes out twice). Each loss must lie in
 * that window: the node's replication offset is read every 10 ms, and the promoted replica
 * tells how far it had got (`second_repl_offset`); a lost job is put down to replication
 * only if its 202 came after the last reading the replica had reached and its request was
 * sent before the kill, and it must stand in the dead node's AOF. Lost effects must be those
 * of lost jobs. What this cannot prove: that a loss inside the window came from replication
 * and not from something else that happened in it; the window is printed.
 */
export async function runFailover<P extends Platform<RedisTopology>>(
  side: FailoverSide<P>,
  { quick, log }: ChaosContext,
): Promise<ScenarioResult> {
  const { id, run } = side;
  const count = quick ? 2_000 : 20_000;
  const platform = await side.start({
    workers: 3,
    workerEnv: KEEP_COMPLETED,
    appendfsync: CRASH_SAFE_FSYNC,
  });
  try {
    const intended = mixedJobs(run, count);
    const acks = new Map<string, Answer>();
    let done = false;
    const { primary, replicas } = await side.target(platform);
    const sampler = sampleOffsets(primary, replicas);
    const loading = enqueueAll(() => platform.api, intended, {
      concurrency: 32,
      deadlineMs: quick ? 120_000 : 600_000,
      onAnswer: (answer) => {
        if (answer.status === 202 || answer.status === 200) acks.set(answer.key, answer);
      },
    });
    void loading.finally(() => {
      done = true;
    });
    while (!done && acks.size < count / 2) await sleep(5);
    const before = await sampler.stop();
    const killAt = performance.now();
    await primary.kill();
    const deadAt = performance.now();
    log(`${id}: ${side.node} ${primary.port} killed at ${acks.size} acknowledged`);
    const promoted = await side.promoted(platform, primary);
    const promotedAt = performance.now();
    log(`${id}: ${promoted.port} took over ${ms(promotedAt - killAt)} after the kill`);
    const workersBack = (await firstCompletions(platform.workers, 30_000)).map(
      (at) => at - promotedAt,
    );
    const held = await promotedHolding(promoted);
    const [, fsync] = (await promoted.command('CONFIG', 'GET', 'appendfsync')) as string[];
    const load = await loading;
    log(`${id}: enqueued; waiting for the workers`);
    const outcome = await settle(platform, run, intended, load, quick ? 120_000 : 600_000);
    const ended = platform.ended().length;
    const switches = await side.switches(platform);

    // The replication window: from the last moment the promoted replica is known to have held
    // everything the primary had acknowledged, to the kill.
    const from = replicatedUntil(sampler.samples, held);
    const window = from === undefined ? Number.POSITIVE_INFINITY : killAt - from;
    const inWindow = (answer: Answer | undefined) =>
      answer !== undefined &&
      from !== undefined &&
      answer.sentAt < deadAt &&
      answer.sentAt + answer.ms > from;
    const lostOutside = outcome.lostKeys.filter((key) => !inWindow(acks.get(key)));
    const lostIds = outcome.lostKeys.map((key) => load.acknowledged.get(key)?.id ?? key);
    const inOldAof = await inAof(primary, lostIds);
    const lost = new Set(outcome.lostKeys);
    const eventsOf = new Map(intended.map((job) => [job.key, job.events]));
    const lostEvents = outcome.lostKeys.reduce((sum, key) => sum + (eventsOf.get(key) ?? 0), 0);
    const twice = mailsTwice(platform, from, deadAt);
    const typeOf = new Map(intended.map((job) => [job.key, job.type]));
    const stopped = [...acks.values()].filter(
      (answer) => side.stops === undefined || typeOf.get(answer.key) === side.stops,
    );
    const apiBack = firstAcceptedAfter(stopped, deadAt) - killAt;

    const { failures, check } = checks();
    check(apiBack <= API_BACK_MS, `API back ${ms(apiBack)} after the kill (limit 15 s)`);
    check(
      Math.max(...workersBack) <= WORKERS_BACK_MS,
      `workers completed a job again ${workersBack.map(ms).join(', ')} after the promotion (limit 10 s)`,
    );
    // A second failover would hand the writes to a node that had not taken the first's.
    check(fsync === CRASH_SAFE_FSYNC, `the new primary runs appendfsync ${fsync}`);
    check(ended === 0, `${ended} app processes ended during the run (none may)`);
    check(switches.length === 1, `${switches.length} failovers: ${switches.join('; ')}`);
    check(from !== undefined, 'the promoted replica reached no offset sampled before the kill');
    check(window <= WINDOW_LIMIT_MS, `replication window ${ms(window)} (limit 1 s)`);
    check(
      lostOutside.length === 0,
      `lost outside the replication window: ${lostOutside.join(', ')}`,
    );
    check(
      inOldAof.size === lostIds.length,
      `lost jobs the old primary never took: ${lostIds.filter((id) => !inOldAof.has(id)).join(', ')}`,
    );
    const undeliveredNotLost = outcome.undeliveredKeys.filter((key) => !lost.has(key));
    check(
      undeliveredNotLost.length === 0,
      `mails missing of jobs not lost: ${undeliveredNotLost.join(', ')}`,
    );
    // At most: a worker that held a lost job when the primary died may still count its
    // events on the new primary (its command waits out the failover), then fail to finish it.
    check(
      outcome.eventsMissing <= lostEvents,
      `events missing ${outcome.eventsMissing}, the lost jobs carried ${lostEvents}`,
    );
    check(outcome.eventsTwice === 0, `${outcome.eventsTwice} events counted twice`);
    check(twice.other === 0, `${twice.other} mails sent twice outside the replication window`);
    check(
      outcome.unfinished === 0 && outcome.processed === outcome.acknowledged - outcome.lost,
      `not every acknowledged job that survived completed: ${outcomeFigures(outcome)}`,
    );
    check(load.gaveUp === 0, `${load.gaveUp} jobs never acknowledged`);
    check(
      load.unexpected.length === 0,
      `unexpected answers: ${JSON.stringify(load.unexpected.slice(0, 3))}`,
    );
    const behind = [...before.replicas.values()].map((at) => before.primary - at);
    return {
      pass: failures.length === 0,
      failures,
      figures:
        `${outcomeFigures(outcome)}; ` +
        `lost jobs in the replication window ${outcome.lost - lostOutside.length} of ${outcome.lost} ` +
        `(in the old primary's AOF ${inOldAof.size}), lost effects: mails ${outcome.mailsMissing}, events ${outcome.eventsMissing} of ${lostEvents} the lost jobs carried; ` +
        `mails twice for a ledger entry in the window ${twice.inWindow}, otherwise ${twice.other}; ` +
        `window ${ms(window)} (replicas at most ${behind.join(' / ')} bytes behind right before the kill); ` +
        `API back${side.stops ? ` for ${side.stops}` : ''} ${ms(apiBack)} after the kill (${load.unavailable.length} × 503, ${load.networkErrors} network errors); ` +
        `${side.node} replaced ${ms(promotedAt - killAt)} after the kill, failovers ${switches.length}; ` +
        `workers back ${ms(Math.min(...workersBack))}–${ms(Math.max(...workersBack))} after it; ` +
        `app restarts ${ended}`,
    };
  } finally {
    await side.stop(platform);
  }
}

/** Jobs a worker has completed: its `errand_jobs_finished_total{outcome="completed"}`, all queues. */
async function completedBy(worker: Served): Promise<number> {
  const text = await (await fetch(`${worker.url}/metrics`)).text();
  let completed = 0;
  for (const [, labels, value] of text.matchAll(/^errand_jobs_finished_total\{([^}]*)\} (\d+)/gm)) {
    if (labels?.includes('outcome="completed"')) completed += Number(value);
  }
  return completed;
}

/**
 * When (`performance.now()`) each worker first completed a job after this call, as its own
 * counter shows it (read every 50 ms: a little late, never early); infinite if not by the end.
 */
function firstCompletions(workers: Served[], timeoutMs: number): Promise<number[]> {
  const deadline = performance.now() + timeoutMs;
  return Promise.all(
    workers.map(async (worker) => {
      const before = await completedBy(worker);
      while (performance.now() < deadline) {
        await sleep(50);
        if ((await completedBy(worker)) > before) return performance.now();
      }
      return Number.POSITIVE_INFINITY;
    }),
  );
}

/** When the first request sent after `at` was acknowledged; infinite if none was. */
function firstAcceptedAfter(acks: Answer[], at: number): number {
  const after = acks.filter((answer) => answer.sentAt >= at);
  return Math.min(Number.POSITIVE_INFINITY, ...after.map((answer) => answer.sentAt + answer.ms));
}

/**
 * Mails the sink took more than once, told apart by cause: a send-ledger entry lost with the
 * replication window (the first copy arrived in it, or just before it: the entry follows the
 * mail), or anything else, a bug.
 */
function mailsTwice(platform: Platform<RedisTopology>, from: number | undefined, deadAt: number) {
  let inWindow = 0;
  let other = 0;
  for (const arrivals of deliveries(platform).values()) {
    if (arrivals.length < 2) continue;
    const first = (arrivals[0] as number) - performance.timeOrigin;
    const lost = from !== undefined && first > from - LEDGER_AFTER_MAIL_MS && first <= deadAt;
    if (lost) inWindow += arrivals.length - 1;
    else other += arrivals.length - 1;
  }
  return { inWindow, other };
}
