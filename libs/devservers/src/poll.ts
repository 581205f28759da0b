import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Poll `probe` every `intervalMs` until it returns a value other than undefined (a throw counts
 * as not yet), or fail at `deadline` saying what was awaited and the last error.
 */
export async function until<T>(
  what: string,
  deadline: number,
  probe: () => Promise<T | undefined> | T | undefined,
  intervalMs = 100,
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
        `Timed out waiting for ${what}${last ? ` (last error: ${errorMessage(last)})` : ''}`,
      );
    }
    await sleep(intervalMs);
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
