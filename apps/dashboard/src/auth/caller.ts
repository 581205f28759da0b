import type { IncomingHttpHeaders } from 'node:http';
import type { Response } from 'express';
import type { Session } from './sessions.ts';
import type { User } from './users.ts';

/** Who makes a request, once authenticated; what the audit log says they did. */
export interface Caller {
  user: User;
  session: Session;
  /** Filled in by the board's permission check: the action and its queue and job. */
  action?: string;
  queue?: string;
  jobId?: string;
}

/**
 * Bull Board's handler hooks see a request's headers, not the request: the caller is kept
 * by its headers object (the same object Express hands to Bull Board), for as long as the
 * request lives.
 */
const byHeaders = new WeakMap<IncomingHttpHeaders, Caller>();

export function setCaller(res: Response, caller: Caller): void {
  res.locals.caller = caller;
  byHeaders.set(res.req.headers, caller);
}

export const callerOf = (res: Response): Caller | undefined =>
  res.locals.caller as Caller | undefined;

export const callerByHeaders = (headers: IncomingHttpHeaders | undefined) =>
  headers ? byHeaders.get(headers) : undefined;
