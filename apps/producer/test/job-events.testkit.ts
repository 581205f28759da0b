import { jobs } from '@errand/contract';
import { queuePrefix } from '@errand/queues';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';

/** One Server-Sent Event as a test reads it; `data` is parsed JSON. */
export interface SseEvent {
  id: string | undefined;
  event: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read any JSON shape from the data
  data: any;
}

/**
 * Open an SSE stream over plain HTTP and read it one event at a time: `next()` is the next
 * event (undefined once the server ended the stream), `rest()` every event up to the end,
 * `drop()` cuts the connection as a network failure would.
 */
export async function openStream(url: string, headers: Record<string, string> = {}) {
  const abort = new AbortController();
  const response = await fetch(url, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: abort.signal,
  });
  const reader = (response.body ?? new ReadableStream()).pipeThrough(new TextDecoderStream());
  const chunks = reader[Symbol.asyncIterator]();
  let buffer = '';
  const next = async (): Promise<SseEvent | undefined> => {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const event = parseBlock(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (event) return event;
        continue;
      }
      const chunk = await chunks.next();
      if (chunk.done) return undefined;
      buffer += chunk.value;
    }
  };
  const rest = async () => {
    const events: SseEvent[] = [];
    for (let event = await next(); event; event = await next()) events.push(event);
    return events;
  };
  return { response, next, rest, drop: () => abort.abort() };
}

function parseBlock(block: string): SseEvent | undefined {
  const fields = new Map<string, string>();
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue; // a heartbeat
    const colon = line.indexOf(':');
    fields.set(line.slice(0, colon), line.slice(colon + 1).replace(/^ /, ''));
  }
  const data = fields.get('data');
  if (data === undefined) return undefined;
  return { id: fields.get('id'), event: fields.get('event') ?? 'message', data: JSON.parse(data) };
}

/** What a scripted job does next: report a progress, complete, or fail for good. */
export type Step = number | 'done' | 'fail';

/**
 * A real BullMQ Worker of the email queue whose jobs do what their test tells them: each job
 * takes the steps `step(id, …)` gives it, in order, waiting for the next one.
 */
export function scriptedWorker(redisUrl: string, prefix: string) {
  const scripts = new Map<string, { steps: Step[]; wake?: () => void }>();
  const scriptOf = (id: string) => {
    const script = scripts.get(id) ?? { steps: [] };
    scripts.set(id, script);
    return script;
  };
  const take = async (id: string): Promise<Step> => {
    const script = scriptOf(id);
    while (script.steps.length === 0) {
      await new Promise<void>((resolve) => {
        script.wake = resolve;
      });
    }
    return script.steps.shift() as Step;
  };
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const worker = new Worker(
    jobs.email.queue,
    async (job: Job) => {
      const id = String(job.id);
      for (let step = await take(id); ; step = await take(id)) {
        if (step === 'done') {
          return { messageId: '<m@x>', accepted: [job.data.to], rejected: [], response: '250' };
        }
        if (step === 'fail') throw new UnrecoverableError('mailbox full');
        await job.updateProgress(step);
      }
    },
    { connection, prefix: queuePrefix(prefix, jobs.email.queue), concurrency: 20 },
  );
  return {
    step(id: string, ...steps: Step[]) {
      const script = scriptOf(id);
      script.steps.push(...steps);
      script.wake?.();
    },
    async close() {
      await worker.close(true);
      connection.disconnect();
    },
  };
}
