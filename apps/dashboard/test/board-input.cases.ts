/**
 * The bad calls of `board-input.test.ts`: each is refused with its status and changes nothing.
 */

export type Who = 'nobody' | 'viewer' | 'operator' | 'admin';
/** A call as written: who sends it, method, path, JSON body ('' for none). */
export type Call = [Who, string, string, string];

/** A mail the email type's contract accepts: a hand-made job is refused only for its fault. */
export const MAIL = { to: 'ada@example.com', subject: 'Hi', text: 'Hello' };
export const add = (options: unknown, data: unknown = MAIL) =>
  JSON.stringify({ name: 'by-hand', data, options });
export const ADD = '/api/queues/email/add';

/** A refusal: its status, and the words its message must hold (the field at fault). */
export type Refused = [string, Call, number, string];

/** Calls Bull Board must refuse, with the status and the words (the field at fault) of the answer. */
export const refused: Refused[] = [
  ['add: options that are a string', ['admin', 'POST', ADD, add('x')], 400, 'options'],
  ['add: a number for the name', ['admin', 'POST', ADD, '{"name":5}'], 400, 'name'],
  ['add: a JSON string for the body', ['admin', 'POST', ADD, '"x"'], 400, ''],
  ['add: a JSON null for the body', ['admin', 'POST', ADD, 'null'], 400, ''],
  ['add: a JSON number for the body', ['admin', 'POST', ADD, '42'], 400, ''],
  ['add: an array for the body', ['admin', 'POST', ADD, '[1,2]'], 400, 'body'],
  ['add: half a JSON object', ['admin', 'POST', ADD, '{"name":'], 400, ''],
  ['add: a negative delay', ['admin', 'POST', ADD, add({ delay: -5 })], 400, 'options.delay'],
  ['add: "NaN" for the delay', ['admin', 'POST', ADD, add({ delay: 'NaN' })], 400, 'options.delay'],
  ['add: a delay of 1e308 ms', ['admin', 'POST', ADD, add({ delay: 1e308 })], 400, 'options.delay'],
  [
    'add: a negative priority',
    ['admin', 'POST', ADD, add({ priority: -1 })],
    400,
    'options.priority',
  ],
  [
    'add: a fractional priority',
    ['admin', 'POST', ADD, add({ priority: 1.5 })],
    400,
    'options.priority',
  ],
  [
    'add: a priority past BullMQ’s limit',
    ['admin', 'POST', ADD, add({ priority: 2 ** 22 })],
    400,
    'options.priority',
  ],
  [
    'add: a string priority',
    ['admin', 'POST', ADD, add({ priority: 'high' })],
    400,
    'options.priority',
  ],
  [
    'add: negative attempts',
    ['admin', 'POST', ADD, add({ attempts: -1 })],
    400,
    'options.attempts',
  ],
  ['add: a job id of its own', ['admin', 'POST', ADD, add({ jobId: '123' })], 400, 'jobId'],
  [
    'add: a parent of its own',
    ['admin', 'POST', ADD, add({ parent: { id: '1', queue: 'x' } })],
    400,
    'parent',
  ],
  [
    'add: data without a recipient',
    ['admin', 'POST', ADD, add({}, { subject: 'Hi', text: 'x' })],
    400,
    'data.to',
  ],
  ['add: no data at all', ['admin', 'POST', ADD, '{"name":"x"}'], 400, 'data'],
  [
    'add: an http job by hand (targets and signing are the API’s)',
    [
      'admin',
      'POST',
      '/api/queues/http/add',
      add({}, { url: 'https://api.example.com/x', method: 'GET' }),
    ],
    403,
    'through the API',
  ],
  [
    'add: a webhook delivery by hand',
    ['admin', 'POST', '/api/queues/webhook/add', add({}, {})],
    403,
    'through the API',
  ],
  [
    'edit data: an http job’s',
    [
      'admin',
      'PATCH',
      '/api/queues/http/1/update-data',
      JSON.stringify({ jobData: { url: 'http://169.254.169.254/', method: 'GET' } }),
    ],
    403,
    'through the API',
  ],
  [
    'edit data: a mail without a subject',
    [
      'admin',
      'PATCH',
      '/api/queues/email/seed-waiting/update-data',
      JSON.stringify({ jobData: { to: 'ada@example.com', text: 'x' } }),
    ],
    400,
    'jobData.subject',
  ],
  [
    'retry: an unknown status',
    ['operator', 'PUT', '/api/queues/email/retry/bogus', ''],
    400,
    'status',
  ],
  [
    'retry: a status not retried',
    ['operator', 'PUT', '/api/queues/email/retry/waiting', ''],
    400,
    'status',
  ],
  [
    'retry: a unicode status',
    ['operator', 'PUT', '/api/queues/email/retry/%E2%9C%93', ''],
    400,
    'status',
  ],
  ['retry: an unknown queue', ['operator', 'PUT', '/api/queues/nope/retry/failed', ''], 404, ''],
  ['clean: an unknown queue', ['operator', 'PUT', '/api/queues/nope/clean/failed', ''], 404, ''],
  ...['bogus', '%00', 'events', 'meta', 'active'].map(
    (status): Refused => [
      `clean: "${status}" for the status`,
      ['operator', 'PUT', `/api/queues/email/clean/${status}`, ''],
      400,
      'status',
    ],
  ),
  [
    'clean: a paging number out of bounds',
    ['operator', 'PUT', '/api/queues/email/clean/failed?jobsPerPage=-5', ''],
    400,
    'jobsPerPage',
  ],
  ['promote: an unknown job', ['operator', 'PUT', '/api/queues/email/nope/promote', ''], 404, ''],
  [
    'promote: a job that is waiting, not delayed',
    ['operator', 'PUT', '/api/queues/email/seed-waiting/promote', ''],
    409,
    'not in a state',
  ],
  [
    'promote all: a paging number out of bounds',
    ['operator', 'PUT', '/api/queues/email/promote?page=1e300', ''],
    400,
    'page',
  ],
  [
    'priority: negative',
    ['admin', 'PATCH', '/api/queues/email/seed-prioritized/priority', '{"priority":-1}'],
    400,
    '',
  ],
  [
    'priority: a fraction',
    ['admin', 'PATCH', '/api/queues/email/seed-prioritized/priority', '{"priority":1.5}'],
    400,
    '',
  ],
  [
    'priority: past BullMQ’s limit',
    ['admin', 'PATCH', '/api/queues/email/seed-prioritized/priority', '{"priority":4194304}'],
    400,
    '',
  ],
  [
    'priority: a string',
    ['admin', 'PATCH', '/api/queues/email/seed-prioritized/priority', '{"priority":"3"}'],
    400,
    '',
  ],
  [
    'delay: "NaN" for the time',
    ['admin', 'PATCH', '/api/queues/email/seed-delayed/delay', '{"runAt":"NaN"}'],
    400,
    '',
  ],
  [
    'delay: a time of 1e308',
    ['admin', 'PATCH', '/api/queues/email/seed-delayed/delay', '{"runAt":1e308}'],
    400,
    'runAt',
  ],
  [
    'delay: a job that is not delayed',
    ['admin', 'PATCH', '/api/queues/email/seed-waiting/delay', '{"runAt":1}'],
    400,
    '',
  ],
];

/** Paths whose job or schedule id names no job or schedule: 404. */
export const notFound: Call[] = [
  ['viewer', 'GET', '/api/queues/email/..%2fseed-waiting', ''],
  ['viewer', 'GET', '/api/queues/email/%E2%9C%93', ''],
  ['viewer', 'GET', '/api/queues/email/seed-waiting%00', ''],
  ['operator', 'PUT', '/api/queues/email/%00/retry', ''],
  ['operator', 'PUT', '/api/queues/email/..%2f..%2fpause/clean', ''],
  ['operator', 'PUT', `/api/queues/email/${'x'.repeat(10_000)}/promote`, ''],
  ['operator', 'PUT', '/api/queues/email/job-schedulers/..%2f..%2fseed-every-second/run', ''],
  ['operator', 'PUT', '/api/queues/email/job-schedulers/%00/run', ''],
  ['operator', 'PUT', `/api/queues/email/job-schedulers/${'s'.repeat(5_000)}/run`, ''],
  ['operator', 'PUT', '/api/queues/email/job-schedulers/repeat/run', ''],
  ['admin', 'PUT', '/api/queues/email/job-schedulers/%E2%9C%93/remove', ''],
  ['admin', 'PATCH', '/api/queues/email/job-schedulers/%00', '{"every":1000}'],
  ['admin', 'PATCH', '/api/queues/email/job-schedulers/seed-every-second%00', '{"every":1000}'],
  // The queue's own keys: a job id is part of a Redis key, so these would pass for jobs.
  ['viewer', 'GET', '/api/queues/email/events', ''],
  ['viewer', 'GET', '/api/queues/email/id', ''],
  ['viewer', 'GET', '/api/queues/email/meta', ''],
  ['viewer', 'GET', '/api/queues/email/repeat:seed-every-second', ''],
  ['viewer', 'GET', '/api/queues/email/seed-waiting:logs', ''],
  ['operator', 'PUT', '/api/queues/email/meta/promote', ''],
  ['operator', 'PUT', '/api/queues/email/events/clean', ''],
  ['operator', 'PUT', '/api/queues/email/meta/clean', ''],
  ['operator', 'PUT', '/api/queues/email/repeat/retry', ''],
];
