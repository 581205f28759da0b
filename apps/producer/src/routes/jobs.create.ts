import type { RequestHandler } from 'express';
import type { Deps } from '../deps.ts';
import { parseEnqueue } from '../enqueue-request.ts';
import { idempotencyOf, recordOrReplay, replay } from '../idempotency.ts';
import { jobTypeOf, requireJson } from '../job-type.ts';
import { checkDepth, withRedis } from '../redis-errors.ts';

/**
 * POST /v1/jobs/{type}: validate against the contract, add, answer 202 with the job's place.
 * With an Idempotency-Key, a repeat of the same request answers 200 with the same job.
 */
export const createJob =
  (deps: Deps): RequestHandler =>
  async (req, res) => {
    const { queues, redis, metrics, prefix } = deps;
    const type = jobTypeOf(req.params.type);
    requireJson(req);
    const { data, opts, state } = parseEnqueue(type, req.body);
    const idem = idempotencyOf(req, res.locals.producer ?? 'anonymous', prefix);
    type Answer = { id: string; type: string; state: string };
    const send = (status: number, answer: Answer) =>
      res.status(status).location(`/v1/jobs/${type}/${answer.id}`).json(answer);

    const earlier = idem && (await withRedis(redis, () => replay<Answer>(redis, idem)));
    if (earlier) {
      metrics.replays.inc({ type });
      return void send(200, earlier);
    }
    await checkDepth(deps, type);
    const job = await withRedis(redis, () =>
      queues[type].add(type, data, idem ? { ...opts, jobId: idem.jobId } : opts),
    );
    const answer = { id: String(job.id), type, state };
    const raced = idem && (await withRedis(redis, () => recordOrReplay(redis, idem, answer)));
    if (raced) {
      metrics.replays.inc({ type });
      return void send(200, raced);
    }
    metrics.enqueued.inc({ type });
    send(202, answer);
  };
