import type { JobType } from '@errand/contract';
import { errorLines, type Logger } from '@errand/observability';
import type { Queues } from '@errand/queues';
import type { RedisClient } from '@errand/redis';
import { createRedis, type RedisLocation } from '@errand/redis';
import { QueueEvents } from 'bullmq';

/** BullMQ's job events of each queue, shared by every SSE stream of the producer. */
export interface JobEvents {
  /** The queue's QueueEvents, opened on first use with a connection of its own. */
  of(type: JobType): Promise<QueueEvents>;
  /** Register a way to end an open stream at shutdown; returns the unregister function. */
  track(end: () => void): () => void;
  /** End every open stream and close the QueueEvents; safe to call twice. */
  close(): Promise<void>;
}

export function makeJobEvents(options: {
  redis: RedisClient;
  redisLocation: RedisLocation | string;
  queues: Queues;
  /** Where the QueueEvents' errors go, one line each (BullMQ prints stacks without a listener). */
  logger?: Logger;
}): JobEvents {
  const opened = new Map<JobType, Promise<QueueEvents>>();
  const connections: RedisClient[] = [];
  const streams = new Set<() => void>();
  let closing: Promise<void> | undefined;

  async function open(type: JobType): Promise<QueueEvents> {
    const queue = options.queues[type];
    // Read on from the newest event there is now, not from whenever the first XREAD runs:
    // an event written between this stream opening and that read is then not lost.
    const [last] = await options.redis.xrevrange(queue.keys.events ?? '', '+', '-', 'COUNT', 1);
    // A blocking reader (XREAD BLOCK) needs the worker role's patient connection.
    const connection = createRedis(options.redisLocation, 'worker');
    connection.on('error', () => {}); // it reconnects by itself; the API's client logs outages
    connections.push(connection);
    const events = new QueueEvents(queue.name, {
      connection,
      prefix: queue.opts.prefix,
      lastEventId: last?.[0] ?? '0-0',
    });
    if (options.logger) {
      events.on('error', errorLines(options.logger.child({ queue: type }), 'queue events error'));
    }
    await events.waitUntilReady();
    return events;
  }

  return {
    of(type) {
      let events = opened.get(type);
      if (!events) {
        events = open(type);
        events.catch(() => opened.delete(type));
        opened.set(type, events);
      }
      return events;
    },
    track(end) {
      streams.add(end);
      return () => streams.delete(end);
    },
    close() {
      closing ??= (async () => {
        for (const end of [...streams]) end();
        const all = await Promise.allSettled(opened.values());
        await Promise.all(all.map((e) => (e.status === 'fulfilled' ? e.value.close() : undefined)));
        for (const connection of connections) connection.disconnect();
      })();
      return closing;
    },
  };
}
