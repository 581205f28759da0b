import type { Logger } from '@errand/observability';
import type { RedisClient } from '@errand/redis';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import { callerOf } from './auth/caller.ts';
import { changesState } from './auth/csrf.ts';
import { allows } from './auth/roles.ts';
import { dashboardProblem } from './problems.ts';

export interface AuditEntry {
  at: string;
  user: string | null;
  role: string | null;
  /** `retry-job`, `pause-queue`, `login`… or `<METHOD> <path>` for a request no route knows. */
  action: string;
  queue?: string;
  jobId?: string;
  status: number;
  /** `aborted`: the client hung up before the answer (status 499); the action may have run. */
  outcome: 'ok' | 'denied' | 'failed' | 'aborted';
  ip?: string;
}

/** How many entries the stream keeps (about; trimmed with `MAXLEN ~`). */
export const AUDIT_CAPACITY = 10_000;

/**
 * Every action taken on the dashboard, as one JSON log line and one entry in a capped Redis
 * stream that admins read at `GET /audit`. Writing never fails the request it records: an
 * entry Redis refuses is still in the log, with the reason.
 */
export function makeAudit(redis: RedisClient, prefix: string, logger: Logger) {
  const key = `${prefix}:dashboard:audit`;
  return {
    async record(entry: Omit<AuditEntry, 'at'>): Promise<void> {
      const full: AuditEntry = { at: new Date().toISOString(), ...entry };
      logger.info({ audit: full }, `audit: ${full.action} by ${full.user ?? '-'}: ${full.outcome}`);
      await redis
        .xadd(key, 'MAXLEN', '~', AUDIT_CAPACITY, '*', 'entry', JSON.stringify(full))
        .catch((error: Error) =>
          logger.error({ err: error, audit: full }, 'audit: the entry did not reach Redis'),
        );
    },

    /** The newest `count` entries, newest first. */
    async latest(count: number): Promise<(AuditEntry & { id: string })[]> {
      const rows = await redis.xrevrange(key, '+', '-', 'COUNT', count);
      return rows.map(([id, fields]) => ({ id, ...JSON.parse(fields[1] ?? '{}') }));
    },
  };
}

export type Audit = ReturnType<typeof makeAudit>;

/**
 * Records every request that would change something, once it is answered: who, the action
 * (named by the board's permission table, or `<METHOD> <path>`), its queue and job, the status.
 */
export function auditRequests(audit: Audit): RequestHandler {
  return (req, res, next) => {
    if (!changesState(req)) return next();
    // Read now: further in, Bull Board's own app reads the request with its own settings.
    const ip = req.ip;
    const path = req.path.slice(0, 200);
    let recorded = false;
    // A response that finished, or a client that hung up first (the action may still run):
    // either way, one entry.
    const record = () => {
      if (recorded) return;
      recorded = true;
      const caller = callerOf(res);
      const aborted = !res.writableFinished;
      const status = aborted ? 499 : res.statusCode;
      void audit.record({
        user: caller?.user.name ?? null,
        role: caller?.user.role ?? null,
        action: caller?.action ?? `${req.method} ${path}`,
        ...(caller?.queue ? { queue: caller.queue } : {}),
        ...(caller?.jobId ? { jobId: caller.jobId } : {}),
        status,
        outcome: aborted
          ? 'aborted'
          : status < 400
            ? 'ok'
            : status === 401 || status === 403
              ? 'denied'
              : 'failed',
        ...(ip ? { ip } : {}),
      });
    };
    res.once('finish', record);
    res.once('close', record);
    next();
  };
}

const Limit = z.coerce.number().int().min(1).max(1_000).default(100);

/** `GET /audit?limit=N`: the newest entries, newest first; for admins only. */
export function auditRoute(audit: Audit): RequestHandler {
  return async (req, res) => {
    const caller = callerOf(res);
    if (!caller || !allows(caller.user.role, 'admin')) {
      throw dashboardProblem('forbidden', 'the audit log is for admins');
    }
    const limit = Limit.safeParse(
      typeof req.query.limit === 'string' ? req.query.limit : undefined,
    );
    if (!limit.success || (req.query.limit !== undefined && typeof req.query.limit !== 'string')) {
      throw dashboardProblem('invalid-parameter', 'limit: expected 1 to 1000');
    }
    res.json({ entries: await audit.latest(limit.data) });
  };
}
