import { jobListQuery } from '@errand/contract';
import { encodeJobCursor, readJobPage } from '@errand/queues';
import type { RequestHandler } from 'express';
import type { Deps } from '../deps.ts';
import { cursorOf, rangeOf } from '../job-filter.ts';
import { jobTypeOf } from '../job-type.ts';
import { jobView } from '../job-view.ts';
import { withRedis } from '../redis-errors.ts';
import { parseParams } from '../validation.ts';

/** GET /v1/jobs/{type}?state=&since=&until=&limit=&cursor=: a page of jobs, newest first. */
export const listJobs =
  ({ queues, redis }: Deps): RequestHandler =>
  async (req, res) => {
    const type = jobTypeOf(req.params.type);
    const query = parseParams(jobListQuery, req.query);
    const cursor = cursorOf(query.cursor, query.state, 'invalid-parameter');
    const { jobs, next } = await withRedis(redis, () =>
      readJobPage(redis, queues[type], {
        state: query.state,
        range: rangeOf(query),
        limit: query.limit,
        cursor,
      }),
    );
    res.json({
      // The state the job was listed in: one read of the set, not one per job.
      jobs: jobs.map((job) => jobView(type, job, query.state)),
      cursor: next && encodeJobCursor(next),
    });
  };
