import { QueueKeys } from 'bullmq';

/**
 * A job's Redis key is `<prefix>:<queue>:<id>`, beside the queue's own keys
 * (`<prefix>:<queue>:meta`, `:events`, `:repeat:<scheduler>`, `:<id>:logs`…). An id that
 * names one of those would read or change the queue's state as if it were a job: BullMQ
 * takes the id as it comes, so whoever passes an id from outside checks it here first.
 */
const QUEUE_KEY_NAMES = new Set([...Object.keys(new QueueKeys().getKeys('q')), 'metrics']);

/** The fires of a job scheduler: `repeat:<scheduler id>:<ms>`, the one id with colons. */
const SCHEDULER_FIRE = /^repeat:[^:]+:\d+$/;
const PLAIN_ID = /^[A-Za-z0-9_.-]{1,160}$/;

/** Whether `id` can name a job of a queue, and no other key of it. */
export function isJobId(id: string): boolean {
  if (SCHEDULER_FIRE.test(id)) return id.length <= 160;
  return PLAIN_ID.test(id) && !QUEUE_KEY_NAMES.has(id);
}
