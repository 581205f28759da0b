import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from '@errand/testing';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { z } from 'zod';
import { analyticsPayload } from './analytics.ts';
import { envNameOf, isJobType, jobs, jobTypes } from './catalog.ts';
import { emailPayload } from './email.ts';
import { httpPayload, MAX_HTTP_BODY } from './http.ts';
import { imagePayload } from './image.ts';

/** Every issue as "path: message", one per line; '' when the value is valid. */
const problems = (schema: z.ZodType, value: unknown) =>
  (schema.safeParse(value).error?.issues ?? [])
    .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
    .join('\n');

describe('email payload', () => {
  const mail = { to: 'ada@example.com', subject: 'Hi', text: 'Hello' };

  it('accepts text, html, a template, and lists of addresses', () => {
    expect(problems(emailPayload, mail)).toBe('');
    expect(problems(emailPayload, { ...mail, to: ['a@example.com', 'b@example.com'] })).toBe('');
    const templated = emailPayload.parse({
      to: mail.to,
      subject: 'Hi',
      template: { name: 'digest' },
    });
    expect(templated.template).toEqual({ name: 'digest', data: {} });
  });

  it('refuses CR or LF in the subject (header injection)', () => {
    const injected = { ...mail, subject: 'Hi\r\nBcc: all@example.com' };
    expect(problems(emailPayload, injected)).toBe('subject: must not contain CR or LF characters');
    expect(problems(emailPayload, { ...mail, subject: 'Hi\nthere' })).toContain('subject:');
  });

  it('refuses invalid addresses, unknown fields and unknown templates', () => {
    expect(problems(emailPayload, { ...mail, to: 'not-an-address' })).toMatch(/^to: /);
    expect(problems(emailPayload, { ...mail, cc: ['ok@example.com', 'bad@'] })).toBe(
      'cc.1: Invalid email address',
    );
    expect(problems(emailPayload, { ...mail, priority: 'high' })).toContain('"priority"');
    const unknown = { to: mail.to, subject: 'Hi', template: { name: 'invoice' } };
    expect(problems(emailPayload, unknown)).toMatch(/^template\.name: /);
  });

  it('wants text/html or a template: not both, not neither', () => {
    const both = { ...mail, template: { name: 'welcome' } };
    expect(problems(emailPayload, both)).toContain('template: give either text/html or a template');
    expect(problems(emailPayload, { to: mail.to, subject: 'Hi' })).toContain('template: give');
    expect(problems(emailPayload, { to: mail.to, subject: 'Hi', html: '<p>Hi</p>' })).toBe('');
  });
});

describe('image payload', () => {
  const outputs = [{ width: 200, format: 'webp' }];

  it('accepts a storage key or an http(s) URL as the source', () => {
    expect(problems(imagePayload, { source: { key: 'uploads/a/photo.jpg' }, outputs })).toBe('');
    const remote = { source: { url: 'https://cdn.example.com/a.png' }, outputs };
    expect(problems(imagePayload, remote)).toBe('');
  });

  it('refuses ".." in keys, non-http URLs, unknown fields and no outputs', () => {
    for (const key of ['uploads/./a.png', 'uploads//a.png', 'uploads/a.png/'])
      expect(problems(imagePayload, { source: { key }, outputs }), key).toBe(
        'source.key: must not contain empty, "." or ".." segments',
      );
    expect(problems(imagePayload, { source: { key: 'uploads/../secrets' }, outputs })).toBe(
      'source.key: must not contain empty, "." or ".." segments',
    );
    const file = { source: { url: 'file:///etc/passwd' }, outputs };
    expect(problems(imagePayload, file)).toMatch(/^source\.url: /);
    const ftp = { source: { url: 'ftp://example.com/a.png' }, outputs };
    expect(problems(imagePayload, ftp)).toMatch(/^source\.url: /);
    expect(problems(imagePayload, { source: { key: 'a.png' }, outputs, extra: 1 })).toContain(
      '"extra"',
    );
    expect(problems(imagePayload, { source: { key: 'a.png' }, outputs: [] })).toMatch(/^outputs: /);
  });
});

describe('analytics payload', () => {
  const event = { id: 'e1', name: 'signup', userId: 'u1', timestamp: '2026-11-21T10:15:42+01:00' };
  const events = (n: number) => Array.from({ length: n }, (_, i) => ({ ...event, id: `e${i}` }));

  it('accepts a batch of up to 1000 events with properties', () => {
    const props = { properties: { plan: 'pro', seats: 3, trial: false, ref: null } };
    expect(problems(analyticsPayload, { events: [{ ...event, ...props }] })).toBe('');
    expect(problems(analyticsPayload, { events: events(1000) })).toBe('');
  });

  it('refuses userId with anonymousId, a bad timestamp, unknown fields, 0 or 1001 events', () => {
    expect(problems(analyticsPayload, { events: [{ ...event, anonymousId: 'a1' }] })).toBe(
      'events.0.anonymousId: give userId or anonymousId, not both',
    );
    const badTime = { events: [{ ...event, timestamp: '21/11/2026' }] };
    expect(problems(analyticsPayload, badTime)).toMatch(/^events\.0\.timestamp: /);
    expect(problems(analyticsPayload, { events: [{ ...event, ip: '10.0.0.1' }] })).toContain(
      '"ip"',
    );
    expect(problems(analyticsPayload, { events: events(1001) })).toMatch(/^events: /);
    expect(problems(analyticsPayload, { events: [] })).toMatch(/^events: /);
  });
});

describe('job catalog', () => {
  it('knows its own job types and nothing inherited from Object', () => {
    expect(jobTypes).toEqual(Object.keys(jobs));
    for (const type of jobTypes) expect(isJobType(type)).toBe(true);
    for (const name of ['__proto__', 'toString', 'constructor', 'hasOwnProperty', 'sms']) {
      expect(isJobType(name)).toBe(false);
    }
  });

  it('needs admin for the types the built-in schedules run, and only for those', async () => {
    const file = parse(await readFile(join(REPO_ROOT, 'config', 'schedules.yaml'), 'utf8'));
    const scheduled = new Set(file.schedules.map((s: { job: { type: string } }) => s.job.type));
    expect(scheduled.size).toBeGreaterThan(0);
    for (const type of jobTypes) {
      const expected = scheduled.has(type) ? 'admin' : type === 'webhook' ? 'none' : 'enqueue';
      expect(jobs[type].enqueueScope, type).toBe(expected);
    }
    expect(jobTypes.filter((type) => jobs[type].enqueueScope === 'enqueue').length).toBeGreaterThan(
      0,
    );
  });

  it('gives each type its own queue and its own environment names', () => {
    const names = jobTypes.map(envNameOf);
    expect(new Set(names).size).toBe(jobTypes.length);
    for (const name of names) expect(name).toMatch(/^[A-Z][A-Z0-9_]*$/);
  });

  it.each(jobTypes)('%s has settings a worker can run with', (type) => {
    const { concurrency, timeoutMs, maxWaiting } = jobs[type];
    expect(concurrency).toBeGreaterThanOrEqual(1);
    expect(timeoutMs).toBeGreaterThanOrEqual(1_000);
    expect(maxWaiting).toBeGreaterThanOrEqual(0);
  });

  // `http` and `webhook` name the worker's own strategies (apps/worker/src/backoff.ts, whose
  // test runs every type's backoff through BullMQ).
  it.each(jobTypes)('%s retries with a backoff by default', (type) => {
    const { defaults, queue } = jobs[type];
    expect(queue).toBe(type);
    expect(defaults.attempts).toBeGreaterThan(1);
    const backoff = defaults.backoff as { type: string; delay: number };
    expect(['exponential', 'http', 'webhook']).toContain(backoff.type);
    if (type !== 'webhook') expect(backoff.delay).toBeGreaterThan(0);
  });
});

describe('http payload', () => {
  const ok = { url: 'https://api.example.com/x', method: 'POST' };
  it('takes a body up to 256 KiB and refuses one byte more (the API’s own limit is 1 MiB)', () => {
    expect(httpPayload.safeParse({ ...ok, body: 'x'.repeat(MAX_HTTP_BODY) }).success).toBe(true);
    expect(httpPayload.safeParse({ ...ok, body: 'x'.repeat(MAX_HTTP_BODY + 1) }).success).toBe(
      false,
    );
  });
});
