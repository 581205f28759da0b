import { type JobType, jobs } from '@errand/contract';
import type { JobsOptions } from 'bullmq';
import { z } from 'zod';
import { parseOr400 } from './validation.ts';

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

export interface EnqueueRequest {
  data: unknown;
  opts: JobsOptions;
  /** The state the job starts in. */
  state: 'waiting' | 'delayed' | 'prioritized';
}

/** Check one request body against the envelope and the job type's contract. */
export function parseEnqueue(type: JobType, body: unknown, at = ''): EnqueueRequest {
  const envelope = parseOr400(enqueueBody, body, at);
  const data = parseOr400(jobs[type].schema, envelope.data, at ? `${at}.data` : 'data');
  const delay = envelope.runAt
    ? Math.max(0, Date.parse(envelope.runAt) - Date.now())
    : envelope.delay;
  const opts: JobsOptions = {
    ...(delay ? { delay } : {}),
    ...(envelope.priority ? { priority: envelope.priority } : {}),
    ...(envelope.attempts ? { attempts: envelope.attempts } : {}),
  };
  const state = delay ? 'delayed' : envelope.priority ? 'prioritized' : 'waiting';
  return { data, opts, state };
}
