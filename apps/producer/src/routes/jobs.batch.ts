import { HttpProblem } from '@errand/http';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import { parseEnqueue } from '../enqueue-request.ts';
import { jobTypeOf, requireJson } from '../job-type.ts';
import { checkDepth, withRedis } from '../redis-errors.ts';
import { parseOr400 } from '../validation.ts';

export const MAX_BATCH = 1_000;

const batchBody = z.strictObject({ jobs: z.array(z.unknown()).min(1).max(MAX_BATCH) });

/**
 * POST /v1/jobs/{type}/batch: all or none. Every item is checked before anything is added,
 * and BullMQ's addBulk adds them in one MULTI, so Redis takes all of them or none.
 */
export const createBatch =
  (deps: Deps): RequestHandler =>
  async (req, res) => {
    const { queues, redis, metrics } = deps;
    const type = jobTypeOf(req.params.type);
    requireJson(req);
    const body = parseOr400(batchBody, req.body);
    const items = body.jobs.map((item, index) => parseEnqueue(type, item, `jobs.${index}`));
    await checkDepth(deps, type, items.length);
    const added = await withRedis(redis, () =>
      queues[type].addBulk(items.map(({ data, opts }) => ({ name: type, data, opts }))),
    );
    if (added.length !== items.length) {
      throw new HttpProblem('internal', 'Redis took a different number of jobs than sent.');
    }
    metrics.enqueued.inc({ type }, added.length);
    res.status(202).json({
      type,
      jobs: added.map((job, index) => ({ id: job.id, type, state: items[index]?.state })),
    });
  };
