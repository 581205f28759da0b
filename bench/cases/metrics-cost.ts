import type { BenchCase } from '../case.ts';

export const metricsCost: BenchCase = {
  name: 'metrics-cost',
  async run() {
    throw new Error('metrics-cost: not written yet');
  },
};
