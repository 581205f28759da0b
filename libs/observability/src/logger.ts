import { type Logger, type LoggerOptions, pino } from 'pino';

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
        const masked = args.map((arg) => (typeof arg === 'string' ? maskEmails(arg) : arg));
        method.apply(this, masked as Parameters<typeof method>);
      },
    },
    formatters: {
      log(object) {
        const err = object.err as { message?: unknown } | undefined;
        if (err && typeof err.message === 'string') err.message = maskEmails(err.message);
        return object;
      },
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
