import type { RedisClient } from '@errand/redis';
import type { Job } from 'bullmq';

/**
 * A failed job run again by hand (the API's retry, one or in bulk), with a fresh set of
 * attempts. BullMQ resets its `attemptsMade`, so the job's outcome could repeat one it had
 * before, word for word; the count of such retries, kept in a field of the job's own hash
 * (beside BullMQ's, which no script of BullMQ deletes), tells the two outcomes apart: the
 * events of completion webhooks take their ids from it (`libs/outbound` `job-events.ts`).
 */
export const RETRIES_FIELD = 'errand-retries';

/** The job's key, where its hash is: `<prefix>:{<queue>}:<queue>:<id>`. */
export const jobKeyOf = (job: Job) => `${job.queueQualifiedName}:${job.id}`;

export async function retryByHand(redis: RedisClient, job: Job): Promise<void> {
  await redis.hincrby(jobKeyOf(job), RETRIES_FIELD, 1);
  await job.retry('failed', { resetAttemptsMade: true });
}

/** How often the job was retried by hand. */
export async function retriesOf(redis: RedisClient, job: Job): Promise<number> {
  return Number((await redis.hget(jobKeyOf(job), RETRIES_FIELD)) ?? 0);
}
