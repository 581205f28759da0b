import { type JobState, type JobType, META_OPTION, metaOf } from '@errand/contract';
import type { JobsOptions } from 'bullmq';
import type { Request, Response } from 'express';
import type { ApiKey } from './api-keys.ts';
import { callerOf, checkScope } from './auth.ts';
import type { Deps } from './deps.ts';
import { enqueueChecks } from './enqueue-checks.ts';
import { idempotencyKeyOf } from './idempotency.ts';
import { enqueueScopeOf, jobTypeOf, requireJson } from './job-type.ts';
import { checkOutboundAllowed, requireSigningSecret } from './outbound-check.ts';
import { parseOr400 } from './validation.ts';

export interface EnqueueRequest {
  data: unknown;
  opts: JobsOptions;
  /** The state the job starts in. */
  state: 'waiting' | 'delayed' | 'prioritized';
  /** URLs Errand will call for this job (an http job's, a callbackUrl): the key must allow them. */
  outbound: string[];
}

/** Check one request body against the envelope and the job type's contract. */
export function parseEnqueue(type: JobType, body: unknown, at = ''): EnqueueRequest {
  const parsed = parseOr400(enqueueChecks.envelope, body, at);
  const payload = enqueueChecks.payloads[type];
  const data = parseOr400(payload, parsed.data, at ? `${at}.data` : 'data');
  const delay = parsed.runAt ? Math.max(0, Date.parse(parsed.runAt) - Date.now()) : parsed.delay;
  const meta = metaOf(parsed);
  // Only what was given, in this order (BullMQ stores the options as they are): run per item
  // of a batch, a plain job costs one object here, not one per option.
  const opts: JobsOptions = {};
  if (delay) opts.delay = delay;
  if (parsed.priority) opts.priority = parsed.priority;
  if (parsed.attempts) opts.attempts = parsed.attempts;
  if (meta) Object.assign(opts, { [META_OPTION]: meta });
  const state = delay ? 'delayed' : parsed.priority ? 'prioritized' : 'waiting';
  const outbound: string[] = [];
  if (type === 'http') outbound.push((data as { url: string }).url);
  if (meta?.callbackUrl) outbound.push(meta.callbackUrl);
  return { data, opts, state, outbound };
}

/** Check a batch body: 1 to 1,000 items, each an enqueue body; the first bad item answers. */
export function parseBatch(type: JobType, body: unknown): EnqueueRequest[] {
  const batch = parseOr400(enqueueChecks.batch, body);
  return batch.jobs.map((item, index) => parseEnqueue(type, item, `jobs.${index}`));
}

/** What a batch answers: each job with its type. */
export const batchAnswer = (type: JobType, added: { id: string; state: JobState }[]) => ({
  type,
  jobs: added.map((job) => ({ ...job, type })),
});

/**
 * What both enqueue routes check before the body, in this order: the `{type}` (404), the
 * key's scope for it (403; internal types, the built-in schedules' jobs, need `admin`, not
 * only `enqueue`), a JSON body (415), the Idempotency-Key (400). Then who is asking, and the
 * body as sent (what the idempotency fingerprint is taken of).
 */
export function enqueueTarget(req: Request, res: Response) {
  const type = jobTypeOf(req.params.type);
  checkScope(res, enqueueScopeOf(type));
  requireJson(req);
  const idempotencyKey = idempotencyKeyOf(req);
  return { type, caller: callerOf(res).name, idempotencyKey, body: req.body as unknown };
}

/** The answer's status: 202 for new jobs; 200 with `Idempotent-Replayed` for a replay. */
export function enqueuedStatus(res: Response, replayed: boolean): Response {
  if (replayed) res.set('Idempotent-Replayed', 'true');
  return res.status(replayed ? 200 : 202);
}

/**
 * Jobs that make Errand call out (http jobs, callbacks) only to the key's allowed targets, and
 * only once the key has a signing secret; jobs that call nothing cost nothing here.
 */
export async function checkOutbound(deps: Deps, caller: ApiKey, items: EnqueueRequest[]) {
  const urls: string[] = [];
  for (const item of items) if (item.outbound.length > 0) urls.push(...item.outbound);
  if (urls.length === 0) return;
  await checkOutboundAllowed(deps, caller, urls);
  await requireSigningSecret(deps, caller);
}
