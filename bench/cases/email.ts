import type { BenchCase } from '../case.ts';

export const email: BenchCase = {
  name: 'email',
  async run() {
    throw new Error('email: not written yet');
  },
};
