/*
 * Why not BullMQ's own job signal (the processor's third argument) and `Worker.cancelJob` /
 * `cancelAllJobs`: in BullMQ 6.7 they only fire an AbortSignal, and we need more than that.
 * - No deadline: BullMQ has no job timeout, so the one timer per queue (`makeDeadlines`) stays.
 * - A processor that ignores its signal keeps running, its slot taken and its lock renewed:
 *   BullMQ awaits it. `Attempt.run` races it against the abort, so it fails at its deadline
 *   (or is handed back at shutdown: `run-job.ts`, which BullMQ has no notion of either).
 * - The reason is typed `string`; ours are `JobTimeoutError` / `ShutdownAbort`, told apart
 *   by `instanceof`, so each call would need a cast.
 * Adopting them would keep all of this and add a listener bridging BullMQ's signal into the
 * race. Speed is not the reason: measured with `npm run bench -- --quick worker-runtime` (1 process,
 * two runs each, 2026-12-07), worker CPU a job was 333–357 µs with this class and 346–357 µs
 * with BullMQ's signal, within the bench's noise; alone, the per-job signal and listener cost
 * 0.4 µs on Node 24.
 */
import type { Logger } from '@errand/observability';
import { scheduleIdOf } from '@errand/queues';
import type { Job } from 'bullmq';
import type { JobContext } from './processor.ts';

/**
 * One running attempt of a job, as the runtime holds it:
 * 1. `run` starts the processor and races it against `abort`, so a timeout or the shutdown
 *    deadline ends the attempt even when the processor ignores its signal;
 * 2. `abort(reason)` ends it (the first reason wins) and fires the signal, if one was asked for.
 * The signal and the job's child logger are made only when the processor asks for them:
 * most jobs never do, and a worker runs thousands of jobs a second.
 */
export class Attempt implements JobContext {
  readonly id: string;
  readonly attempt: number;
  #job: Job;
  #parentLogger: Logger;
  #logger: Logger | undefined;
  #controller: AbortController | undefined;
  #reason: unknown;
  #reject: ((reason: unknown) => void) | undefined;

  constructor(job: Job, attempt: number, logger: Logger) {
    this.id = String(job.id);
    this.attempt = attempt;
    this.#job = job;
    this.#parentLogger = logger;
  }

  get createdAt(): number {
    return this.#job.timestamp;
  }

  get lastAttempt(): boolean {
    return this.#job.attemptsMade + 1 >= (this.#job.opts.attempts ?? 1);
  }

  /** The job's name is the API key that enqueued it, or `schedule:<id>` for a schedule's. */
  get producer(): string | null {
    return scheduleIdOf(this.#job.name) ? null : this.#job.name;
  }

  /** A child logger carrying queue, job id and attempt. */
  get logger(): Logger {
    this.#logger ??= this.#parentLogger.child({ jobId: this.id, attempt: this.attempt });
    return this.#logger;
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#reason !== undefined) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  progress(value: number | object): Promise<void> {
    return this.#job.updateProgress(value);
  }

  /** End the attempt with `reason`; a second call changes nothing. */
  abort(reason: unknown): void {
    if (this.#reason !== undefined) return;
    this.#reason = reason;
    this.#controller?.abort(reason);
    this.#reject?.(reason);
  }

  /** The processor's outcome, or the abort reason if the attempt is aborted first. */
  run<T>(work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#reject = reject;
      if (this.#reason !== undefined) return reject(this.#reason);
      try {
        work().then(resolve, reject);
      } catch (error) {
        reject(error);
      }
    });
  }
}

/**
 * The running attempts of one queue, each with its deadline, under one timer: with one
 * timeout per queue, the oldest attempt is always the next to run over, so the timer is armed
 * for it alone and, when it fires, re-armed for the next (a timer per attempt cost more than
 * the rest of a no-op job's bookkeeping). An attempt past its deadline leaves the set and is
 * handed to `expire`.
 */
export function makeDeadlines(timeoutMs: number, expire: (attempt: Attempt) => void) {
  const deadlines = new Map<Attempt, number>(); // in order of start, so of deadline
  let timer: NodeJS.Timeout | undefined;
  function arm(at: number) {
    timer = setTimeout(fire, at - performance.now());
  }
  function fire() {
    timer = undefined;
    const now = performance.now();
    for (const [attempt, at] of deadlines) {
      if (at > now) return arm(at);
      deadlines.delete(attempt);
      expire(attempt);
    }
  }
  return {
    get size() {
      return deadlines.size;
    },
    /** Start `attempt`'s clock; `startedAt` is its `performance.now()` when it started. */
    add(attempt: Attempt, startedAt = performance.now()) {
      const at = startedAt + timeoutMs;
      deadlines.set(attempt, at);
      if (!timer) arm(at);
    },
    delete(attempt: Attempt) {
      if (!deadlines.delete(attempt) || deadlines.size > 0 || !timer) return;
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
