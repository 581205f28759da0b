/**
 * Standard Webhooks v1 signing (https://www.standardwebhooks.com), the one signer for http
 * jobs and webhook deliveries. A receiver verifies with any Standard Webhooks library:
 * `webhook-signature` is `v1,<base64 HMAC-SHA256(secret, "<id>.<timestamp>.<body>")>`, one per
 * secret and space-separated, so during a rotation both the new and the previous secret verify.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';

const PREFIX = 'whsec_';
// The spec asks for secrets of 24 to 64 bytes.
const SECRET = /^whsec_(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A new secret: `whsec_` + base64 of 32 random bytes. */
export function newSigningSecret(): string {
  return PREFIX + randomBytes(32).toString('base64');
}

export function isSigningSecret(text: string): boolean {
  if (!SECRET.test(text)) return false;
  const bytes = Buffer.from(text.slice(PREFIX.length), 'base64').length;
  return bytes >= 24 && bytes <= 64;
}

export interface SignatureInput {
  /** The message id; the same for every attempt of one message (see messageId). */
  id: string;
  /** A Date, or Unix seconds. */
  timestamp: Date | number;
  /** The exact bytes sent as the body, as a string. */
  body: string;
  /** The current secret first, then a previous one still honoured during a rotation. */
  secrets: readonly string[];
}

export interface SignatureHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

export function signatureHeaders({
  id,
  timestamp,
  body,
  secrets,
}: SignatureInput): SignatureHeaders {
  // The id goes into a header and into the signed content, where "." separates fields.
  if (!/^[\x21-\x7e]{1,255}$/.test(id)) {
    throw new Error('a webhook id is 1 to 255 visible ASCII characters');
  }
  const seconds = timestamp instanceof Date ? Math.floor(timestamp.getTime() / 1000) : timestamp;
  if (!Number.isSafeInteger(seconds) || seconds < 0) {
    throw new Error('a webhook timestamp is a Date or a whole number of Unix seconds');
  }
  if (secrets.length === 0) throw new Error('signing needs at least one secret');
  const content = `${id}.${seconds}.${body}`;
  const signatures = secrets.map((secret) => {
    if (!isSigningSecret(secret)) {
      throw new Error('a signing secret is whsec_ and the base64 of 24 to 64 bytes');
    }
    const key = Buffer.from(secret.slice(PREFIX.length), 'base64');
    return `v1,${createHmac('sha256', key).update(content).digest('base64')}`;
  });
  return {
    'webhook-id': id,
    'webhook-timestamp': String(seconds),
    'webhook-signature': signatures.join(' '),
  };
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/**
 * A message id derived from its parts (say a job id and an attempt-independent key): the
 * same on every retry, so receivers can dedupe on it. `msg_` + 36 base32 characters
 * (180 bits of SHA-256), 40 characters in all.
 */
export function messageId(...parts: string[]): string {
  // JSON keeps ("a.b", "c") and ("a", "b.c") apart.
  const digest = createHash('sha256').update(JSON.stringify(parts)).digest();
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return `msg_${out.slice(0, 36)}`;
}
