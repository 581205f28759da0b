import type { Logger } from '@errand/observability';

/**
 * How long one Redis call of a Worker's fetch loop may wait for its answer before the loop
 * counts as stuck. The longest a healthy call waits is BullMQ 6's blocking fetch: BZPOPMIN for
 * at most 10 s (its `maximumBlockTimeout`), ended by its own watchdog 1 s later; the others
 * (moveToActive, the stalled-job check) are single Lua scripts that answer in milliseconds.
 */
export const FETCH_STALL_MS = 15_000;
/** How often readiness is sampled, so "not ready continuously" is seen between probes too. */
const SAMPLE_MS = 1_000;

/** What a served queue's Worker shows at a glance: read at each sample, never awaited. */
export interface WorkerState {
  /** The Worker's fetch loop runs (`isRunning()`); it ends only on close or a bug. */
  running: boolean;
  /** ioredis status of the Worker's blocking connection; undefined before it first connects. */
  blocking: string | undefined;
}

/** Wraps the Redis calls of one Worker's fetch loop, so a call left unanswered shows. */
export interface FetchWatch {
  track<T>(what: string, call: () => Promise<T>): Promise<T>;
}

export type Liveness = ReturnType<typeof makeLiveness>;

/**
 * Whether this process still consumes, for `/readyz` and `/healthz`. A Worker that stopped
 * fetching (Redis restarted, failed over, or a connection cut behind its back) still looks
 * alive; this looks at three signals of each Worker (see `problemOf`), fed by the runtime.
 * Lifecycle:
 * 1. `watch(queue, state)` per served queue; the runtime sends its fetch calls through the
 *    returned `FetchWatch`;
 * 2. `readiness()`: the problem of each Worker that is not consuming (503 from `/readyz`);
 * 3. `liveness()`: set once the Workers have been not ready for longer than `graceMs` without
 *    a break (503 from `/healthz`, so an orchestrator restarts the process); a Redis outage
 *    shorter than the grace restarts nothing;
 * 4. `close()` stops the sampler; safe to call twice.
 */
export function makeLiveness(options: {
  graceMs: number;
  logger: Logger;
  stallMs?: number;
  now?: () => number;
}) {
  const now = options.now ?? Date.now;
  const stallMs = options.stallMs ?? FETCH_STALL_MS;
  const watched = new Map<string, { state: () => WorkerState; calls: Set<Call> }>();
  let notReadySince: number | undefined;
  let reportedStuck = false;

  /**
   * Why a Worker does not consume, if it does not. The blocking connection's status tells an
   * outage or a reconnect at once (and, through BullMQ's watchdog, a frozen or cut-off server
   * within 11 s); a call unanswered for `stallMs` tells a loop wedged behind a connection that
   * still says `ready`; `running` tells a loop that ended. Events such as `drained`/`active`
   * are no signal: an idle or a busy Worker emits none for as long as it stays so.
   */
  const problemOf = ({ state, calls }: { state: () => WorkerState; calls: Set<Call> }) => {
    const { running, blocking } = state();
    if (!running) return 'not running: its fetch loop ended';
    if (blocking !== 'ready') return `blocking connection ${blocking ?? 'not connected yet'}`;
    const oldest = [...calls].reduce<Call | undefined>(
      (first, call) => (first && first.since <= call.since ? first : call),
      undefined,
    );
    if (oldest && now() - oldest.since > stallMs) {
      return `${oldest.what} unanswered for ${Math.round((now() - oldest.since) / 1000)} s`;
    }
    return undefined;
  };

  /** Problems by queue, and the not-ready clock moved along. */
  const sample = (): Record<string, string> | undefined => {
    const problems: Record<string, string> = {};
    for (const [queue, worker] of watched) {
      const problem = problemOf(worker);
      if (problem) problems[queue] = problem;
    }
    const ready = Object.keys(problems).length === 0;
    if (!ready && notReadySince === undefined) {
      notReadySince = now();
      options.logger.warn({ queues: listed(problems) }, 'worker not consuming');
    } else if (ready && notReadySince !== undefined) {
      options.logger.info({ afterMs: now() - notReadySince }, 'worker consuming again');
      notReadySince = undefined;
      reportedStuck = false;
    }
    return ready ? undefined : problems;
  };

  const stuck = () => {
    const problems = sample();
    if (!problems || notReadySince === undefined) return undefined;
    const notReadyForMs = now() - notReadySince;
    if (notReadyForMs <= options.graceMs) return undefined;
    if (!reportedStuck) {
      reportedStuck = true;
      options.logger.error(
        { queues: listed(problems), notReadyForMs, graceMs: options.graceMs },
        'worker not consuming past the liveness grace: /healthz fails so that it is restarted',
      );
    }
    return { notReadyForMs, queues: problems };
  };

  const sampler = setInterval(stuck, SAMPLE_MS);
  sampler.unref();

  return {
    watch(queue: string, state: () => WorkerState): FetchWatch {
      const calls = new Set<Call>();
      watched.set(queue, { state, calls });
      return {
        async track(what, call) {
          const entry = { what, since: now() };
          calls.add(entry);
          try {
            return await call();
          } finally {
            calls.delete(entry);
          }
        },
      };
    },
    /** The problem of each Worker that does not consume; undefined when all do. */
    readiness: (): { queues: Record<string, string> } | undefined => {
      const problems = sample();
      return problems && { queues: problems };
    },
    /** Set once not ready for longer than the grace: how long, and why. */
    liveness: stuck,
    close(): void {
      clearInterval(sampler);
    },
  };
}

/** `queue: problem` lines: logged as a list, since the logger hides any key named `email`. */
const listed = (problems: Record<string, string>) =>
  Object.entries(problems).map(([queue, problem]) => `${queue}: ${problem}`);

interface Call {
  what: string;
  since: number;
}
