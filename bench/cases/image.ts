import type { BenchCase } from '../case.ts';

export const image: BenchCase = {
  name: 'image',
  async run() {
    throw new Error('image: not written yet');
  },
};
