import { hash } from 'node:crypto';
import { canonicalJson } from '@errand/contract';
import { HttpProblem } from '@errand/http';
import type { Alongside } from '@errand/queues';
import type { RedisClient } from '@errand/redis';
import type { Request } from 'express';
import type { Result } from 'ioredis';

/** How long a key is remembered (two days), also after its job finished or was removed. */
export const IDEMPOTENCY_TTL_S = 48 * 60 * 60;
/**
 * How long a request that has claimed a key but not (yet) added its jobs holds it against a
 * request with another body (409 meanwhile); after that the first is taken to have failed.
 * Longer than a request can take: a few Redis commands of at most REDIS_COMMAND_TIMEOUT_MS.
 */
export const IDEMPOTENCY_LEASE_MS = 10_000;

const KEY = /^[\x21-\x7e]{1,255}$/;

/** Whether a header value is a valid Idempotency-Key (1 to 255 visible ASCII characters). */
export const isIdempotencyKey = (value: string) => KEY.test(value);

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

/** What an Idempotency-Key's record keeps of a request: the same for the same type and body. */
export const fingerprintOf = (type: string, body: unknown) => hex(canonicalJson({ type, body }));

export interface Claim {
  /** BullMQ job id (or, for a batch, the stem of the ids): the same for the same key. */
  jobId: string;
  /**
   * `new`: no request with this key added jobs yet, add them (with `alongside`);
   * `added`: an earlier request with this body added them: answer with those (a replay).
   */
  outcome: 'new' | 'added';
  /**
   * The commands that go into the MULTI of the add: `EXISTS` of the first job before it (so
   * a request that finds its job there already answers as a replay) and the record "added"
   * after it, so the record says "added" exactly when the jobs are in Redis.
   */
  alongside(firstJobKey: string): Alongside;
  /** Let go of the key after a failed request, so another body may use it at once. */
  release(): Promise<void>;
}

/**
 * The key's record: `pending:<fingerprint>:<ms>` while a request holds it, `added:<fingerprint>`
 * once its jobs are in Redis (written in the same MULTI as the jobs). One script decides:
 * - no record, or a `pending` one of another body older than the lease (its request failed):
 *   take it → `new`;
 * - `added` with this body → `added`; with another body → `mismatch` (422);
 * - `pending` with this body → `new` (a retry, or the same request twice at once: BullMQ adds a
 *   job id once, and the EXISTS in the add's MULTI tells which one answers as the replay);
 * - `pending` with another body within the lease → `busy` (409).
 */
const CLAIM = `
local record = redis.call('GET', KEYS[1])
local mine = 'pending:' .. ARGV[1] .. ':' .. ARGV[2]
if record then
  local state, fingerprint, at = string.match(record, '^(%a+):(%x+):?(%d*)$')
  if state == 'added' then
    if fingerprint == ARGV[1] then return 'added' end
    return 'mismatch'
  end
  if fingerprint == ARGV[1] then return 'new' end
  if tonumber(ARGV[2]) - (tonumber(at) or 0) < tonumber(ARGV[4]) then return 'busy' end
end
redis.call('SET', KEYS[1], mine, 'EX', ARGV[3])
return 'new'`;

/** Delete the record only if it is still the pending one this request wrote. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** CLAIM, on the clients `claimKey` was given. */
    errandClaimKey(
      record: string,
      fingerprint: string,
      now: number,
      ttl: number,
      lease: number,
    ): Result<string, Context>;
    /** RELEASE, likewise. */
    errandReleaseKey(record: string, value: string): Result<number, Context>;
  }
}

function commandsOf(redis: RedisClient): RedisClient {
  if (!Object.hasOwn(redis, 'errandClaimKey')) {
    redis.defineCommand('errandClaimKey', { numberOfKeys: 1, lua: CLAIM });
    redis.defineCommand('errandReleaseKey', { numberOfKeys: 1, lua: RELEASE });
  }
  return redis;
}

/**
 * Claim an Idempotency-Key for a request, in one script call (see CLAIM). The job id is
 * derived from the caller and the key, so every request with the key names the same job.
 * A key known with another body is a 422; one held by another body's request in flight, a 409.
 * The record is kept per queue (`prefix` is the queue's, `queuePrefix`): it is written in the
 * same MULTI as the jobs, which on a Cluster must be one slot. So a key reused on another
 * job type is another request, not a mismatch.
 */
export async function claimKey(
  redis: RedisClient,
  options: { prefix: string; caller: string; key: string; type: string; body: unknown },
): Promise<Claim> {
  const id = hex(`${options.caller}\n${options.key}`);
  const recordKey = `${options.prefix}:idempotency:${id}`;
  const fingerprint = fingerprintOf(options.type, options.body);
  const now = Date.now();
  const commands = commandsOf(redis);
  const outcome = await commands.errandClaimKey(
    recordKey,
    fingerprint,
    now,
    IDEMPOTENCY_TTL_S,
    IDEMPOTENCY_LEASE_MS,
  );
  if (outcome === 'mismatch') {
    throw new HttpProblem(
      'idempotency-mismatch',
      'This Idempotency-Key was used with a different request; use a new key for a new request.',
    );
  }
  if (outcome === 'busy') {
    throw new HttpProblem(
      'idempotency-in-progress',
      'A request with another body holds this Idempotency-Key right now; nothing was added. ' +
        'Retry once it has finished, or use a new key for a new request.',
      { headers: { 'Retry-After': String(Math.ceil(IDEMPOTENCY_LEASE_MS / 1000)) } },
    );
  }
  return {
    jobId: `idem-${id}`,
    outcome: outcome === 'added' ? 'added' : 'new',
    alongside: (firstJobKey) => ({
      before: [['exists', firstJobKey]],
      after: [['set', recordKey, `added:${fingerprint}`, 'EX', IDEMPOTENCY_TTL_S]],
    }),
    async release() {
      await commands.errandReleaseKey(recordKey, `pending:${fingerprint}:${now}`).catch(() => 0);
    },
  };
}
