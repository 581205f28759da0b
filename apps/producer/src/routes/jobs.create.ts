import { jobs } from '@errand/contract';
import { HttpProblem } from '@errand/http';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import { jobTypeOf } from '../job-type.ts';
import { withRedis } from '../redis-errors.ts';
import { parseOr400 } from '../validation.ts';

const YEAR_MS = 365 * 24 * 60 * 60 * 1000;

/** The envelope around a payload: when and how the job runs. */
export const enqueueBody = z
  .strictObject({
    data: z.unknown(),
    delay: z.int().min(0).max(YEAR_MS).optional(),
    runAt: z.iso.datetime({ offset: true }).optional(),
    priority: z.int().min(1).max(2_097_152).optional(),
    attempts: z.int().min(1).max(100).optional(),
  })
  .refine((body) => body.delay === undefined || body.runAt === undefined, {
    message: 'give delay or runAt, not both',
    path: ['runAt'],
  });

/** POST /v1/jobs/{type}: validate against the contract, add, answer 202 with the job's place. */
export const createJob =
  ({ queues, redis, metrics }: Deps): RequestHandler =>
  async (req, res) => {
    const type = jobTypeOf(req.params.type);
    if (!req.is('application/json')) {
      throw new HttpProblem(
        'unsupported-media-type',
        'Send the job as Content-Type: application/json.',
      );
    }
    const body = parseOr400(enqueueBody, req.body);
    const data = parseOr400(jobs[type].schema, body.data, 'data');
    const delay = body.runAt ? Math.max(0, Date.parse(body.runAt) - Date.now()) : body.delay;
    const job = await withRedis(redis, () =>
      queues[type].add(type, data, {
        ...(delay ? { delay } : {}),
        ...(body.priority ? { priority: body.priority } : {}),
        ...(body.attempts ? { attempts: body.attempts } : {}),
      }),
    );
    metrics.enqueued.inc({ type });
    const state = delay ? 'delayed' : body.priority ? 'prioritized' : 'waiting';
    res.status(202).location(`/v1/jobs/${type}/${job.id}`).json({ id: job.id, type, state });
  };
