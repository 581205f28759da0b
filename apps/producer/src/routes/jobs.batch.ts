import type { RequestHandler } from 'express';
import { callerOf } from '../auth.ts';
import type { Deps } from '../deps.ts';
import { enqueue } from '../enqueue.ts';
import {
  batchAnswer,
  checkOutbound,
  enqueuedStatus,
  enqueueTarget,
  parseBatch,
} from '../enqueue-request.ts';

/**
 * POST /v1/jobs/{type}/batch: all or none. Every item is checked before anything is added,
 * and they are added in one transaction (`atomicBulkBackend`), so Redis takes all or none.
 */
export const createBatch =
  (deps: Deps): RequestHandler =>
  async (req, res) => {
    const target = enqueueTarget(req, res);
    const { type } = target;
    const items = parseBatch(type, req.body);
    await checkOutbound(deps, callerOf(res), items);
    const { jobs, replayed } = await enqueue(deps, { ...target, items, batch: true });
    enqueuedStatus(res, replayed).json(batchAnswer(type, jobs));
  };
