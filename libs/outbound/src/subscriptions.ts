import type { SubscriptionBody, WebhookEventType } from '@errand/contract';
import type { RedisClient } from '@errand/redis';
import { newSigningSecret } from '@errand/signing';
import { rotated, type StoredSecret, validSecrets } from './secrets.ts';

/**
 * Webhook subscriptions. The admin's record and what deliveries found are kept apart, and
 * each delivery finding is one field written by one atomic command, so that an admin's PUT, a
 * worker's success and another worker's failure at the same moment never undo each other:
 * - `<prefix>:webhooks` (id → the subscription as the admin set it, with its secrets);
 * - `<prefix>:webhooks:disabled` (id → when and why a delivery disabled it; HSETNX: the first
 *   reason stays);
 * - `<prefix>:webhooks:failing` (id → epoch ms of the first failed delivery since the last
 *   success; HSETNX on a failure, HDEL on a success).
 * A PUT of a subscription clears both: putting it again is how an admin re-enables it.
 */
export interface Subscription extends SubscriptionBody {
  id: string;
  /** The API key that put it (its allowed targets bound the URL). */
  owner: string;
  secrets: StoredSecret[];
  createdAt: string;
  updatedAt: string;
}

export interface SubscriptionState {
  disabled?: { at: string; reason: string };
  /** Epoch ms of the first failed delivery since the last one that succeeded. */
  failingSince?: number;
}

const keysOf = (prefix: string) => ({
  records: `${prefix}:webhooks`,
  disabled: `${prefix}:webhooks:disabled`,
  failing: `${prefix}:webhooks:failing`,
});

const stateOf = (disabled: string | null | undefined, failing: string | null | undefined) => ({
  ...(disabled ? { disabled: JSON.parse(disabled) as { at: string; reason: string } } : {}),
  ...(failing ? { failingSince: Number(failing) } : {}),
});

export function subscriptionStore(redis: RedisClient, prefix: string) {
  const keys = keysOf(prefix);
  const readRecord = async (id: string) => {
    const text = await redis.hget(keys.records, id);
    return text ? (JSON.parse(text) as Subscription) : undefined;
  };
  const readState = async (id: string): Promise<SubscriptionState> => {
    const [disabled, failing] = await Promise.all([
      redis.hget(keys.disabled, id),
      redis.hget(keys.failing, id),
    ]);
    return stateOf(disabled, failing);
  };
  const clearState = (id: string) =>
    Promise.all([redis.hdel(keys.disabled, id), redis.hdel(keys.failing, id)]);

  /**
   * Create or replace; a new subscription gets a secret, returned this once. `owner` is the
   * API key that put it: deliveries go only to URLs that key's targets allow, as they are then.
   */
  async function put(
    id: string,
    body: SubscriptionBody,
    owner: string,
    now = new Date(),
  ): Promise<{ subscription: Subscription; created: boolean; secret: string | undefined }> {
    const before = await readRecord(id);
    const secret = before ? undefined : newSigningSecret();
    const record: Subscription = {
      ...body,
      id,
      owner,
      secrets: before?.secrets ?? [{ secret: secret as string }],
      createdAt: before?.createdAt ?? now.toISOString(),
      updatedAt: now.toISOString(),
    };
    if (before) {
      await redis.hset(keys.records, id, JSON.stringify(record));
    } else if ((await redis.hsetnx(keys.records, id, JSON.stringify(record))) === 0) {
      // Made by another PUT meanwhile: this one replaces it, keeping the secret that PUT showed.
      return put(id, body, owner, now);
    }
    await clearState(id);
    return { subscription: record, created: !before, secret };
  }

  return {
    get: readRecord,
    state: readState,
    async list(): Promise<{ subscription: Subscription; state: SubscriptionState }[]> {
      const [records, disabled, failing] = await Promise.all([
        redis.hgetall(keys.records),
        redis.hgetall(keys.disabled),
        redis.hgetall(keys.failing),
      ]);
      return Object.entries(records)
        .map(([id, text]) => ({
          subscription: JSON.parse(text) as Subscription,
          state: stateOf(disabled[id], failing[id]),
        }))
        .sort((a, b) => a.subscription.id.localeCompare(b.subscription.id));
    },
    put,
    async delete(id: string): Promise<boolean> {
      const removed = await redis.hdel(keys.records, id);
      await clearState(id);
      return removed > 0;
    },
    /** A new secret, returned this once; the one before signs for another day. */
    async rotateSecret(id: string, now = Date.now()) {
      const record = await readRecord(id);
      if (!record) return undefined;
      const secrets = rotated(record.secrets, newSigningSecret(), now);
      await redis.hset(keys.records, id, JSON.stringify({ ...record, secrets }));
      const [current, previous] = secrets;
      return { secret: current.secret, previousValidUntil: previous?.validUntil };
    },
    /** The secrets a delivery to `subscription` is signed with now, current first. */
    signingSecrets: (subscription: Subscription, now = Date.now()) =>
      validSecrets(subscription.secrets, now),
    /** Disable it; false when it was disabled already (the first reason stays). */
    async disable(id: string, reason: string, now = new Date()) {
      const set = await redis.hsetnx(
        keys.disabled,
        id,
        JSON.stringify({ at: now.toISOString(), reason }),
      );
      return set === 1;
    },
    markSuccess: (id: string) => redis.hdel(keys.failing, id),
    /** Note a failed delivery; the time since the first failure in a row. */
    async markFailure(id: string, now = Date.now()): Promise<number> {
      // One transaction: a success landing between the two would leave nothing to read.
      const replies = await redis
        .multi()
        .hsetnx(keys.failing, id, String(now))
        .hget(keys.failing, id)
        .exec();
      const since = Number(replies?.[1]?.[1] ?? now);
      return Number.isFinite(since) ? Math.max(0, now - since) : 0;
    },
  };
}
export type SubscriptionStore = ReturnType<typeof subscriptionStore>;

/** Whether a subscription wants an event of a job of `jobType` made by `producer`. */
export const wants = (
  subscription: Subscription,
  event: { type: WebhookEventType; jobType: string; producer: string | null },
) =>
  subscription.events.includes(event.type) &&
  (!subscription.types || subscription.types.includes(event.jobType)) &&
  (!subscription.producers ||
    (event.producer !== null && subscription.producers.includes(event.producer)));

/**
 * The enabled subscriptions, re-read at most every `refreshMs`: a worker asks at the end of
 * every job, and must not pay a Redis read for it. A new subscription gets the events of jobs
 * finishing `refreshMs` after its PUT at the latest.
 */
export function subscriptionCache(store: SubscriptionStore, refreshMs = 2_000) {
  let read: { at: number; list: Promise<Subscription[]> } | undefined;
  return (now = Date.now()): Promise<Subscription[]> => {
    if (!read || now - read.at >= refreshMs) {
      const list = store
        .list()
        .then((all) => all.filter((s) => !s.state.disabled).map((s) => s.subscription));
      read = { at: now, list };
      list.catch(() => {
        read = undefined;
      });
    }
    return read.list;
  };
}
