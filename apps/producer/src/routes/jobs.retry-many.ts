import { retryJobsFilter } from '@errand/contract';
import { encodeJobCursor, retryFailedJobs } from '@errand/queues';
import type { RequestHandler } from 'express';
import { audited } from '../audit.ts';
import type { Deps } from '../deps.ts';
import { cursorOf, rangeOf } from '../job-filter.ts';
import { jobTypeOf, requireJson } from '../job-type.ts';
import { withRedis } from '../redis-errors.ts';
import { parseOr400 } from '../validation.ts';

/**
 * POST /v1/jobs/{type}/retry: run again at most `limit` failed jobs of the filter, each with a
 * fresh set of attempts; audited. Calling it again retries none of them twice.
 */
export const retryJobs =
  (deps: Deps): RequestHandler =>
  async (req, res) => {
    const { queues, redis } = deps;
    const type = jobTypeOf(req.params.type);
    requireJson(req);
    const filter = parseOr400(retryJobsFilter, req.body);
    const cursor = cursorOf(filter.cursor, 'failed', 'invalid-body');
    const answer = await audited(deps, res, { action: 'retry-jobs', type, filter }, async () => {
      const { matched, acted, skipped, next } = await withRedis(redis, () =>
        retryFailedJobs(redis, queues[type], {
          range: rangeOf(filter),
          reasonPrefix: filter.reasonPrefix,
          limit: filter.limit,
          cursor,
        }),
      );
      return { matched, retried: acted, skipped, cursor: next && encodeJobCursor(next) };
    });
    res.json(answer);
  };
