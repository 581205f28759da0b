import { HttpProblem } from '@errand/http';
import type { RedisClient } from '@errand/redis';

/**
 * A queue's BullMQ events stream (`<prefix>:<queue>:events`) read as a log. Its entry ids
 * are the ids of the SSE events of `GET /v1/jobs/{type}/{id}/events`, so a client that
 * reconnects with `Last-Event-ID` can be sent what it missed.
 */

/** What the events stream says of one job, as the SSE stream sends it on. */
export interface LoggedEvent {
  /** The stream entry id: the SSE event id. */
  id: string;
  event: 'progress' | 'completed' | 'failed' | 'removed';
  /** The progress (parsed, as QueueEvents parses it); unset for the other events. */
  progress?: unknown;
}

/** `<ms>-<seq>` as Redis writes it: no sign, no leading zero, up to 20 digits a part. */
export const STREAM_ID = /^(0|[1-9]\d{0,19})-(0|[1-9]\d{0,19})$/;
const U64_MAX = 2n ** 64n - 1n;
/** Entries read per XRANGE: the stream keeps about 10,000, of every job of the queue. */
const PAGE = 1_000;
const JOB_EVENTS = new Set(['progress', 'completed', 'failed', 'removed']);

/**
 * The `Last-Event-ID` header as a stream id, or a 400. It ends up in an XRANGE, so only the
 * exact form Redis writes passes. An empty one means none, as for a browser's EventSource.
 */
export function lastEventIdOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = STREAM_ID.exec(header);
  if (match && BigInt(match[1] ?? '') <= U64_MAX && BigInt(match[2] ?? '') <= U64_MAX) {
    return header;
  }
  throw new HttpProblem(
    'invalid-header',
    'Last-Event-ID must be the id of an event this stream sent: <ms>-<seq>, as 1711111111111-0.',
  );
}

/** Order of two stream ids, as Redis orders them (numbers, not strings). */
export function compareIds(a: string, b: string): number {
  const [aMs = 0n, aSeq = 0n] = a.split('-').map(BigInt);
  const [bMs = 0n, bSeq = 0n] = b.split('-').map(BigInt);
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  return aSeq === bSeq ? 0 : aSeq < bSeq ? -1 : 1;
}

/** The id of the newest entry of the stream, `0-0` when it has none. */
export async function newestId(redis: RedisClient, stream: string): Promise<string> {
  const [newest] = await redis.xrevrange(stream, '+', '-', 'COUNT', 1);
  return newest?.[0] ?? '0-0';
}

/**
 * The events of job `jobId` after `after` (exclusive) up to `upTo` (inclusive), oldest
 * first; or `undefined` when the stream was trimmed past `after`, so some may be lost.
 * Trimming removes the oldest entries first, so the check after reading covers every page.
 */
export async function eventsOfJob(
  redis: RedisClient,
  stream: string,
  jobId: string,
  after: string,
  upTo: string,
): Promise<LoggedEvent[] | undefined> {
  const found: LoggedEvent[] = [];
  for (let from = after; ; ) {
    const page = await redis.xrange(stream, `(${from}`, upTo, 'COUNT', PAGE);
    for (const [id, fields] of page) {
      const entry = fieldsOf(fields);
      if (entry.jobId !== jobId || !JOB_EVENTS.has(entry.event ?? '')) continue;
      const event = entry.event as LoggedEvent['event'];
      found.push(event === 'progress' ? { id, event, progress: parse(entry.data) } : { id, event });
    }
    const last = page.at(-1);
    if (page.length < PAGE || !last) break;
    from = last[0];
  }
  const [oldest] = await redis.xrange(stream, '-', '+', 'COUNT', 1);
  return oldest && compareIds(oldest[0], after) <= 0 ? found : undefined;
}

function fieldsOf(fields: string[]): Record<string, string | undefined> {
  const entry: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2)
    entry[fields[i] as string] = fields[i + 1] as string;
  return entry;
}

const parse = (text: string | undefined): unknown => {
  try {
    return text === undefined ? null : JSON.parse(text);
  } catch {
    return text;
  }
};
