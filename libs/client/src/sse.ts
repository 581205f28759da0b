import type { JobType, JobView } from '@errand/contract';
import { EventSourceParserStream } from 'eventsource-parser/stream';

/** One Server-Sent Event of `GET /v1/jobs/{type}/{id}/events`. */
export type JobEvent<T extends JobType = JobType> = (
  | { event: 'state' | 'completed' | 'failed'; data: JobView<T> }
  | { event: 'progress'; data: { id: string; progress: unknown } }
  | { event: 'removed'; data: { id: string; type: T; state: 'removed' } }
) & {
  /** The event's id (a Redis stream id); `lastEventId` of `events()` resumes after it. */
  id?: string | undefined;
};

/** The events that end a job's stream. */
export const FINAL_EVENTS = new Set(['completed', 'failed', 'removed']);

/**
 * The events of a text/event-stream body, parsed by `eventsource-parser`. As in an
 * EventSource, an event without `event:` is a `message`, and an event's id is the last `id:`
 * seen so far in this stream (the parser gives only the event's own).
 */
export async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<{
  event: string;
  data: string;
  id: string | undefined;
}> {
  let lastId: string | undefined;
  const events = body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream());
  // Leaving the loop early (a final event, or the caller's return) cancels the body.
  for await (const { event = 'message', data, id } of events) {
    lastId = id ?? lastId;
    yield { event, data, id: lastId };
  }
}
