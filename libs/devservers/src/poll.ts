import { setTimeout as sleep } from 'node:timers/promises';

/** Poll `probe` until it returns a value, or fail at `deadline` saying what was awaited. */
export async function until<T>(
  what: string,
  deadline: number,
  probe: () => Promise<T | undefined>,
): Promise<T> {
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() >= deadline) {
      throw new Error(
        `Timed out waiting for ${what}${last ? ` (last error: ${message(last)})` : ''}`,
      );
    }
    await sleep(100);
  }
}

export function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
