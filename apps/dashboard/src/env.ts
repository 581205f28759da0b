import { isIP } from 'node:net';
import { join } from 'node:path';
import { commonEnv, envVar, parseEnv, parseEnvParts } from '@errand/config';
import { RedisLocationEnv } from '@errand/redis';
import { z } from 'zod';

/** Beside the code, whatever the working directory: `config/dashboard-users.yaml`. */
const DEFAULT_USERS_FILE = join(
  import.meta.dirname,
  '..',
  '..',
  '..',
  'config',
  'dashboard-users.yaml',
);

const addressList = z
  .string()
  .transform((text) =>
    text
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  )
  .refine(
    (items) => items.every((item) => isIP(item) !== 0),
    'expected IP addresses, comma-separated',
  );

const Settings = z.object({
  ...commonEnv({ shutdownTimeoutMs: 10_000 }),
  DASHBOARD_PORT: envVar.port(3001),
  /** Loopback by default; the dashboard has a login, so 0.0.0.0 is safe behind TLS. */
  DASHBOARD_HOST: z.string().min(1).default('127.0.0.1'),
  /** Users, roles and password hashes; managed with `npm run dashboard:user`. */
  DASHBOARD_USERS_FILE: z.string().min(1).default(DEFAULT_USERS_FILE),
  /** A session ends this long after its last request… */
  DASHBOARD_SESSION_IDLE_MINUTES: envVar.int(30, 1),
  /** …and this long after its login, however busy. */
  DASHBOARD_SESSION_MAX_HOURS: envVar.int(12, 1),
  /** Mark the session cookie Secure even when the request did not come over TLS. */
  DASHBOARD_COOKIE_SECURE: envVar.bool(false),
  /**
   * Addresses of reverse proxies whose X-Forwarded-For/-Proto are believed, and whose
   * DASHBOARD_TRUSTED_PROXY_HEADER names the user (single sign-on, e.g. oauth2-proxy).
   */
  DASHBOARD_TRUSTED_PROXIES: addressList.default([]),
  DASHBOARD_TRUSTED_PROXY_HEADER: z
    .string()
    .regex(/^[A-Za-z0-9-]{1,64}$/, 'expected an HTTP header name')
    .transform((name) => name.toLowerCase())
    .optional(),
  /** Failed logins allowed per user name, and per client address, per 15 minutes. */
  DASHBOARD_LOGIN_FAILURES_PER_USER: envVar.int(5, 1),
  DASHBOARD_LOGIN_FAILURES_PER_IP: envVar.int(30, 1),
});

/** Every setting of the dashboard; nothing else in the app reads process.env. */
export const DashboardEnv = Settings.refine(
  (env) => !env.DASHBOARD_TRUSTED_PROXY_HEADER || env.DASHBOARD_TRUSTED_PROXIES.length > 0,
  {
    path: ['DASHBOARD_TRUSTED_PROXY_HEADER'],
    message: 'needs DASHBOARD_TRUSTED_PROXIES: a user header is believed only from known proxies',
  },
);

export type DashboardEnv = z.output<typeof DashboardEnv>;

export function loadEnv(env: Record<string, string | undefined>) {
  const { base, redis } = parseEnvParts(
    { base: DashboardEnv, redis: RedisLocationEnv },
    env,
    'dashboard',
  );
  return { ...base, redis };
}

/** What `npm run dashboard:user` reads: only where the users file is. */
export const loadUsersFileEnv = (env: Record<string, string | undefined>) =>
  parseEnv(Settings.pick({ DASHBOARD_USERS_FILE: true }), env, 'dashboard:user');
