import { createLogger } from '@errand/observability';
import type { Job } from 'bullmq';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { Attempt, makeDeadlines } from './attempt.ts';

const logger = createLogger('test', 'silent');
const attempt = (id: string) => new Attempt({ id } as Job, 1, logger);

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

it('expires each attempt at its own deadline, oldest first, and none that ended', () => {
  const expired: string[] = [];
  const deadlines = makeDeadlines(1_000, (a) => expired.push(a.id));
  const [a, b, c] = [attempt('a'), attempt('b'), attempt('c')];
  deadlines.add(a);
  vi.advanceTimersByTime(300);
  deadlines.add(b);
  vi.advanceTimersByTime(300);
  deadlines.add(c);
  deadlines.delete(a); // ended in time: the timer armed for it finds nothing due
  expect(deadlines.size).toBe(2);

  vi.advanceTimersByTime(699); // 1,299 ms after a, 999 after b
  expect(expired).toEqual([]);
  vi.advanceTimersByTime(1); // b's deadline
  expect(expired).toEqual(['b']);
  expect(deadlines.size).toBe(1);
  vi.advanceTimersByTime(299);
  expect(expired).toEqual(['b']);
  vi.advanceTimersByTime(1); // c's deadline
  expect(expired).toEqual(['b', 'c']);
  expect(deadlines.size).toBe(0);
  expect(vi.getTimerCount()).toBe(0);
});

it('expires attempts that share a deadline together', () => {
  const expired: string[] = [];
  const deadlines = makeDeadlines(500, (a) => expired.push(a.id));
  for (const id of ['a', 'b', 'c']) deadlines.add(attempt(id));
  vi.advanceTimersByTime(500);
  expect(expired).toEqual(['a', 'b', 'c']);
});

it('holds no timer while nothing runs, so an idle worker can exit', () => {
  const deadlines = makeDeadlines(60_000, () => {
    throw new Error('nothing should expire');
  });
  const a = attempt('a');
  deadlines.add(a);
  expect(vi.getTimerCount()).toBe(1);
  deadlines.delete(a);
  deadlines.delete(a); // twice is harmless
  expect(vi.getTimerCount()).toBe(0);
  deadlines.add(attempt('b')); // a new attempt arms a new timer
  expect(vi.getTimerCount()).toBe(1);
});
