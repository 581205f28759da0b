import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: 'esm',
  target: 'node20',
  platform: 'neutral',
  dts: { resolve: ['@errand/contract'] },
  tsconfig: 'tsconfig.build.json',
  clean: true,
  external: ['eventsource-parser'],
});
