import { batchEnvelope } from '@errand/contract';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import { callerOf } from '../auth.ts';
import type { Deps } from '../deps.ts';
import { enqueue } from '../enqueue.ts';
import { checkOutbound, enqueuedStatus, enqueueTarget, parseEnqueue } from '../enqueue-request.ts';
import { parseOr400 } from '../validation.ts';

const batchBody = batchEnvelope(z.unknown());

/**
 * POST /v1/jobs/{type}/batch: all or none. Every item is checked before anything is added,
 * and they are added in one transaction (`atomicBulkBackend`), so Redis takes all or none.
 */
export const createBatch =
  (deps: Deps): RequestHandler =>
  async (req, res) => {
    const target = enqueueTarget(req, res);
    const { type } = target;
    const body = parseOr400(batchBody, req.body);
    const items = body.jobs.map((item, index) => parseEnqueue(type, item, `jobs.${index}`));
    await checkOutbound(deps, callerOf(res), items);
    const { jobs, replayed } = await enqueue(deps, { ...target, items, batch: true });
    enqueuedStatus(res, replayed).json({ type, jobs: jobs.map((job) => ({ ...job, type })) });
  };
