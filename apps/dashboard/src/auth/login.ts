import { randomBytes } from 'node:crypto';
import type { Logger } from '@errand/observability';
import express, { type Request, type RequestHandler, type Response, Router } from 'express';
import { callerOf } from './caller.ts';
import { cookieOf, cookieOptions, LOGIN_COOKIE, SESSION_COOKIE } from './cookies.ts';
import { sameOrigin } from './csrf.ts';
import type { LoginLimits } from './login-limits.ts';
import { loginPage } from './login-page.ts';
import { decoyHash, MAX_PASSWORD_LENGTH, verifyPassword } from './passwords.ts';
import { credentialsOf, type Sessions } from './sessions.ts';
import { type Directory, USER_NAME } from './users.ts';

/** A login whose password was checked, as the audit log records it. */
export interface LoginEntry {
  user: string | null;
  role: string | null;
  action: 'login';
  status: number;
  outcome: 'ok' | 'denied';
  ip: string;
}

export interface LoginOptions {
  directory: Directory;
  sessions: Sessions;
  limits: LoginLimits;
  /** The audit log (`../audit.ts`), which reads auth/; auth/ names only what it hands it. */
  audit: { record(entry: LoginEntry): Promise<void> };
  logger: Logger;
  secureCookies: boolean;
  sessionMaxMs: number;
}

const LOGIN_FORM_MS = 60 * 60 * 1000;
const FORM_TOKEN = /^[A-Za-z0-9_-]{32}$/;

/**
 * `GET /login` (the form) and `POST /login`. The form carries a token that must match its
 * cookie and the post must come from our origin, so no other site can log a browser in
 * as someone else. Failed logins are limited per name and per address, and logged.
 */
export function loginRouter(options: LoginOptions): Router {
  const { directory, sessions, limits, audit, logger } = options;

  const showForm = (req: Request, res: Response, status = 200, name?: string, error?: string) => {
    // A form token the browser holds already is kept: the browser's own requests (the
    // favicon, a second tab) must not replace the token of a form it is about to post.
    const held = cookieOf(req, LOGIN_COOKIE);
    const token = held && FORM_TOKEN.test(held) ? held : randomBytes(24).toString('base64url');
    res
      .status(status)
      .cookie(LOGIN_COOKIE, token, cookieOptions(req, options.secureCookies, LOGIN_FORM_MS))
      .type('html')
      .send(loginPage({ token, ...(name ? { name } : {}), ...(error ? { error } : {}) }));
  };

  const logIn: RequestHandler = async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const { name, password, csrf } = body;
    const formToken = cookieOf(req, LOGIN_COOKIE);
    if (!sameOrigin(req) || typeof csrf !== 'string' || !formToken || csrf !== formToken) {
      return showForm(
        req,
        res,
        403,
        undefined,
        'The form expired or came from elsewhere. Try again.',
      );
    }
    if (typeof name !== 'string' || typeof password !== 'string' || !name || !password) {
      return showForm(req, res, 400, undefined, 'Enter a user name and a password.');
    }
    if (name.length > 64 || password.length > MAX_PASSWORD_LENGTH) {
      return showForm(req, res, 400, undefined, 'The user name or the password is too long.');
    }
    const ip = req.ip ?? 'unknown';
    const waitMs = await limits.attempt(name, ip);
    if (waitMs > 0) {
      logger.warn({ ip }, 'login refused: too many attempts');
      res.set('Retry-After', String(Math.ceil(waitMs / 1000)));
      return showForm(req, res, 429, undefined, 'Too many failed logins. Wait and try again.');
    }
    const user = USER_NAME.test(name) ? await directory.find(name) : undefined;
    const ok = user?.password
      ? await verifyPassword(password, user.password)
      : await verifyPassword(password, decoyHash).then(() => false);
    if (!user || !ok) {
      // A name no user has is not repeated: people type their password there by mistake.
      const known = user ? user.name : null;
      logger.warn({ user: known, ip }, 'login failed');
      await audit.record({
        user: known,
        role: null,
        action: 'login',
        status: 401,
        outcome: 'denied',
        ip,
      });
      return showForm(req, res, 401, undefined, 'Wrong user name or password.');
    }
    await limits.succeeded(name, ip);
    const session = await sessions.create(user.name, credentialsOf(user));
    await audit.record({
      user: user.name,
      role: user.role,
      action: 'login',
      status: 303,
      outcome: 'ok',
      ip,
    });
    res
      .clearCookie(LOGIN_COOKIE, cookieOptions(req, options.secureCookies))
      .cookie(
        SESSION_COOKIE,
        session.id,
        cookieOptions(req, options.secureCookies, options.sessionMaxMs),
      )
      .redirect(303, './');
  };

  return Router()
    .get('/login', (req, res) => showForm(req, res))
    .post(
      '/login',
      express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 10 }),
      logIn,
    );
}

/** `POST /logout` (behind login and CSRF): the session ends in Redis, not only in the browser. */
export function logout(options: Pick<LoginOptions, 'sessions' | 'secureCookies'>): RequestHandler {
  return async (req, res) => {
    const caller = callerOf(res);
    if (caller) {
      caller.action = 'logout';
      await options.sessions.destroy(caller.session.id);
    }
    res
      .clearCookie(SESSION_COOKIE, cookieOptions(req, options.secureCookies))
      .redirect(303, 'login');
  };
}
