import type { RedisClient } from '@errand/redis';
import type { SentMessageInfo, Transporter } from 'nodemailer';
import { PermanentError, type Processor, ThrottleError } from '../processor.ts';
import type { RenderTemplate } from '../templates.ts';

export interface EmailDeps {
  transport: Transporter;
  defaultFrom: string;
  render: RenderTemplate;
  /** The send ledger: which jobs' messages an SMTP server has already accepted. */
  ledger: { redis: RedisClient; keyPrefix: string; ttlSeconds: number };
  /** How long to pause the queue on 421/451 when the server does not say. */
  throttleMs: number;
}

type SmtpError = Error & { responseCode?: number; code?: string; response?: string };

const list = (value: string | string[] | undefined) =>
  value === undefined ? undefined : Array.isArray(value) ? value : [value];

const HEADER_BREAK = /[\r\n]/;

/** "Try again in 30 seconds" / "in 2 minutes": the server's own throttle time, if it says. */
function serverDelayMs(text: string): number | undefined {
  const match = /(\d+)\s*(s|sec|secs|seconds?|m|mins?|minutes?)\b/i.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * (match[2]?.toLowerCase().startsWith('m') ? 60_000 : 1_000);
}

/**
 * The taxonomy of SMTP failures: 421/451 → throttle the queue (attempt not spent);
 * other 4xx and network errors → retry with backoff; 5xx and malformed envelopes → permanent.
 */
export function classify(error: SmtpError, throttleMs: number): Error {
  const code = error.responseCode;
  if (code === 421 || code === 451) {
    return new ThrottleError(
      `SMTP ${code}: ${error.message}`,
      serverDelayMs(error.message) ?? throttleMs,
    );
  }
  if (code !== undefined && code >= 500)
    return new PermanentError(`SMTP refused the message: ${error.message}`);
  if (code === undefined && error.code === 'EENVELOPE') {
    return new PermanentError(`invalid envelope: ${error.message}`);
  }
  return error;
}

/**
 * Send one email through the pooled transport; literal text/html or a rendered template.
 * A ledger entry per job id records the accepted send, so a retried or recovered job whose
 * message already went out returns the recorded result instead of sending again.
 */
export const makeEmailProcessor = (deps: EmailDeps): Processor<'email'> => {
  const { transport, ledger } = deps;
  return async (mail, ctx) => {
    // The contract already refuses these; a job added around the API gets the same answer.
    for (const value of [mail.subject, mail.from, mail.replyTo, ...(list(mail.to) ?? [])]) {
      if (value && HEADER_BREAK.test(value)) throw new PermanentError('CR/LF in a mail header');
    }
    const ledgerKey = `${ledger.keyPrefix}:${ctx.id}`;
    // Only a job started before can have had its message accepted: BullMQ counts every start
    // (retries, stalls, hand-backs), so a first start skips the read (a round trip per mail).
    const recorded = ctx.attempt > 1 ? await ledger.redis.get(ledgerKey) : null;
    if (recorded) {
      ctx.logger.info(
        'message was already accepted by SMTP on an earlier attempt; not sending again',
      );
      return JSON.parse(recorded);
    }
    const content = mail.template
      ? deps.render(mail.template.name, mail.template.data)
      : { text: mail.text, html: mail.html };
    let info: SentMessageInfo;
    try {
      info = await transport.sendMail({
        from: mail.from ?? deps.defaultFrom,
        to: list(mail.to),
        cc: list(mail.cc),
        bcc: list(mail.bcc),
        replyTo: mail.replyTo,
        subject: mail.subject,
        ...content,
        headers: { 'X-Errand-Job-Id': ctx.id },
        disableFileAccess: true,
        disableUrlAccess: true,
      });
    } catch (error) {
      throw classify(error as SmtpError, deps.throttleMs);
    }
    const result = {
      messageId: info.messageId,
      accepted: (info.accepted ?? []).map(String),
      rejected: (info.rejected ?? []).map(String),
      response: info.response ?? '',
    };
    await ledger.redis.set(ledgerKey, JSON.stringify(result), 'EX', ledger.ttlSeconds);
    return result;
  };
};
