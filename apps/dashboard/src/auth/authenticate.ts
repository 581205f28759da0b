import type { Logger } from '@errand/observability';
import type { Request, RequestHandler, Response } from 'express';
import { setCaller } from './caller.ts';
import { cookieOf, cookieOptions, SESSION_COOKIE } from './cookies.ts';
import type { Session, Sessions } from './sessions.ts';
import { type Directory, USER_NAME, type User } from './users.ts';

export interface AuthenticateOptions {
  directory: Directory;
  sessions: Sessions;
  logger: Logger;
  secureCookies: boolean;
  sessionMaxMs: number;
  /** Single sign-on: the header a trusted proxy names the user in, and those proxies. */
  proxy?: { header: string; addresses: readonly string[] };
}

const plainAddress = (address: string | undefined) => address?.replace(/^::ffff:/, '') ?? '';

/**
 * Everything behind this needs a user: a session cookie, or (with single sign-on) a user
 * header set by a trusted proxy. Pages send the browser to the login page; the API gets 401.
 * The role is read from the users file at each request, so a change there applies at once.
 */
export function authenticate(options: AuthenticateOptions): RequestHandler {
  const { directory, sessions, proxy } = options;

  const viaProxy = async (req: Request, res: Response, name: string) => {
    const user = USER_NAME.test(name) ? await directory.find(name) : undefined;
    if (!user) {
      options.logger.warn(
        { user: name.slice(0, 64) },
        'sso: the proxy names a user the users file lacks',
      );
      return undefined;
    }
    let session = await sessions.get(cookieOf(req, SESSION_COOKIE));
    if (session?.user !== user.name) {
      session = await sessions.create(user.name);
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
    const named = proxy && req.headers[proxy.header];
    if (
      typeof named === 'string' &&
      proxy?.addresses.includes(plainAddress(req.socket.remoteAddress))
    ) {
      return viaProxy(req, res, named);
    }
    const session = await sessions.get(cookieOf(req, SESSION_COOKIE));
    if (!session) return undefined;
    const user = await directory.find(session.user);
    if (!user) {
      await sessions.destroy(session.id); // removed from the users file
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
      res.status(401).json({ error: 'unauthorized', message: 'log in first (POST /login)' });
    } catch (error) {
      next(error);
    }
  };
}
