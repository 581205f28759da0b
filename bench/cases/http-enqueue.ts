import type { BenchCase } from '../case.ts';

export const httpEnqueue: BenchCase = {
  name: 'http-enqueue',
  async run() {
    throw new Error('http-enqueue: not written yet');
  },
};
