import type { BenchCase } from '../case.ts';

export const workerRuntime: BenchCase = {
  name: 'worker-runtime',
  async run() {
    throw new Error('worker-runtime: not written yet');
  },
};
