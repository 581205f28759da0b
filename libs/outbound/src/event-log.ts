import type { WebhookEvent } from '@errand/contract';
import type { RedisClient } from '@errand/redis';

/**
 * The events of finished jobs, kept for replay (`POST /v1/webhooks/{id}/replay` for a time
 * range): a stream, `<prefix>:webhooks:events`, capped at about `EVENT_LOG_LENGTH` entries.
 * Written only while there is a subscription to replay to. A stream id is its time, so a
 * time range is one XRANGE.
 */
export const EVENT_LOG_LENGTH = 100_000;

const keyOf = (prefix: string) => `${prefix}:webhooks:events`;

export interface LoggedEvent {
  eventId: string;
  event: WebhookEvent;
}

export async function appendEvent(redis: RedisClient, prefix: string, logged: LoggedEvent) {
  await redis.xadd(
    keyOf(prefix),
    'MAXLEN',
    '~',
    EVENT_LOG_LENGTH,
    '*',
    'e',
    JSON.stringify(logged),
  );
}

/**
 * Events logged in [since, until] (epoch ms), oldest first, at most `limit`; `cursor` (the
 * last stream id of a page) goes on after a page.
 */
export async function readEvents(
  redis: RedisClient,
  prefix: string,
  range: { since: number; until: number; limit: number; cursor?: string | undefined },
): Promise<{ events: LoggedEvent[]; cursor: string | null }> {
  const start = range.cursor ? `(${range.cursor}` : String(range.since);
  const entries = await redis.xrange(
    keyOf(prefix),
    start,
    String(range.until),
    'COUNT',
    range.limit,
  );
  const events = entries.flatMap(([, fields]) => {
    const text = fields[fields.indexOf('e') + 1];
    return text ? [JSON.parse(text) as LoggedEvent] : [];
  });
  const last = entries.at(-1)?.[0];
  return { events, cursor: entries.length === range.limit && last ? last : null };
}
