import closeWithGrace from 'close-with-grace';
import type { Logger } from 'pino';

/**
 * Register the one shutdown path of an app. On SIGTERM/SIGINT (or a crash): log, run
 * `close` within `deadlineMs`; a second signal or the deadline ends the process at once.
 */
export function onShutdown(
  logger: Logger,
  deadlineMs: number,
  close: () => Promise<void>,
): { close: () => void } {
  const handle = closeWithGrace(
    {
      delay: deadlineMs,
      logger: { error: (message: unknown) => logger.error(String(message)) },
    },
    async ({ signal, err }) => {
      if (err) logger.error({ err }, 'fatal error, shutting down');
      else logger.info({ signal, deadlineMs }, 'shutting down');
      await close();
      logger.info('stopped');
    },
  );
  return { close: () => handle.close() };
}

/**
 * Report a failure to start (bad config, unreachable or non-durable Redis) as its message
 * alone, without a stack trace, and make the process exit non-zero.
 */
export function startupFailed(app: string, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`${app} did not start: ${message}\n`);
  process.exitCode = 1;
}
