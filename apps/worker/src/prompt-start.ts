import type { RedisQueueBackend } from 'bullmq';

/** `moveToActive`'s answer when no job is ready: its script's `{0, 0, 0, 0}`, decoded. */
const noJobYet = () => [null, 0, 0, 0];

/**
 * A job that wakes an idle Worker starts at once, before the Worker asks Redis for the next.
 *
 * BullMQ's fetch loop (6.7), once a blocking wait has brought a job, fetches the next one and
 * awaits that round trip before it starts the first, whenever its concurrency is above 1: on
 * an idle queue 4 jobs in 5 waited for it. Here that follow-up fetch is answered "no job yet"
 * without asking Redis; the Worker starts the job it has and goes back to its blocking wait,
 * which returns at once: the fetch that brought the job put the queue's marker back
 * (`prepareJobForProcessing` adds it for every job it hands out), so a job that came in
 * meanwhile is not left for the next wake-up. A lone job costs no more round trips than before
 * (BullMQ's follow-up found nothing and woke up on that marker too); in a burst only the first
 * follow-up is skipped, and the Worker then fetches without blocking until the queue is empty.
 * The cost is BullMQ's `drained` event, emitted once more as a burst starts (Errand does not
 * listen to it). `prompt-start.test.ts` holds BullMQ to the marker.
 */
export function promptStart(backend: RedisQueueBackend): void {
  const { waitForJob, moveToActive } = backend;
  /** A wait ended and no fetch was made since: the next fetch is the woken one. */
  let woke = false;
  /** The fetch that follows a woken job: answered here. */
  let skipNext = false;
  /** The last woken job's follow-up was skipped: in a burst, the next one is made. */
  let skipped = false;
  backend.waitForJob = async (...args) => {
    skipNext = false;
    const marker = await waitForJob.apply(backend, args);
    woke = true;
    return marker;
  };
  backend.moveToActive = async (...args) => {
    if (skipNext) {
      skipNext = false;
      skipped = true;
      return noJobYet();
    }
    const woken = woke;
    woke = false;
    const next = await moveToActive.apply(backend, args);
    if (!next[0]) skipped = false;
    else if (woken) {
      skipNext = !skipped;
      skipped = false;
    }
    return next;
  };
}
