import type { JobType } from '@errand/contract';
import type { Response } from 'express';
import { callerOf } from './auth.ts';
import type { Deps } from './deps.ts';

/** One bulk action taken through the API, as the audit stream keeps it. */
export interface ApiAuditEntry {
  at: string;
  /** The name of the API key that asked. */
  key: string;
  action: 'retry-jobs' | 'discard-jobs';
  type: JobType;
  /** The filter as the caller gave it (after defaults), cursor included. */
  filter: Record<string, unknown>;
  /** What was done; absent when it failed before an answer. */
  counts?: Record<string, number>;
  /** `failed`: Redis refused or timed out; some jobs may have been acted on. */
  outcome: 'ok' | 'failed';
  error?: string;
}

/** How many entries the stream keeps (about: trimmed with `MAXLEN ~`), as the dashboard's. */
export const API_AUDIT_CAPACITY = 10_000;
export const apiAuditKey = (prefix: string) => `${prefix}:api:audit`;

type AuditDeps = Pick<Deps, 'redis' | 'prefix' | 'logger'>;

/**
 * Run a bulk action and record it: one log line and one entry (field `entry`, JSON) in the
 * capped stream `<prefix>:api:audit`, whether it succeeded or failed. Writing the record
 * never fails the request: an entry Redis refuses is still in the log, with the reason.
 */
export async function audited<T extends object>(
  deps: AuditDeps,
  res: Response,
  what: Pick<ApiAuditEntry, 'action' | 'type' | 'filter'>,
  run: () => Promise<T>,
): Promise<T> {
  const entry = { key: callerOf(res).name, ...what };
  try {
    const result = await run();
    const counts = Object.fromEntries(
      Object.entries(result).filter(([, value]) => typeof value === 'number'),
    );
    await record(deps, { ...entry, counts, outcome: 'ok' });
    return result;
  } catch (error) {
    await record(deps, { ...entry, outcome: 'failed', error: (error as Error).message });
    throw error;
  }
}

async function record({ redis, prefix, logger }: AuditDeps, entry: Omit<ApiAuditEntry, 'at'>) {
  const full: ApiAuditEntry = { at: new Date().toISOString(), ...entry };
  logger.info(
    { audit: full },
    `audit: ${full.action} ${full.type} by ${full.key}: ${full.outcome}`,
  );
  await redis
    .xadd(
      apiAuditKey(prefix),
      'MAXLEN',
      '~',
      API_AUDIT_CAPACITY,
      '*',
      'entry',
      JSON.stringify(full),
    )
    .catch((error: Error) =>
      logger.error({ err: error, audit: full }, 'audit: the entry did not reach Redis'),
    );
}
