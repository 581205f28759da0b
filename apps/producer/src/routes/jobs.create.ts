import type { RequestHandler } from 'express';
import type { Deps } from '../deps.ts';
import { parseEnqueue } from '../enqueue-request.ts';
import { jobTypeOf, requireJson } from '../job-type.ts';
import { withRedis } from '../redis-errors.ts';

/** POST /v1/jobs/{type}: validate against the contract, add, answer 202 with the job's place. */
export const createJob =
  ({ queues, redis, metrics }: Deps): RequestHandler =>
  async (req, res) => {
    const type = jobTypeOf(req.params.type);
    requireJson(req);
    const { data, opts, state } = parseEnqueue(type, req.body);
    const job = await withRedis(redis, () => queues[type].add(type, data, opts));
    metrics.enqueued.inc({ type });
    res.status(202).location(`/v1/jobs/${type}/${job.id}`).json({ id: job.id, type, state });
  };
