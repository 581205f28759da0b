import { HttpProblem } from '@errand/http';
import type { RequestHandler } from 'express';
import type { Deps } from '../deps.ts';
import { jobIdOf, jobTypeOf } from '../job-type.ts';
import { readJob } from '../job-view.ts';
import { withRedis } from '../redis-errors.ts';

const FINAL = new Set(['completed', 'failed']);
/** Besides BullMQ's events, the job is read this often: a missed event only delays the end. */
const POLL_MS = 1_000;
const HEARTBEAT_EVERY = 15;

/**
 * GET /v1/jobs/{type}/{id}/events: Server-Sent Events. First `state` (the job as GET shows
 * it), then `progress` as the worker reports it, then `completed` or `failed` (or `removed`)
 * with the final view, and the stream ends. A job that already finished ends at once.
 */
export const streamJobEvents =
  ({ queues, redis, events }: Deps): RequestHandler =>
  async (req, res) => {
    const type = jobTypeOf(req.params.type);
    const id = jobIdOf(req.params.id);
    const queue = queues[type];
    const queueEvents = await withRedis(redis, () => events.of(type));

    let started = false;
    let ended = false;
    let missed = false;
    let ticks = 0;
    const send = (event: string, data: unknown) => {
      if (!ended) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const check = async () => {
      if (!started || ended) {
        missed = true;
        return;
      }
      const view = await readJob(queue, type, id).catch(() => null); // Redis down: next tick
      if (view === null) return;
      if (!view) end('removed', { id, type, state: 'removed' });
      else if (FINAL.has(view.state)) end(view.state, view);
    };
    const onProgress = ({ jobId, data }: { jobId: string; data: unknown }) => {
      if (jobId === id && started) send('progress', { id, progress: data });
    };
    const onFinished = ({ jobId }: { jobId: string }) => {
      if (jobId === id) void check();
    };
    const untrack = events.track(() => end());
    const timer = setInterval(() => {
      if (++ticks % HEARTBEAT_EVERY === 0 && !ended) res.write(': heartbeat\n\n');
      void check();
    }, POLL_MS);
    const cleanup = () => {
      clearInterval(timer);
      queueEvents.off('progress', onProgress);
      queueEvents.off('completed', onFinished);
      queueEvents.off('failed', onFinished);
      queueEvents.off('removed', onFinished);
      untrack();
    };
    function end(event?: string, data?: unknown) {
      if (event) send(event, data);
      if (ended) return;
      ended = true;
      cleanup();
      res.end();
    }
    // Listen before reading the state: a job that finishes in between is seen either way.
    queueEvents.on('progress', onProgress);
    queueEvents.on('completed', onFinished);
    queueEvents.on('failed', onFinished);
    queueEvents.on('removed', onFinished);
    res.on('close', () => end());
    try {
      const view = await withRedis(redis, () => readJob(queue, type, id));
      if (!view) throw new HttpProblem('job-not-found', `No ${type} job has id "${id}".`);
      res.status(200).set({
        'Content-Type': 'text/event-stream',
        'Cache-Control': 'no-cache',
        'X-Accel-Buffering': 'no',
        // One stream per connection: once it ends, nothing keeps a shutting-down server open.
        Connection: 'close',
      });
      res.flushHeaders();
      started = true;
      send('state', view);
      if (FINAL.has(view.state)) end(view.state, view);
      else if (missed) await check();
    } catch (error) {
      ended = true;
      cleanup();
      throw error;
    }
  };
