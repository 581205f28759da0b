import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { type JobType, jobs, jobTypes } from './catalog.ts';
import { timeZone } from './time-zone.ts';

/*
 * Schedules: recurring jobs (BullMQ job schedulers). One schema checks the schedules file
 * and the API's `PUT /v1/schedules/{id}`, so both refuse the same things.
 */

const HOUR_MS = 3_600_000;
const YEAR_MS = 365 * 24 * HOUR_MS;

export const scheduleId = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,100}$/, '1 to 100 letters, digits, "_", "." or "-"')
  .refine((id) => id !== '.' && id !== '..', 'not "." or ".."');

/** Whether `expression` is a cron of 5 fields (minute first) or 6 (second first) that parses. */
export function isCron(expression: string): boolean {
  const fields = expression.trim().split(/\s+/);
  if (fields.length < 5 || fields.length > 6) return false;
  try {
    CronExpressionParser.parse(expression, { strict: false });
    return true;
  } catch {
    return false;
  }
}

/** The time between a cron's next two fires (0 when it cannot tell): what jitter must stay under. */
function cronInterval(expression: string, tz = 'UTC'): number {
  try {
    const fires = CronExpressionParser.parse(expression, { tz });
    const first = fires.next().getTime();
    return fires.next().getTime() - first;
  } catch {
    return 0;
  }
}

const cron = z
  .string()
  .max(200)
  .refine(isCron, 'expected a cron expression of 5 or 6 fields, e.g. "0 7 * * *"');

/**
 * The types a schedule may fire: not those that call out for an API key (`http`, and the
 * deliveries only Errand makes), whose targets and signatures belong to the key that enqueues
 * them; a schedule's jobs have no key.
 */
export const schedulableTypes = jobTypes.filter(
  (type) => jobs[type].enqueueScope !== 'none' && type !== 'http',
);

/** The job each fire adds: a job type of the contract and a payload that type accepts. */
export const scheduleJob = z.strictObject({
  type: z.enum(schedulableTypes as [JobType, ...JobType[]]),
  data: z.unknown().default({}),
  attempts: z.int().min(1).max(100).optional(),
  priority: z.int().min(1).max(2_097_152).optional(),
});

const fields = {
  cron: cron.optional().meta({ description: 'Cron of 5 or 6 fields; not with `every`' }),
  every: z
    .int()
    .min(1_000)
    .max(YEAR_MS)
    .optional()
    .meta({ description: 'Interval in ms (at least 1,000); not with `cron`' }),
  tz: timeZone.optional().meta({ description: 'IANA time zone of the cron; UTC by default' }),
  startAt: z.iso.datetime({ offset: true }).optional(),
  endAt: z.iso.datetime({ offset: true }).optional(),
  limit: z.int().min(1).max(1_000_000).optional().meta({ description: 'Fire at most this often' }),
  overlap: z
    .enum(['allow', 'skip'])
    .default('allow')
    .meta({ description: '`skip`: a fire while the previous run is active is recorded, not run' }),
  catchUp: z.enum(['latest', 'none']).default('latest').meta({
    description:
      '`latest`: after downtime, run once; `none`: a fire overdue by more than one interval is recorded as missed',
  }),
  jitter: z
    .int()
    .min(0)
    .max(HOUR_MS)
    .optional()
    .meta({ description: 'Delay each fire by up to this many ms' }),
  job: scheduleJob,
};

type Fields = z.output<z.ZodObject<typeof fields>>;

/** Cross-field rules: cron xor every, sane dates, and a payload its job type accepts. */
function check(schedule: Fields, ctx: z.RefinementCtx) {
  if ((schedule.cron === undefined) === (schedule.every === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['cron'], message: 'give exactly one of cron and every' });
  }
  if (schedule.tz !== undefined && schedule.every !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['tz'], message: 'tz applies to cron schedules only' });
  }
  if (
    schedule.startAt &&
    schedule.endAt &&
    Date.parse(schedule.endAt) <= Date.parse(schedule.startAt)
  ) {
    ctx.addIssue({ code: 'custom', path: ['endAt'], message: 'endAt must be after startAt' });
  }
  const interval = schedule.every ?? (schedule.cron ? cronInterval(schedule.cron, schedule.tz) : 0);
  if (schedule.jitter && interval && schedule.jitter >= interval) {
    ctx.addIssue({
      code: 'custom',
      path: ['jitter'],
      message: `jitter must be shorter than the interval between fires (${interval} ms)`,
    });
  }
  const payload = jobs[schedule.job.type].schema.safeParse(schedule.job.data);
  if (!payload.success) {
    for (const issue of payload.error.issues) {
      ctx.addIssue({
        code: 'custom',
        path: ['job', 'data', ...issue.path],
        message: issue.message,
      });
    }
  }
}

/** The job data as its type's schema outputs it (defaults filled in): what each fire gets. */
const withParsedData = <S extends Fields>(schedule: S): S => ({
  ...schedule,
  job: { ...schedule.job, data: jobs[schedule.job.type].schema.parse(schedule.job.data) },
});

/** The body of `PUT /v1/schedules/{id}`. */
export const scheduleBody = z
  .strictObject(fields)
  .superRefine(check)
  .transform(withParsedData)
  .meta({ id: 'ScheduleBody' });
export type ScheduleBody = z.output<typeof scheduleBody>;
export type ScheduleInput = z.input<typeof scheduleBody>;

/** One entry of the schedules file: the same, with its id. */
export const scheduleEntry = z
  .strictObject({ id: scheduleId, ...fields })
  .superRefine(check)
  .transform(withParsedData);
export type ScheduleEntry = z.output<typeof scheduleEntry>;

/** The schedules file (`config/schedules.yaml`). */
export const scheduleFile = z.strictObject({
  schedules: z.array(scheduleEntry).max(10_000).default([]),
});

/** What happened to one fire. */
export const scheduleRunStates = ['completed', 'failed', 'skipped', 'missed'] as const;
export const scheduleRun = z
  .object({
    jobId: z.string(),
    firedAt: z.string().meta({ description: 'When the fire was due (ISO time)' }),
    state: z.enum(scheduleRunStates),
    durationMs: z.number().nullable(),
    reason: z.string().nullable().meta({ description: 'Why it failed, was skipped or missed' }),
  })
  .meta({ id: 'ScheduleRun' });
export type ScheduleRun = z.output<typeof scheduleRun>;

/** What the API shows of a schedule. */
export const scheduleView = z
  .object({
    id: z.string(),
    ...fields,
    source: z.enum(['file', 'api']),
    paused: z.boolean(),
    nextRunAt: z.string().nullable(),
    nextRuns: z.array(z.string()).meta({ description: 'The next (up to) 5 fire times' }),
    lastRun: scheduleRun.nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Schedule' });
export type ScheduleView = z.output<typeof scheduleView>;

/** The last runs kept per schedule, and shown by GET /v1/schedules/{id}. */
export const SCHEDULE_HISTORY_LENGTH = 20;

export const scheduleDetail = scheduleView
  .extend({
    history: z
      .array(scheduleRun)
      .meta({ description: `The last ${SCHEDULE_HISTORY_LENGTH} runs, newest first` }),
  })
  .meta({ id: 'ScheduleDetail' });
export type ScheduleDetail = z.output<typeof scheduleDetail>;
