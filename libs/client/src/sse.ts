import type { JobType, JobView } from '@errand/contract';

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
 * Parse a text/event-stream body into its events (`event:`, `data:` and `id:` fields). As in
 * an EventSource, an event's id is the last `id:` seen, so far in this stream.
 */
export async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<{
  event: string;
  data: string;
  id: string | undefined;
}> {
  let buffer = '';
  let lastId: string | undefined;
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n?/g, '\n');
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\n\n');
        let event = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue; // a comment (heartbeat)
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') event = value;
          else if (field === 'data') data.push(value);
          else if (field === 'id' && !value.includes('\0')) lastId = value;
        }
        if (data.length > 0) yield { event, data: data.join('\n'), id: lastId };
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}
