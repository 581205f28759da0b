import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createTransport } from 'nodemailer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SmtpSink } from './smtp-sink.ts';

/** The SMTP harness itself, driven by a real client (nodemailer) over TCP. */
describe('SmtpSink', () => {
  let sink: SmtpSink;
  let saveDir: string;
  const send = (to: string, subject = 'Hello') =>
    createTransport({ host: sink.host, port: sink.port, secure: false, ignoreTLS: true }).sendMail({
      from: 'sender@example.com',
      to,
      subject,
      text: `Body for ${to}`,
    });

  beforeEach(async () => {
    saveDir = await mkdtemp(join(tmpdir(), 'errand-smtp-'));
    sink = await SmtpSink.start({ saveDir });
  });
  afterEach(async () => {
    await sink.close();
    await rm(saveDir, { recursive: true, force: true });
  });

  it('records the envelope and the parsed message, and saves it as .eml', async () => {
    const before = Date.now();
    await send('ada@example.com', 'Welcome aboard');
    const [mail] = await sink.waitFor(1);
    expect(mail?.receivedAt).toBeGreaterThanOrEqual(before);
    expect(mail?.receivedAt).toBeLessThanOrEqual(Date.now());
    expect(mail?.envelope).toEqual({ from: 'sender@example.com', to: ['ada@example.com'] });
    expect(mail?.parsed.subject).toBe('Welcome aboard');
    expect(mail?.parsed.text?.trim()).toBe('Body for ada@example.com');
    const file = mail?.file ?? '';
    expect(dirname(file)).toBe(saveDir);
    expect(file).toMatch(/\.eml$/);
    const saved = await readFile(file, 'utf8');
    expect(saved).toContain('Subject: Welcome aboard');
    expect(saved).toContain('Body for ada@example.com');
  });

  it('waitFor resolves once enough messages arrived, and rejects after its timeout', async () => {
    const waiting = sink.waitFor(2);
    await send('a@example.com');
    await send('b@example.com');
    expect((await waiting).map((mail) => mail.envelope.to[0])).toEqual([
      'a@example.com',
      'b@example.com',
    ]);
    await expect(sink.waitFor(3, 100)).rejects.toThrow(/2 of 3 messages after 100 ms/);
  });

  it('answers a failing recipient with its code, and delivers nothing', async () => {
    sink.failRecipient('gone@example.com', 550);
    await expect(send('gone@example.com')).rejects.toMatchObject({ responseCode: 550 });
    await expect(send('gone@example.com')).rejects.toMatchObject({ responseCode: 550 });
    expect(sink.messages).toHaveLength(0);
  });

  it('fails a recipient only the given number of times, then accepts', async () => {
    sink.failRecipient('busy@example.com', 451, 2);
    await expect(send('busy@example.com')).rejects.toMatchObject({ responseCode: 451 });
    await expect(send('busy@example.com')).rejects.toMatchObject({ responseCode: 451 });
    await send('busy@example.com');
    expect((await sink.waitFor(1))[0]?.envelope.to).toEqual(['busy@example.com']);
  });

  it('holds RCPT TO for a slow-to-accept recipient, and delivers nothing for a sender that left meanwhile', async () => {
    sink.slowToAccept('slow@example.com', 400);
    const transport = createTransport({
      host: sink.host,
      port: sink.port,
      secure: false,
      ignoreTLS: true,
      socketTimeout: 100, // the sender gives up while the server still checks the recipient
    });
    await expect(
      transport.sendMail({
        from: 'a@example.com',
        to: 'slow@example.com',
        subject: 'x',
        text: 'y',
      }),
    ).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(sink.messages).toHaveLength(0);
    await send('slow@example.com', 'Patient');
    const [mail] = await sink.waitFor(1);
    expect(mail?.parsed.subject).toBe('Patient');
  });

  it('outlives clients that reset their connection mid-transaction', async () => {
    const resetMidTransaction = async () => {
      const socket = connect(sink.port, sink.host);
      let heard = '';
      socket.on('data', (chunk) => {
        heard += chunk.toString();
      });
      const until = async (text: RegExp) => {
        while (!text.test(heard)) await new Promise((resolve) => setTimeout(resolve, 10));
      };
      await until(/^220 /m);
      socket.write('EHLO reset.example\r\n');
      await until(/^250 /m);
      heard = '';
      socket.write('MAIL FROM:<a@example.com>\r\n');
      await until(/^250 /m); // inside a transaction now: a reset is an error, not a goodbye
      socket.resetAndDestroy(); // RST, as from a sender killed with unread data
      await new Promise((resolve) => setTimeout(resolve, 100));
    };
    for (let i = 0; i < 3; i++) await resetMidTransaction();
    await send('after@example.com', 'Still here');
    expect((await sink.waitFor(1))[0]?.parsed.subject).toBe('Still here');
  });
});
