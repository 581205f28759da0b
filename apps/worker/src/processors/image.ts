import { PermanentError, type Processor } from '../processor.ts';

/**
 * Image jobs are part of the contract, but their processor (sharp, storage, SSRF-safe fetch)
 * is not built yet: the job fails at once, permanently, saying so, rather than retrying.
 */
export const makeImageProcessor = (): Processor<'image'> => async () => {
  throw new PermanentError('image processing is not available in this version of Errand');
};
