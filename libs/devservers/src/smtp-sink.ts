import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';

export interface ReceivedMail {
  /** Envelope sender and recipients, as the SMTP session saw them. */
  envelope: { from: string; to: string[] };
  parsed: ParsedMail;
  raw: Buffer;
  /** Where the message was saved as .eml, when the sink saves. */
  file?: string;
  /** When its final `.` arrived (epoch ms): from then on the message is the server's. */
  receivedAt: number;
}

interface Rule {
  code: number;
  message: string;
  /** How many more times to answer with this code; Infinity for always. */
  remaining: number;
}

export interface SmtpSinkOptions {
  port?: number;
  host?: string;
  /** Save each message as `<time>-<id>.eml` in this directory. */
  saveDir?: string;
}

/**
 * A real SMTP server that accepts everything (any or no auth, no TLS), records each message
 * parsed by mailparser, optionally saves it as .eml, and can answer chosen recipients with
 * 4xx/5xx codes to exercise a sender's error handling.
 */
export class SmtpSink {
  readonly messages: ReceivedMail[] = [];
  private readonly rules = new Map<string, Rule>();
  private readonly delays = new Map<string, number>();
  private readonly rcptDelays = new Map<string, number>();
  private readonly closedSessions = new Set<string>();
  private readonly waiters = new Set<() => void>();
  private closed: Promise<void> | undefined;

  readonly port: number;
  readonly host: string;
  private readonly server: SMTPServer;
  private readonly saveDir: string | undefined;

  private constructor(server: SMTPServer, port: number, host: string, saveDir?: string) {
    this.server = server;
    this.port = port;
    this.host = host;
    this.saveDir = saveDir;
  }

  static async start(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
    const host = options.host ?? '127.0.0.1';
    if (options.saveDir) await mkdir(options.saveDir, { recursive: true });
    let sink: SmtpSink | undefined;
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      size: 50 * 1024 * 1024,
      onAuth: (_auth, _session, callback) => callback(null, { user: 'sink' }),
      onRcptTo: (address, _session, callback) => {
        const hold = sink?.rcptDelays.get(address.address.toLowerCase()) ?? 0;
        const answer = () => callback(sink?.answerFor(address) ?? null);
        if (hold > 0) setTimeout(answer, hold);
        else answer();
      },
      onClose: (session) => sink?.closedSessions.add(session.id),
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const receivedAt = Date.now();
          const envelope = {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          };
          const accept = async () => {
            await sink?.pause(envelope.to);
            // A client gone before our 250 never had the message accepted: do not deliver it.
            if (sink?.closedSessions.has(session.id)) return;
            await sink?.record(envelope, Buffer.concat(chunks), receivedAt);
          };
          accept().then(() => callback(), callback);
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => resolve());
    });
    // A client that vanishes mid-conversation (a sender killed, a reset connection) is the
    // sender's problem, not the sink's: without a listener the error would end this process.
    server.on('error', () => {});
    const { port } = server.server.address() as AddressInfo;
    sink = new SmtpSink(server, port, host, options.saveDir);
    return sink;
  }

  get url(): string {
    return `smtp://${this.host}:${this.port}`;
  }

  /** Answer RCPT TO for `address` with `code` for the next `times` attempts (default: always). */
  failRecipient(address: string, code: number, times = Number.POSITIVE_INFINITY, message?: string) {
    this.rules.set(address.toLowerCase(), {
      code,
      remaining: times,
      message: message ?? `${code} rejected by test rule`,
    });
  }

  /** Hold the 250 reply to a message for any of `addresses` for `ms`: a slow server. */
  slowRecipient(address: string, ms: number) {
    this.delays.set(address.toLowerCase(), ms);
  }

  /**
   * Hold the answer to `RCPT TO` for `address` for `ms`: a server slow before it takes the
   * message (DNS and reputation checks happen there). A sender that vanishes meanwhile never
   * sent its message, so nothing is delivered; compare `slowRecipient`, slow after the final
   * `.`, when the message is the server's already (RFC 1047's duplicate window).
   */
  slowToAccept(address: string, ms: number) {
    this.rcptDelays.set(address.toLowerCase(), ms);
  }

  private async pause(recipients: string[]): Promise<void> {
    const ms = Math.max(0, ...recipients.map((rcpt) => this.delays.get(rcpt.toLowerCase()) ?? 0));
    if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
  }

  private answerFor(address: SMTPServerAddress): Error | null {
    const rule = this.rules.get(address.address.toLowerCase());
    if (!rule || rule.remaining <= 0) return null;
    rule.remaining -= 1;
    return Object.assign(new Error(rule.message), { responseCode: rule.code });
  }

  private async record(
    envelope: ReceivedMail['envelope'],
    raw: Buffer,
    receivedAt: number,
  ): Promise<void> {
    const parsed = await simpleParser(raw);
    const mail: ReceivedMail = { envelope, parsed, raw, receivedAt };
    if (this.saveDir) {
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      mail.file = join(this.saveDir, `${stamp}-${randomUUID().slice(0, 8)}.eml`);
      await writeFile(mail.file, raw);
    }
    this.messages.push(mail);
    for (const wake of this.waiters) wake();
  }

  /** Resolve once `count` messages have arrived, or reject after `timeoutMs`. */
  waitFor(count: number, timeoutMs = 10_000): Promise<ReceivedMail[]> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.messages.length < count) return;
        cleanup();
        resolve(this.messages.slice(0, count));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `SMTP sink: ${this.messages.length} of ${count} messages after ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Stop listening; safe to call twice. */
  close(): Promise<void> {
    this.closed ??= new Promise((resolve) => this.server.close(() => resolve()));
    return this.closed;
  }
}
