import { jobTypes } from '@errand/contract';
import { expect, it } from 'vitest';
import type { Processor, Processors } from './processor.ts';

/*
 * The compiler is the check that a job type of the contract cannot go without its
 * processor, or return another type's result: `npm test` runs `tsc`, and each
 * `@ts-expect-error` below fails it the day the mistake it marks compiles.
 */
const unused = async (): Promise<never> => {
  throw new Error('never called');
};

// @ts-expect-error: the contract's analytics-maintenance type has no processor here
const missingOne: Processors = {
  email: unused,
  image: unused,
  analytics: unused,
  http: unused,
  webhook: unused,
  digest: unused,
  'image-cleanup': unused,
};

// @ts-expect-error: a digest processor must return a DigestResult, not an image clean-up's
const wrongResult: Processor<'digest'> = async () => ({ removed: 1, kept: 0 });

it('lists a processor slot for every job type of the contract, and only those', () => {
  const complete: Processors = { ...missingOne, 'analytics-maintenance': unused };
  expect(Object.keys(complete).sort()).toEqual([...jobTypes].sort());
  expect(typeof wrongResult).toBe('function');
});
