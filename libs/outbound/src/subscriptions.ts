import type { SubscriptionBody, WebhookEventType } from '@errand/contract';
import type { RedisClient } from '@errand/redis';
import { newSigningSecret } from '@errand/signing';
import { rotated, type StoredSecret, validSecrets } from './secrets.ts';

/**
 * Webhook subscriptions. Two hashes, so that an admin's change and a worker's bookkeeping
 * never overwrite each other:
 * - `<prefix>:webhooks` (id → the subscription as the admin set it, with its secrets);
 * - `<prefix>:webhooks:state` (id → what deliveries found: disabled, failing since).
 * A PUT of a subscription clears its state: putting it again is how an admin re-enables it.
 */
export interface Subscription extends SubscriptionBody {
  id: string;
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
  state: `${prefix}:webhooks:state`,
});

export function subscriptionStore(redis: RedisClient, prefix: string) {
  const keys = keysOf(prefix);
  const readRecord = async (id: string) => {
    const text = await redis.hget(keys.records, id);
    return text ? (JSON.parse(text) as Subscription) : undefined;
  };
  const readState = async (id: string): Promise<SubscriptionState> => {
    const text = await redis.hget(keys.state, id);
    return text ? (JSON.parse(text) as SubscriptionState) : {};
  };
  const writeState = (id: string, state: SubscriptionState) =>
    redis.hset(keys.state, id, JSON.stringify(state));

  return {
    get: readRecord,
    state: readState,
    async list(): Promise<{ subscription: Subscription; state: SubscriptionState }[]> {
      const [records, states] = await Promise.all([
        redis.hgetall(keys.records),
        redis.hgetall(keys.state),
      ]);
      return Object.entries(records)
        .map(([id, text]) => ({
          subscription: JSON.parse(text) as Subscription,
          state: states[id] ? (JSON.parse(states[id]) as SubscriptionState) : {},
        }))
        .sort((a, b) => a.subscription.id.localeCompare(b.subscription.id));
    },
    /** Create or replace; a new subscription gets a secret, returned this once. */
    async put(id: string, body: SubscriptionBody, now = new Date()) {
      const before = await readRecord(id);
      const secret = before ? undefined : newSigningSecret();
      const record: Subscription = {
        ...body,
        id,
        secrets: before?.secrets ?? [{ secret: secret as string }],
        createdAt: before?.createdAt ?? now.toISOString(),
        updatedAt: now.toISOString(),
      };
      await redis.hset(keys.records, id, JSON.stringify(record));
      await redis.hdel(keys.state, id);
      return { subscription: record, created: !before, secret };
    },
    async delete(id: string): Promise<boolean> {
      const removed = await redis.hdel(keys.records, id);
      await redis.hdel(keys.state, id);
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
    async disable(id: string, reason: string, now = new Date()) {
      const state = await readState(id);
      if (state.disabled) return false;
      await writeState(id, { ...state, disabled: { at: now.toISOString(), reason } });
      return true;
    },
    async markSuccess(id: string) {
      const state = await readState(id);
      if (state.failingSince !== undefined)
        await writeState(id, { ...state, failingSince: undefined });
    },
    /** Note a failed delivery; the time since the first failure in a row. */
    async markFailure(id: string, now = Date.now()): Promise<number> {
      const state = await readState(id);
      if (state.failingSince === undefined) await writeState(id, { ...state, failingSince: now });
      return now - (state.failingSince ?? now);
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
