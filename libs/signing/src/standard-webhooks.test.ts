import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import {
  isSigningSecret,
  messageId,
  newSigningSecret,
  signatureHeaders,
} from './standard-webhooks.ts';

// Verification is by the standardwebhooks package, not by our own code.
const verify = (secret: string, body: string, headers: Record<string, string>) =>
  new Webhook(secret).verify(body, headers, { jsonParse: false });

describe('signatureHeaders', () => {
  const body = JSON.stringify({ event: 'job.completed', id: '42' });
  const now = () => Math.floor(Date.now() / 1000);

  it('signs so that each of two secrets verifies (a rotation)', () => {
    const current = newSigningSecret();
    const previous = newSigningSecret();
    const headers = signatureHeaders({
      id: 'msg_1',
      timestamp: now(),
      body,
      secrets: [current, previous],
    });
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(() => verify(current, body, { ...headers })).not.toThrow();
    expect(() => verify(previous, body, { ...headers })).not.toThrow();
    expect(() => verify(newSigningSecret(), body, { ...headers })).toThrow(/signature/i);
  });

  it('takes a Date as well as Unix seconds', () => {
    const secret = newSigningSecret();
    const date = new Date();
    const headers = signatureHeaders({ id: 'msg_2', timestamp: date, body, secrets: [secret] });
    expect(headers['webhook-timestamp']).toBe(String(Math.floor(date.getTime() / 1000)));
    expect(() => verify(secret, body, { ...headers })).not.toThrow();
  });

  it('fails verification for a tampered body, timestamp or id', () => {
    const secret = newSigningSecret();
    const headers = signatureHeaders({ id: 'msg_3', timestamp: now(), body, secrets: [secret] });
    expect(() => verify(secret, `${body} `, { ...headers })).toThrow(/signature/i);
    const later = String(Number(headers['webhook-timestamp']) + 1);
    expect(() => verify(secret, body, { ...headers, 'webhook-timestamp': later })).toThrow(
      /signature/i,
    );
    expect(() => verify(secret, body, { ...headers, 'webhook-id': 'msg_4' })).toThrow(/signature/i);
  });

  it('refuses a bad id, timestamp or secret, or no secret at all', () => {
    const secret = newSigningSecret();
    const base = { id: 'msg_5', timestamp: now(), body, secrets: [secret] };
    expect(() => signatureHeaders({ ...base, id: 'a\r\nb' })).toThrow(/webhook id/);
    expect(() => signatureHeaders({ ...base, timestamp: 1.5 })).toThrow(/timestamp/);
    expect(() => signatureHeaders({ ...base, secrets: [] })).toThrow(/at least one/);
    expect(() => signatureHeaders({ ...base, secrets: ['whsec_c2hvcnQ='] })).toThrow(/secret/);
  });
});

describe('signing secrets', () => {
  it('makes whsec_ secrets of 32 random bytes', () => {
    const secret = newSigningSecret();
    expect(secret).toMatch(/^whsec_/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    expect(newSigningSecret()).not.toBe(secret);
    expect(isSigningSecret(secret)).toBe(true);
  });

  it.each([
    ['no prefix', Buffer.alloc(32).toString('base64')],
    ['too short', `whsec_${Buffer.alloc(16).toString('base64')}`],
    ['too long', `whsec_${Buffer.alloc(65).toString('base64')}`],
    ['not base64', `whsec_${'!'.repeat(44)}`],
    ['empty', ''],
  ])('refuses a secret that is %s', (_, text) => {
    expect(isSigningSecret(text)).toBe(false);
  });
});

describe('messageId', () => {
  it('is stable, short and tells parts apart', () => {
    const id = messageId('job-1', 'webhook-a');
    expect(id).toBe(messageId('job-1', 'webhook-a'));
    expect(id).toMatch(/^msg_[a-z2-7]{36}$/);
    expect(id.length).toBeLessThanOrEqual(40);
    expect(messageId('job-1', 'webhook-b')).not.toBe(id);
    expect(messageId('a.b', 'c')).not.toBe(messageId('a', 'b.c'));
  });
});
