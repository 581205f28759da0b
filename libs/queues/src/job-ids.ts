import { QueueKeys } from 'bullmq';

/**
 * A job's Redis key is `<prefix>:<queue>:<id>`, beside the queue's own keys
 * (`<prefix>:<queue>:meta`, `:events`, `:repeat:<scheduler>`, `:<id>:logs`…). An id that
 * names one of those would read or change the queue's state as if it were a job: BullMQ
 * takes the id as it comes, so whoever passes an id from outside checks it here first.
 */
export const RESERVED_JOB_IDS: ReadonlySet<string> = new Set([
  ...Object.keys(new QueueKeys().getKeys('q')),
  'metrics',
]);

export const MAX_JOB_ID_LENGTH = 160;

/**
 * The shapes of a job id: a plain one (BullMQ's sequence, or a custom id without colons), or
 * the fire of a job scheduler, `repeat:<scheduler id>:<ms>`, the one id with colons. The
 * OpenAPI document states this same pattern.
 */
export const JOB_ID_PATTERN = /^(?:repeat:[^:]+:\d+|[A-Za-z0-9_.-]+)$/;

/** Whether `id` can name a job of a queue, and no other key of it. */
export function isJobId(id: string): boolean {
  return id.length <= MAX_JOB_ID_LENGTH && JOB_ID_PATTERN.test(id) && !RESERVED_JOB_IDS.has(id);
}
