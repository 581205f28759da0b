import type { Logger } from '@errand/observability';
import type { Request, RequestHandler, Response } from 'express';
import { dashboardProblem } from '../problems.ts';
import { setCaller } from './caller.ts';
import { cookieOf, cookieOptions, SESSION_COOKIE } from './cookies.ts';
import { credentialsOf, type Session, type Sessions } from './sessions.ts';
import { type Directory, USER_NAME, type User } from './users.ts';

export interface AuthenticateOptions {
  directory: Directory;
  sessions: Sessions;
  logger: Logger;
  secureCookies: boolean;
  sessionMaxMs: number;
  /**
   * Single sign-on: the header a trusted proxy names the user in. Which proxies are trusted
   * is the app's `trust proxy` setting, the same that decides whether X-Forwarded-For counts.
   */
  proxyHeader?: string;
}

/** Whether the request comes straight from a proxy the app trusts. */
const fromTrustedProxy = (req: Request) => {
  const trusted = req.app.get('trust proxy fn') as (address: string, hop: number) => boolean;
  return !!req.socket.remoteAddress && trusted(req.socket.remoteAddress, 0);
};

/**
 * A request the user made, which restarts the session's idle time, as opposed to the board
 * polling its API by itself (its script marks the polls made within a minute of input).
 */
const byTheUser = (req: Request) =>
  req.method !== 'GET' || !req.path.startsWith('/api/') || req.headers['x-errand-active'] === '1';

/**
 * Everything behind this needs a user: a session cookie, or (with single sign-on) a user
 * header set by a trusted proxy. Pages send the browser to the login page; the API gets 401.
 * The role is read from the users file at each request, so a change there applies at once.
 */
export function authenticate(options: AuthenticateOptions): RequestHandler {
  const { directory, sessions, proxyHeader } = options;

  const viaProxy = async (req: Request, res: Response, name: string) => {
    const user = USER_NAME.test(name) ? await directory.find(name) : undefined;
    if (!user) {
      options.logger.warn(
        { user: name.slice(0, 64) },
        'sso: the proxy names a user the users file lacks',
      );
      return undefined;
    }
    let session = await sessions.get(cookieOf(req, SESSION_COOKIE), byTheUser(req));
    if (session?.user !== user.name || session.credentials !== credentialsOf(user)) {
      session = await sessions.create(user.name, credentialsOf(user));
      res.cookie(
        SESSION_COOKIE,
        session.id,
        cookieOptions(req, options.secureCookies, options.sessionMaxMs),
      );
    }
    return { user, session };
  };

  const identify = async (
    req: Request,
    res: Response,
  ): Promise<{ user: User; session: Session } | undefined> => {
    const named = proxyHeader && req.headers[proxyHeader];
    if (typeof named === 'string' && fromTrustedProxy(req)) return viaProxy(req, res, named);
    const session = await sessions.get(cookieOf(req, SESSION_COOKIE), byTheUser(req));
    if (!session) return undefined;
    const user = await directory.find(session.user);
    if (!user || session.credentials !== credentialsOf(user)) {
      await sessions.destroy(session.id); // removed from the users file, or a new password
      return undefined;
    }
    return { user, session };
  };

  return async (req, res, next) => {
    try {
      const who = await identify(req, res);
      if (who) {
        setCaller(res, who);
        return next();
      }
      // Only a page the user navigates to goes to the login page; the API, the browser's
      // own fetches (a favicon) and scripts get 401.
      const mode = req.headers['sec-fetch-mode'];
      const navigation = mode ? mode === 'navigate' : req.accepts(['html', 'json']) === 'html';
      const page = !req.path.startsWith('/api/') && req.path !== '/audit';
      if (req.method === 'GET' && page && navigation) {
        return res.redirect(303, `${req.baseUrl}/login`);
      }
      throw dashboardProblem('unauthorized', 'log in first (POST /login)');
    } catch (error) {
      next(error);
    }
  };
}
