import { until } from '@errand/devservers';

/** Poll `probe` until it returns a value other than undefined, or fail after `timeoutMs`. */
export function eventually<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  { timeoutMs = 10_000, intervalMs = 50, what = 'condition' } = {},
): Promise<T> {
  return until(what, Date.now() + timeoutMs, probe, intervalMs);
}
