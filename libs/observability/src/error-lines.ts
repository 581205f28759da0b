import type { Logger } from 'pino';

/** The same error message is logged again only after this long (an outage repeats it). */
const REPEAT_AFTER_MS = 60_000;

/**
 * An `error` listener for an emitter that reports the same failure over and over while Redis
 * is away (BullMQ's Queue, Worker and QueueEvents re-emit every reconnect error of their
 * connection). Each error becomes one structured line at `warn`; a message already logged in
 * the last minute is counted instead, and the count goes out with its next line. Without a
 * listener BullMQ prints each error's multi-line stack with console.error.
 */
export function errorLines(logger: Logger, message: string): (error: Error) => void {
  const last = new Map<string, { at: number; repeats: number }>();
  return (error) => {
    const text = String(error?.message ?? error);
    const now = Date.now();
    const seen = last.get(text);
    if (seen && now - seen.at < REPEAT_AFTER_MS) {
      seen.repeats++;
      return;
    }
    last.set(text, { at: now, repeats: 0 });
    if (last.size > 100) last.delete(last.keys().next().value as string);
    logger.warn({ err: error, ...(seen?.repeats ? { repeats: seen.repeats } : {}) }, message);
  };
}
