import { join } from 'node:path';
import { startApp } from '@errand/testing';
import { expect, it } from 'vitest';

/** The dashboard refuses to start on what would leave it open or broken, and says why. */
it.each([
  [
    'without a users file',
    { DASHBOARD_USERS_FILE: join('/nonexistent', 'users.yaml') },
    /dashboard did not start: \/nonexistent\/users.yaml: no users file; add a user with `npm run dashboard:user -- add NAME --role admin --password-stdin`/,
  ],
  [
    'with a user header but no proxy to believe it from',
    { DASHBOARD_TRUSTED_PROXY_HEADER: 'X-Forwarded-User' },
    /DASHBOARD_TRUSTED_PROXY_HEADER: needs DASHBOARD_TRUSTED_PROXIES/,
  ],
  [
    'with a proxy that is not an address',
    { DASHBOARD_TRUSTED_PROXIES: '10.0.0.1, proxy.internal' },
    /DASHBOARD_TRUSTED_PROXIES: expected IP addresses, comma-separated/,
  ],
])('refuses to start %s', async (_case, env, message) => {
  const app = startApp('dashboard', { REDIS_URL: 'redis://127.0.0.1:1', ...env });
  expect(await app.exited).toBe(1);
  expect(app.output()).toMatch(message);
});
