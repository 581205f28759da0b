import type {
  DeliveryPayload,
  DeliveryTarget,
  WebhookEvent,
  WebhookEventType,
} from '@errand/contract';
import { messageId } from '@errand/signing';
import type { LoggedEvent } from './event-log.ts';

/** What an event says of the job that finished. */
export interface FinishedJob {
  type: string;
  id: string;
  /** The API key that enqueued it; null for a schedule's job. */
  producer: string | null;
  /** When it was created (epoch ms): with its id, it tells one job from a later one of that id. */
  timestamp: number;
  /** Failed attempts before this outcome: the same when a job runs again after its worker died. */
  attemptsMade: number;
  /**
   * How often the job was retried by hand (`retryByHand` in libs/queues), which resets
   * `attemptsMade`: a retried job that ends the same way again is a new event.
   */
  retries: number;
  finishedAt: number;
}

export type JobOutcome =
  | { type: 'job.completed'; result: unknown }
  | { type: Exclude<WebhookEventType, 'job.completed'>; reason: string };

/**
 * The event of a job's outcome, with an id that depends only on the job and the outcome: a
 * worker that dies after enqueueing the deliveries but before the job is acknowledged runs
 * the job again, and its second event has the same id (so the same delivery job ids, which
 * BullMQ does not add twice, and receivers deduplicate on `webhook-id`), whether or not the
 * rerun waited for a limit first: neither a stall nor a snooze counts an attempt made.
 */
export function jobEvent(job: FinishedJob, outcome: JobOutcome): LoggedEvent {
  const eventId = messageId(
    job.type,
    job.id,
    outcome.type,
    String(job.timestamp),
    String(job.attemptsMade),
    String(job.retries),
  );
  const event: WebhookEvent = {
    type: outcome.type,
    timestamp: new Date(job.finishedAt).toISOString(),
    data: {
      jobType: job.type,
      jobId: job.id,
      state: outcome.type === 'job.completed' ? 'completed' : 'failed',
      producer: job.producer,
      attemptsMade: job.attemptsMade,
      ...('result' in outcome
        ? { result: outcome.result ?? null }
        : { failedReason: outcome.reason }),
      finishedAt: new Date(job.finishedAt).toISOString(),
    },
  };
  return { eventId, event };
}

/** The job name of deliveries (the `producer` a job view shows): Errand made them. */
export const DELIVERY_JOB_NAME = 'errand';

/**
 * The `webhook` job that delivers one event to one target. Its id is fixed by the event and
 * the target (BullMQ adds a job id only once); a replay adds its own stamp, to deliver again.
 */
export function deliveryJob(logged: LoggedEvent, to: DeliveryTarget, replay?: string) {
  const target = 'subscription' in to ? `wh-${to.subscription}` : 'cb';
  const data: DeliveryPayload = { eventId: logged.eventId, event: logged.event, to };
  return {
    name: DELIVERY_JOB_NAME,
    data,
    opts: { jobId: `${replay ? `rp${replay}-` : ''}${target}-${logged.eventId}` },
  };
}
