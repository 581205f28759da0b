import type { RequestHandler } from 'express';
import { callerOf } from '../auth.ts';
import type { Deps } from '../deps.ts';
import { enqueue } from '../enqueue.ts';
import { checkOutbound, enqueuedStatus, enqueueTarget, parseEnqueue } from '../enqueue-request.ts';

/**
 * POST /v1/jobs/{type}: validate against the contract, add, answer 202 with the job's place;
 * a replay of an Idempotency-Key answers 200 with the job the first request made.
 */
export const createJob =
  (deps: Deps): RequestHandler =>
  async (req, res) => {
    const target = enqueueTarget(req, res);
    const { type } = target;
    const item = parseEnqueue(type, req.body);
    await checkOutbound(deps, callerOf(res), [item]);
    const { jobs, replayed } = await enqueue(deps, { ...target, items: [item], batch: false });
    const [job] = jobs;
    enqueuedStatus(res, replayed)
      .location(`/v1/jobs/${type}/${job?.id}`)
      .json({ id: job?.id, type, state: job?.state });
  };
