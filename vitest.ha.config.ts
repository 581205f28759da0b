import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

/**
 * `npm run test:ha`: the tests of replicated topologies (a Sentinel group, a Cluster), each
 * file many redis-server processes and a failover or two. `npm test` leaves them out; CI
 * runs them after it.
 */
export default defineConfig({
  test: {
    ...base.test,
    include: ['apps/*/src/**/*.ha.test.ts', 'libs/*/src/**/*.ha.test.ts', 'deploy/**/*.ha.test.ts'],
    exclude: [],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
