import { hash } from 'node:crypto';
import { HttpProblem } from '@errand/http';
import type { Request } from 'express';
import type { Redis } from 'ioredis';

/** How long a key is remembered (two days), also after its job finished or was removed. */
export const IDEMPOTENCY_TTL_S = 48 * 60 * 60;

const KEY = /^[\x21-\x7e]{1,255}$/;

/** The `Idempotency-Key` header (1 to 255 visible ASCII characters), if the request has one. */
export function idempotencyKeyOf(req: Request): string | undefined {
  const key = req.get('idempotency-key');
  if (key === undefined) return undefined;
  if (KEY.test(key)) return key;
  throw new HttpProblem(
    'invalid-header',
    'Idempotency-Key must be 1 to 255 visible ASCII characters.',
  );
}

const hex = (text: string) => hash('sha256', text, 'hex');

/** JSON with object keys sorted, so `{a,b}` and `{b,a}` are the same request. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export interface Claim {
  /** BullMQ job id (or, for a batch, the stem of the ids): the same for the same key. */
  jobId: string;
  /** The key was seen before with this request; `added` when its jobs are known to be in Redis. */
  seen: 'no' | 'pending' | 'added';
  /** Mark the jobs as added; from then on a replay never adds again. */
  confirm(): Promise<void>;
  /** Forget a claim whose request failed, so the key can be used again. */
  release(): Promise<void>;
}

/**
 * Claim an Idempotency-Key for a request, atomically: one `SET NX GET` writes the request's
 * fingerprint (SHA-256 of type and canonical body) unless the key is known, and returns what
 * was there. The job id is derived from the caller and the key, and BullMQ adds a job id only
 * once, so concurrent identical requests end in one job. A known key with another body is a 422.
 */
export async function claimKey(
  redis: Redis,
  options: { prefix: string; caller: string; key: string; type: string; body: unknown },
): Promise<Claim> {
  const id = hex(`${options.caller}\n${options.key}`);
  const recordKey = `${options.prefix}:idempotency:${id}`;
  const fingerprint = hex(canonical({ type: options.type, body: options.body }));
  const previous = await redis.set(
    recordKey,
    `pending:${fingerprint}`,
    'EX',
    IDEMPOTENCY_TTL_S,
    'NX',
    'GET',
  );
  const [state, known] = previous?.split(':') ?? [];
  if (previous && known !== fingerprint) {
    throw new HttpProblem(
      'idempotency-mismatch',
      'This Idempotency-Key was used with a different request; use a new key for a new request.',
    );
  }
  return {
    jobId: `idem-${id}`,
    seen: !previous ? 'no' : state === 'added' ? 'added' : 'pending',
    async confirm() {
      await redis.set(recordKey, `added:${fingerprint}`, 'EX', IDEMPOTENCY_TTL_S);
    },
    async release() {
      if (!previous) await redis.del(recordKey).catch(() => 0);
    },
  };
}
