import { enqueueEnvelope, type JobType, jobs } from '@errand/contract';
import type { JobsOptions } from 'bullmq';
import { z } from 'zod';
import { parseOr400 } from './validation.ts';

/** The envelope with the payload left open: the payload is checked against its type next. */
const envelope = enqueueEnvelope(z.unknown());

export interface EnqueueRequest {
  data: unknown;
  opts: JobsOptions;
  /** The state the job starts in. */
  state: 'waiting' | 'delayed' | 'prioritized';
}

/** Check one request body against the envelope and the job type's contract. */
export function parseEnqueue(type: JobType, body: unknown, at = ''): EnqueueRequest {
  const parsed = parseOr400(envelope, body, at);
  const data = parseOr400(jobs[type].schema, parsed.data, at ? `${at}.data` : 'data');
  const delay = parsed.runAt ? Math.max(0, Date.parse(parsed.runAt) - Date.now()) : parsed.delay;
  const opts: JobsOptions = {
    ...(delay ? { delay } : {}),
    ...(parsed.priority ? { priority: parsed.priority } : {}),
    ...(parsed.attempts ? { attempts: parsed.attempts } : {}),
  };
  const state = delay ? 'delayed' : parsed.priority ? 'prioritized' : 'waiting';
  return { data, opts, state };
}
