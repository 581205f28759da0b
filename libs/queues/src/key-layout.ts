import { jobs, jobTypes } from '@errand/contract';
import type { RedisClient } from '@errand/redis';

/**
 * Where a queue's keys live: each queue in a hash tag of its own, inside the deployment's
 * prefix (`QUEUE_PREFIX`, `errand` by default), so that on Redis Cluster every key of one
 * queue is in one slot (BullMQ's scripts touch many of them at once) and different queues
 * land on different shards. BullMQ puts the queue's name after its prefix again:
 *
 *   <prefix>:{<queue>}:<queue>:wait, …:meta, …:events, …:<job id>, …:repeat:<scheduler>
 *   <prefix>:{<queue>}:idempotency:<id>   written in the same MULTI as the queue's jobs
 *   <prefix>:{<queue>}:<queue>:sent:<id>  the email send ledger, beside its jobs
 *
 * Keys one command at a time reads or writes stay under the prefix alone (rate limits,
 * sessions, audit, schedule records, analytics by `{event}`), and so do those of outbound
 * calls, each family owned by one module of `libs/outbound` or `libs/limiter`:
 *
 *   <prefix>:callers                 each key's allowed targets (caller-policies.ts)
 *   <prefix>:signing-secrets         each key's signing secrets (signing-secrets.ts)
 *   <prefix>:webhooks, …:disabled, …:failing   subscriptions and what deliveries found
 *   <prefix>:webhooks:log:<id>, …:slow:<id>     a subscription's delivery log and slow-down
 *   <prefix>:webhooks:events         the event log for replay (event-log.ts)
 *   <prefix>:limit:<name>:{<sha1>}:… a limited key's holders and rate window (libs/limiter)
 *   <prefix>:api:audit               the API's audit stream (apps/producer audit.ts)
 *
 * A multi-key write among them is one MULTI on one key (or on one limiter's hash tag). One
 * queue is one slot: a single hot queue does not spread over shards.
 */
export const queuePrefix = (prefix: string, queue: string) => `${prefix}:{${queue}}`;

/** The key `<suffix>` among a queue's own keys, as BullMQ's `queue.toKey(suffix)` names it. */
export const queueKey = (prefix: string, queue: string, suffix: string) =>
  `${queuePrefix(prefix, queue)}:${queue}:${suffix}`;

/** Where releases before the per-queue hash tag kept a queue's keys: `<prefix>:<queue>:…`. */
export const oldQueueBase = (prefix: string, queue: string) => `${prefix}:${queue}:`;

/** Keys BullMQ keeps for as long as a queue has had any job: one of them tells it exists. */
const QUEUE_MARKS = ['meta', 'id', 'events', 'wait', 'delayed', 'completed', 'failed'];

export const MIGRATE_COMMAND = 'npm run migrate-keys';

export class OldKeyLayoutError extends Error {
  override name = 'OldKeyLayoutError';
}

/**
 * Refuse to start on a Redis whose queues are still in the old layout: the apps would not see
 * those jobs, and the old ones would go on waiting. One EXISTS per key (no multi-key command,
 * which a Cluster refuses across slots), once at start.
 */
export async function refuseOldKeyLayout(redis: Pick<RedisClient, 'exists'>, prefix: string) {
  const queues = [...new Set(jobTypes.map((type) => jobs[type].queue))];
  const found = await Promise.all(
    queues.map(async (queue) => {
      const marks = QUEUE_MARKS.map((mark) => `${oldQueueBase(prefix, queue)}${mark}`);
      const counts = await Promise.all(marks.map((key) => redis.exists(key)));
      return counts.some((count) => count > 0) ? queue : undefined;
    }),
  );
  const old = found.filter((queue) => queue !== undefined);
  if (old.length === 0) return;
  throw new OldKeyLayoutError(
    `Redis holds queues in the key layout of an earlier release (${old
      .map((queue) => `${oldQueueBase(prefix, queue)}*`)
      .join(', ')}). Stop every Errand app, then run \`${MIGRATE_COMMAND}\` with an admin ` +
      'Redis user (docs/upgrading.md) before starting this release.',
  );
}
