import { describe, expect, it } from 'vitest';
import { TimeoutError, withTimeout } from './timeout.ts';

const after = <T>(ms: number, value: T) =>
  new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));
const failAfter = (ms: number, error: Error) =>
  new Promise<never>((_, reject) => setTimeout(() => reject(error), ms));

describe('withTimeout', () => {
  it('answers with the work when it settles in time, either way', async () => {
    await expect(withTimeout(after(5, 'done'), 1_000, 'read')).resolves.toBe('done');
    await expect(withTimeout(Promise.reject(new Error('refused')), 1_000, 'read')).rejects.toThrow(
      'refused',
    );
  });

  it('rejects with a TimeoutError "<what> timed out" once the time is up', async () => {
    const never = new Promise<never>(() => {});
    const error = await withTimeout(never, 20, 'schedule read').catch((e: Error) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.message).toBe('schedule read timed out');
  });

  it('leaves no unhandled rejection when the work fails after its deadline', async () => {
    const unhandled: unknown[] = [];
    const listener = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', listener);
    try {
      const late = failAfter(30, new Error('too late'));
      await expect(withTimeout(late, 5, 'Command')).rejects.toThrow('Command timed out');
      await after(60, undefined);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', listener);
    }
  });
});
