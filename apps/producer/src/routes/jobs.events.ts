import type { RequestHandler } from 'express';
import type { Deps } from '../deps.ts';
import {
  compareIds,
  eventsOfJob,
  type LoggedEvent,
  lastEventIdOf,
  newestId,
} from '../job-event-log.ts';
import { jobNotFound, jobPathOf } from '../job-type.ts';
import { readJobWithLinks } from '../output-links.ts';
import { withRedis } from '../redis-errors.ts';

const FINAL = new Set(['completed', 'failed']);
/** Besides BullMQ's events, the job is read this often: a missed event only delays the end. */
const POLL_MS = 1_000;
const HEARTBEAT_EVERY = 15;

/**
 * GET /v1/jobs/{type}/{id}/events: Server-Sent Events. First `state` (the job as GET shows
 * it), then `progress` as the worker reports it, then `completed` or `failed` (or `removed`)
 * with the final view, and the stream ends. A job that already finished ends at once.
 *
 * Each event's `id` is the id of the entry of the queue's BullMQ events stream it comes from;
 * the `state`'s is the newest entry when the job was read. With `Last-Event-ID`, the stream
 * starts with `state` again (with that id back, when nothing was lost), then the job's events
 * after that id, read from the events stream, then live ones. When the stream was trimmed
 * past that id, `state` has the newest id and is the truth to go on from.
 *
 * 1. Listen first, buffering: nothing that happens while the past is read is missed.
 * 2. Read the newest event id, then the job, then the missed events up to that id.
 * 3. Send `state` and the missed events; a job that is final ends there.
 * 4. Send the buffered events after that id, then each live one as it comes.
 */
export const streamJobEvents =
  ({ queues, redis, events, links, logger }: Deps): RequestHandler =>
  async (req, res) => {
    const { type, id } = jobPathOf(req);
    const resumeFrom = lastEventIdOf(req.get('last-event-id'));
    const queue = queues[type];
    const stream = queue.keys.events ?? '';
    // The job as GET shows it: an image job's output URLs signed as they are sent.
    const read = () => readJobWithLinks(queue, type, id, { links, logger });
    const queueEvents = await withRedis(redis, () => events.of(type));

    let live = false;
    let ended = false;
    let missed = false;
    let lastId = '0-0'; // of the last event sent: events up to it are never sent again
    let ticks = 0;
    const buffered: LoggedEvent[] = [];
    const send = (event: string, data: unknown, eventId = lastId) => {
      if (ended) return;
      lastId = eventId;
      res.write(`id: ${eventId}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    /** End with the final view if the job is final (or gone); else nothing. */
    const finish = async (eventId?: string) => {
      const view = await read().catch(() => null); // Redis down: next tick
      if (view === null) return;
      if (!view) end('removed', { id, type, state: 'removed' }, eventId);
      else if (FINAL.has(view.state)) end(view.state, view, eventId);
    };
    const deliver = async (entry: LoggedEvent) => {
      if (ended || compareIds(entry.id, lastId) <= 0) return; // sent already
      if (entry.event === 'progress') send('progress', { id, progress: entry.progress }, entry.id);
      else await finish(entry.id);
    };
    const check = async () => {
      if (!live || ended) missed = true;
      else await finish();
    };
    const listeners = (['progress', 'completed', 'failed', 'removed'] as const).map((event) => {
      const listener = (args: { jobId: string; data?: unknown }, eventId: string) => {
        if (args.jobId !== id) return;
        const entry: LoggedEvent = { id: eventId, event, progress: args.data };
        if (live) void deliver(entry);
        else buffered.push(entry);
      };
      return [event, listener] as const;
    });
    const untrack = events.track(() => end());
    const timer = setInterval(() => {
      if (++ticks % HEARTBEAT_EVERY === 0 && !ended) res.write(': heartbeat\n\n');
      void check();
    }, POLL_MS);
    const cleanup = () => {
      clearInterval(timer);
      for (const [event, listener] of listeners) queueEvents.off(event, listener);
      untrack();
    };
    function end(event?: string, data?: unknown, eventId?: string) {
      if (event) send(event, data, eventId);
      if (ended) return;
      ended = true;
      cleanup();
      res.end();
    }
    for (const [event, listener] of listeners) queueEvents.on(event, listener);
    res.on('close', () => end());
    let newest: string;
    let view: Awaited<ReturnType<typeof read>>;
    let missedEvents: LoggedEvent[] | undefined;
    try {
      // In this order: events up to `newest` are in the view or in the missed events, and
      // the listeners, on since before `newest` was read, hear every event after it.
      newest = await withRedis(redis, () => newestId(redis, stream));
      view = await withRedis(redis, read);
      if (!view) throw jobNotFound(type, id);
      if (resumeFrom && compareIds(resumeFrom, newest) < 0) {
        missedEvents = await withRedis(redis, () =>
          eventsOfJob(redis, stream, id, resumeFrom, newest),
        );
      }
    } catch (error) {
      ended = true;
      cleanup();
      throw error;
    }
    if (ended) return; // the client left while the job was read
    res.status(200).set({
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache',
      'X-Accel-Buffering': 'no',
      // One stream per connection: once it ends, nothing keeps a shutting-down server open.
      Connection: 'close',
    });
    res.flushHeaders();
    send('state', view, missedEvents && resumeFrom ? resumeFrom : newest);
    for (const entry of missedEvents ?? []) await deliver(entry);
    if (!ended) lastId = newest;
    if (FINAL.has(view.state)) end(view.state, view);
    while (buffered.length > 0 && !ended) await deliver(buffered.shift() as LoggedEvent);
    live = true;
    if (missed) await check();
  };
