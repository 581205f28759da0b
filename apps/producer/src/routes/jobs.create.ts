import type { RequestHandler } from 'express';
import { callerOf, checkScope } from '../auth.ts';
import type { Deps } from '../deps.ts';
import { enqueue } from '../enqueue.ts';
import { parseEnqueue } from '../enqueue-request.ts';
import { idempotencyKeyOf } from '../idempotency.ts';
import { enqueueScopeOf, jobTypeOf, requireJson } from '../job-type.ts';

/**
 * POST /v1/jobs/{type}: validate against the contract, add, answer 202 with the job's place;
 * a replay of an Idempotency-Key answers 200 with the job the first request made.
 */
export const createJob =
  (deps: Deps): RequestHandler =>
  async (req, res) => {
    const type = jobTypeOf(req.params.type);
    // Internal types (the built-in schedules' jobs) need `admin`, not only `enqueue`.
    checkScope(res, enqueueScopeOf(type));
    requireJson(req);
    const idempotencyKey = idempotencyKeyOf(req);
    const item = parseEnqueue(type, req.body);
    const { jobs, replayed } = await enqueue(deps, {
      type,
      caller: callerOf(res).name,
      idempotencyKey,
      body: req.body,
      items: [item],
      batch: false,
    });
    const [job] = jobs;
    if (replayed) res.set('Idempotent-Replayed', 'true');
    res
      .status(replayed ? 200 : 202)
      .location(`/v1/jobs/${type}/${job?.id}`)
      .json({ id: job?.id, type, state: job?.state });
  };
