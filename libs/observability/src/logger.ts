import { type Logger, type LoggerOptions, pino, stdSerializers } from 'pino';

export type { Logger } from 'pino';

/** Keys whose values never reach a log line: secrets, and personal data in job payloads. */
const SECRET_KEYS = ['password', 'pass', 'secret', 'token', 'apiKey', 'key', 'authorization'];
const PERSONAL_KEYS = ['to', 'cc', 'bcc', 'from', 'replyTo', 'email', 'userId', 'anonymousId'];

export const redactedPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  ...[...SECRET_KEYS, ...PERSONAL_KEYS].flatMap((key) => [key, `*.${key}`, `*.*.${key}`]),
];

const EMAIL_IN_TEXT = /[^\s<>"'@]+@[^\s<>"'@]+\.[^\s<>"'@]+/g;

/** Mask email addresses inside free text (error messages often quote a recipient). */
export const maskEmails = (text: string) => text.replace(EMAIL_IN_TEXT, '[email]');

/**
 * The one JSON logger of an app: `app` on every line, secrets and personal data redacted.
 * `destination` is for tests that read the lines back.
 */
export function createLogger(
  app: string,
  level: string,
  destination?: NodeJS.WritableStream,
): Logger {
  const options: LoggerOptions = {
    level,
    base: { app },
    redact: { paths: redactedPaths, censor: '[redacted]' },
    hooks: {
      logMethod(args, method) {
        // logger.error(err) alone: pino would take the raw message as msg, so give it a masked one.
        const [first, second] = args as unknown[];
        const call =
          first instanceof Error && typeof second !== 'string'
            ? [{ err: first }, first.message]
            : args;
        const masked = call.map((arg) => (typeof arg === 'string' ? maskEmails(arg) : arg));
        method.apply(this, masked as Parameters<typeof method>);
      },
    },
    serializers: {
      // A copy with addresses masked in message and stack; the caller's Error stays as it was.
      err(error: Error) {
        const serialized = stdSerializers.err(error);
        serialized.message = maskEmails(serialized.message);
        if (serialized.stack) serialized.stack = maskEmails(serialized.stack);
        return serialized;
      },
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
