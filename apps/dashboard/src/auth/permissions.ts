import type { Role } from './roles.ts';

interface Permission {
  /** The least role that may call the route. */
  role: Role;
  /** What the audit log calls it; only routes that change something have one. */
  action?: string;
}

const read: Permission = { role: 'viewer' };
const operator = (action: string): Permission => ({ role: 'operator', action });
const admin = (action: string): Permission => ({ role: 'admin', action });

/**
 * Every route of Bull Board's API → the least role that may call it, keyed as
 * `<method> <route>` exactly as Bull Board declares it. A route missing here is refused to
 * everyone (and logged): `permissions.test.ts` walks every route Bull Board registers, so
 * a route a Bull Board upgrade adds fails the tests until it has a line here.
 *
 * viewer reads; operator retries, promotes, cleans, pauses, resumes and runs a schedule
 * now; admin empties, obliterates, edits jobs and queue settings, and adds or removes
 * jobs and schedulers by hand (schedules are better changed through the API or the file,
 * which keep their records: see docs/schedules.md).
 */
export const permissions: Record<string, Permission> = {
  'get /api/redis/stats': read,
  'get /api/queues': read,
  'get /api/job-schedulers': read,
  'get /api/metrics/latency': read,
  'get /api/metrics/history': read,
  'get /api/metrics/history/usage': read,
  'get /api/queues/:queueName/metrics': read,
  'get /api/queues/:queueName/default-job-options': read,
  'get /api/queues/:queueName/workers': read,
  'get /api/queues/:queueName/rate-limit': read,
  'get /api/queues/:queueName/job-data-schema': read,
  'get /api/queues/:queueName/:jobId/logs': read,
  'get /api/queues/:queueName/:jobId/flow': read,
  'get /api/queues/:queueName/:jobId': read,

  'put /api/queues/pause': operator('pause-all-queues'),
  'put /api/queues/resume': operator('resume-all-queues'),
  'put /api/queues/:queueName/pause': operator('pause-queue'),
  'put /api/queues/:queueName/resume': operator('resume-queue'),
  'put /api/queues/:queueName/retry/:queueStatus': operator('retry-all-jobs'),
  'put /api/queues/:queueName/promote': operator('promote-all-jobs'),
  'put /api/queues/:queueName/clean/:queueStatus': operator('clean-jobs'),
  'put /api/queues/:queueName/rate-limit/release': operator('release-rate-limit'),
  'put /api/queues/:queueName/job-schedulers/:schedulerId/run': operator('run-schedule'),
  'put /api/queues/:queueName/:jobId/retry': operator('retry-job'),
  'put /api/queues/:queueName/:jobId/clean': operator('remove-job'),
  'put /api/queues/:queueName/:jobId/promote': operator('promote-job'),

  'post /api/queues/:queueName/add': admin('add-job'),
  'put /api/queues/:queueName/empty': admin('empty-queue'),
  'put /api/queues/:queueName/obliterate': admin('obliterate-queue'),
  'put /api/queues/:queueName/concurrency': admin('set-concurrency'),
  'put /api/queues/:queueName/rate-limit': admin('set-rate-limit'),
  'put /api/queues/:queueName/job-schedulers/:schedulerId/remove': admin('remove-scheduler'),
  'patch /api/queues/:queueName/job-schedulers/:schedulerId': admin('edit-scheduler'),
  'patch /api/queues/:queueName/:jobId/update-data': admin('edit-job-data'),
  'patch /api/queues/:queueName/:jobId/delay': admin('edit-job-delay'),
  'patch /api/queues/:queueName/:jobId/priority': admin('edit-job-priority'),
  'put /api/queues/:queueName/:jobId/remove-unprocessed-children': admin('remove-children'),
  'post /api/metrics/history/purge': admin('purge-metrics-history'),
};

export const permissionOf = (method: string, route: string): Permission | undefined =>
  permissions[`${method.toLowerCase()} ${route}`];
