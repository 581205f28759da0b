import type { ListedJobState } from '@errand/contract';
import { HttpProblem } from '@errand/http';
import { decodeJobCursor, type JobCursor, type JobRange } from '@errand/queues';

/** `since` and `until` (ISO times, checked by the contract) as ms since the epoch. */
export const rangeOf = ({ since, until }: { since?: string; until?: string }): JobRange => ({
  since: since === undefined ? undefined : Date.parse(since),
  until: until === undefined ? undefined : Date.parse(until),
});

/**
 * The `cursor` a listing or bulk action gave, for the same state; anything else (made up,
 * cut short, of another state) is a 400 of the kind of where it came: query or body.
 */
export function cursorOf(
  text: string | undefined,
  state: ListedJobState,
  type: 'invalid-parameter' | 'invalid-body',
): JobCursor | undefined {
  if (text === undefined) return undefined;
  const cursor = decodeJobCursor(text, state);
  if (cursor) return cursor;
  const message = `not a cursor this API gave for ${state} jobs`;
  throw new HttpProblem(type, 'Invalid cursor: pass the `cursor` of the previous answer.', {
    errors: [{ path: 'cursor', message }],
  });
}
