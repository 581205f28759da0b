import { batchEnvelope } from '@errand/contract';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import { callerOf, checkScope } from '../auth.ts';
import type { Deps } from '../deps.ts';
import { enqueue } from '../enqueue.ts';
import { parseEnqueue } from '../enqueue-request.ts';
import { idempotencyKeyOf } from '../idempotency.ts';
import { enqueueScopeOf, jobTypeOf, requireJson } from '../job-type.ts';
import { parseOr400 } from '../validation.ts';

const batchBody = batchEnvelope(z.unknown());

/**
 * POST /v1/jobs/{type}/batch: all or none. Every item is checked before anything is added,
 * and they are added in one transaction (`atomicBulkBackend`), so Redis takes all or none.
 */
export const createBatch =
  (deps: Deps): RequestHandler =>
  async (req, res) => {
    const type = jobTypeOf(req.params.type);
    // Internal types (the built-in schedules' jobs) need `admin`, not only `enqueue`.
    checkScope(res, enqueueScopeOf(type));
    requireJson(req);
    const idempotencyKey = idempotencyKeyOf(req);
    const body = parseOr400(batchBody, req.body);
    const items = body.jobs.map((item, index) => parseEnqueue(type, item, `jobs.${index}`));
    const { jobs, replayed } = await enqueue(deps, {
      type,
      caller: callerOf(res).name,
      idempotencyKey,
      body: req.body,
      items,
      batch: true,
    });
    if (replayed) res.set('Idempotent-Replayed', 'true');
    res.status(replayed ? 200 : 202).json({ type, jobs: jobs.map((job) => ({ ...job, type })) });
  };
