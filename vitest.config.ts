import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Workspace packages that publish a build (@errand/client) are tested from their sources;
  // the rest is Vitest's default (Vite's server conditions without `module`).
  ssr: {
    resolve: {
      conditions: ['errand-source', ...defaultServerConditions.filter((c) => c !== 'module')],
    },
  },
  test: {
    include: [
      'apps/*/src/**/*.test.ts',
      'libs/*/src/**/*.test.ts',
      'scripts/**/*.test.ts',
      'deploy/**/*.test.ts',
      'docs/**/*.test.ts',
    ],
    // Replicated topologies (Sentinel, Cluster) run apart: npm run test:ha (vitest.ha.config.ts).
    exclude: ['**/node_modules/**', '**/*.ha.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
