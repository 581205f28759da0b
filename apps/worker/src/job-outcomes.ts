import { type DeliveryTarget, storedMetaOf } from '@errand/contract';
import type { Logger } from '@errand/observability';
import {
  appendEvent,
  deliveryJob,
  type JobOutcome,
  jobEvent,
  type Subscription,
  wants,
} from '@errand/outbound';
import { retriesOf, scheduleIdOf } from '@errand/queues';
import type { RedisClient } from '@errand/redis';
import type { Job, Queue } from 'bullmq';

export interface JobOutcomesDeps {
  /** Where the event log is written (the worker's queue connection). */
  redis: RedisClient;
  prefix: string;
  /** The `webhook` queue: one delivery job per target. */
  deliveries: Queue;
  /** The enabled subscriptions, cached (`subscriptionCache`). */
  subscriptions: () => Promise<Subscription[]>;
  logger: Logger;
}

/**
 * Completion webhooks, made durable with the job's own completion: the runner calls `record`
 * after the processor returned, or failed for good, and before it hands the outcome to BullMQ.
 * So the delivery jobs are in Redis before the job is acknowledged; a worker killed in
 * between runs the job again (its lock expires) and adds the same delivery jobs again, by the
 * same ids, which BullMQ does not add twice. If Redis refuses the deliveries of a completed
 * job, the runner has it run again, its attempt unspent, rather than finish without its
 * events. A job of the `webhook` type makes no events (a delivery of a delivery would never
 * end).
 */
export function makeJobOutcomes(deps: JobOutcomesDeps) {
  return async (type: string, job: Job, outcome: JobOutcome): Promise<void> => {
    if (type === 'webhook') return;
    const producer = scheduleIdOf(job.name) ? null : job.name;
    const { callbackUrl } = storedMetaOf(job.opts);
    const subscriptions = (await deps.subscriptions()).filter((subscription) =>
      wants(subscription, { type: outcome.type, jobType: type, producer }),
    );
    if (subscriptions.length === 0 && !(callbackUrl && producer)) return;
    const logged = jobEvent(
      {
        type,
        id: String(job.id),
        producer,
        timestamp: job.timestamp,
        attemptsMade: job.attemptsMade,
        retries: await retriesOf(deps.redis, job),
        finishedAt: Date.now(),
      },
      outcome,
    );
    const targets: DeliveryTarget[] = subscriptions.map(({ id }) => ({ subscription: id }));
    if (callbackUrl && producer) targets.push({ callbackUrl, producer });
    // Kept for replay only while a subscription could ask for it.
    if (subscriptions.length > 0) await appendEvent(deps.redis, deps.prefix, logged);
    await deps.deliveries.addBulk(targets.map((to) => deliveryJob(logged, to)));
    deps.logger.debug(
      { jobId: job.id, eventId: logged.eventId, deliveries: targets.length },
      'deliveries enqueued',
    );
  };
}
export type JobOutcomes = ReturnType<typeof makeJobOutcomes>;
