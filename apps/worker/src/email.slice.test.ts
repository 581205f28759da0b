import { freePort } from '@errand/devservers';
import {
  type AppProcess,
  eventually,
  request,
  SmtpSink,
  startApp,
  startTestRedis,
  type TestRedis,
} from '@errand/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** The first slice, every part real and in its own process: HTTP → producer → Redis → worker → SMTP. */
describe('email job end to end', () => {
  let redis: TestRedis;
  let smtp: SmtpSink;
  let producer: AppProcess;
  let worker: AppProcess;
  let api: string;

  beforeAll(async () => {
    redis = await startTestRedis();
    smtp = await SmtpSink.start();
    const [producerPort, workerPort] = [await freePort(), await freePort()];
    api = `http://127.0.0.1:${producerPort}`;
    const common = { REDIS_URL: redis.url, QUEUE_PREFIX: 'slice' };
    producer = startApp('producer', { ...common, PRODUCER_PORT: String(producerPort) });
    worker = startApp('worker', { ...common, WORKER_PORT: String(workerPort), SMTP_URL: smtp.url });
    await Promise.all([
      producer.waitForLine('producer listening'),
      worker.waitForLine('worker running'),
    ]);
  });

  afterAll(async () => {
    await Promise.all([producer?.stop(), worker?.stop()]);
    await smtp?.close();
    await redis?.stop();
  });

  it('enqueues over HTTP, sends over SMTP, and reports completed with the result', async () => {
    const created = await request(`${api}/v1/jobs/email`, {
      method: 'POST',
      json: { data: { to: 'ada@example.com', subject: 'Hello', text: 'First job' } },
    });
    expect(created.status).toBe(202);
    expect(created.body).toMatchObject({ type: 'email', state: 'waiting' });
    expect(created.headers.get('location')).toBe(`/v1/jobs/email/${created.body.id}`);

    const [mail] = await smtp.waitFor(1);
    expect(mail?.envelope.to).toEqual(['ada@example.com']);
    expect(mail?.parsed.subject).toBe('Hello');
    expect(mail?.parsed.text?.trim()).toBe('First job');
    expect(mail?.parsed.headers.get('x-errand-job-id')).toBe(created.body.id);

    const done = await eventually(async () => {
      const job = await request(`${api}/v1/jobs/email/${created.body.id}`);
      return job.body.state === 'completed' ? job : undefined;
    });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({
      id: created.body.id,
      type: 'email',
      attemptsMade: 1,
      failedReason: null,
    });
    expect(done.body.result.accepted).toEqual(['ada@example.com']);
    expect(done.body.result.messageId).toMatch(/@/);
  });

  it('renders a template into HTML and text parts', async () => {
    const before = smtp.messages.length;
    const created = await request(`${api}/v1/jobs/email`, {
      method: 'POST',
      json: {
        data: {
          to: 'grace@example.com',
          subject: 'Welcome',
          template: {
            name: 'welcome',
            data: { name: 'Grace', product: 'Errand', loginUrl: 'https://example.com/in' },
          },
        },
      },
    });
    expect(created.status).toBe(202);
    const mails = await smtp.waitFor(before + 1);
    const mail = mails[before];
    expect(mail?.parsed.html).toContain('<h1>Welcome, Grace!</h1>');
    expect(mail?.parsed.text).toContain('Sign in at https://example.com/in');
  });

  it('fails a job permanently when the SMTP server refuses the recipient with 5xx', async () => {
    smtp.failRecipient('nobody@example.com', 550, Number.POSITIVE_INFINITY, 'No such mailbox');
    const created = await request(`${api}/v1/jobs/email`, {
      method: 'POST',
      json: { data: { to: 'nobody@example.com', subject: 'Hi', text: 'x' } },
    });
    const failed = await eventually(async () => {
      const job = await request(`${api}/v1/jobs/email/${created.body.id}`);
      return job.body.state === 'failed' ? job.body : undefined;
    });
    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toMatch(/SMTP refused the message/);
  });

  it('answers problem+json for a payload the contract refuses, and enqueues nothing', async () => {
    const bad = await request(`${api}/v1/jobs/email`, {
      method: 'POST',
      json: { data: { to: 'not-an-address', subject: 'a\r\nBcc: x@example.com', text: 'x' } },
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(bad.body.type).toMatch(/invalid-body$/);
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual([
      'data.subject',
      'data.to',
    ]);

    const unknown = await request(`${api}/v1/jobs/sms`, { method: 'POST', json: { data: {} } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.type).toMatch(/unknown-job-type$/);

    const missing = await request(`${api}/v1/jobs/email/999999`);
    expect(missing.status).toBe(404);
    expect(missing.body.type).toMatch(/job-not-found$/);
  });

  it('serves health, readiness and metrics', async () => {
    expect((await request(`${api}/healthz`)).status).toBe(200);
    expect((await request(`${api}/readyz`)).body).toEqual({ status: 'ready' });
    const metrics = await fetch(`${api}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/errand_jobs_enqueued_total\{type="email",app="producer"\} \d+/);
  });
});
