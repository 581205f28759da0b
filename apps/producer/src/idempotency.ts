import { createHash } from 'node:crypto';
import { HttpProblem } from '@errand/http';
import type { Request } from 'express';
import type { Redis } from 'ioredis';

/** How long a key is remembered, also after its job is gone. */
export const IDEMPOTENCY_TTL_S = 48 * 60 * 60;
const KEY = /^[\x21-\x7e]{1,255}$/;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Canonical JSON (sorted keys), so the same request body always hashes the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export interface Idempotency {
  /** The job id this key always maps to (batches append `-<index>`). */
  jobId: string;
  fingerprint: string;
  recordKey: string;
}

/** The `Idempotency-Key` header of a request, scoped to its caller; undefined when absent. */
export function idempotencyOf(
  req: Request,
  scope: string,
  prefix: string,
): Idempotency | undefined {
  const key = req.get('idempotency-key');
  if (key === undefined) return undefined;
  if (!KEY.test(key)) {
    throw new HttpProblem(
      'invalid-body',
      'Idempotency-Key must be 1 to 255 visible ASCII characters.',
      {
        errors: [{ path: 'Idempotency-Key', message: 'invalid' }],
      },
    );
  }
  const id = sha256(`${scope}\n${key}`).slice(0, 40);
  return {
    jobId: `idem-${id}`,
    fingerprint: sha256(canonical({ path: req.path, body: req.body })),
    recordKey: `${prefix}:idempotency:${id}`,
  };
}

/**
 * Remember the key after the job(s) were added. Returns undefined when this request is the
 * first with the key; otherwise the first request's answer, or a 422 when its body differed.
 * Adding first and recording after is what makes concurrent requests safe: BullMQ adds a job
 * id once, so racing requests share one job, and only one of them wins the record.
 */
export async function recordOrReplay<T>(
  redis: Redis,
  idem: Idempotency,
  answer: T,
): Promise<T | undefined> {
  const record = JSON.stringify({ fingerprint: idem.fingerprint, answer });
  const first = await redis.set(idem.recordKey, record, 'EX', IDEMPOTENCY_TTL_S, 'NX');
  if (first === 'OK') return undefined;
  return replay<T>(redis, idem);
}

/** The stored answer for a key seen before (422 if the body differs), or undefined if new. */
export async function replay<T>(redis: Redis, idem: Idempotency): Promise<T | undefined> {
  const stored = await redis.get(idem.recordKey);
  if (!stored) return undefined;
  const { fingerprint, answer } = JSON.parse(stored) as { fingerprint: string; answer: T };
  if (fingerprint !== idem.fingerprint) {
    throw new HttpProblem(
      'idempotency-mismatch',
      'This Idempotency-Key was used with a different request body; use a new key for a new request.',
    );
  }
  return answer;
}
