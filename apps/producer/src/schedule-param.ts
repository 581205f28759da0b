import { scheduleId } from '@errand/contract';
import { HttpProblem } from '@errand/http';
import { ScheduleSourceConflict } from '@errand/queues';
import type { Request } from 'express';

/** The `{id}` path segment of a schedule route, or a 400 that says what ids look like. */
export function scheduleIdParam(req: Request): string {
  const parsed = scheduleId.safeParse(req.params.id);
  if (parsed.success) return parsed.data;
  const message = parsed.error.issues[0]?.message ?? 'invalid id';
  throw new HttpProblem('invalid-parameter', `Invalid parameters: id.`, {
    errors: [{ path: 'id', message }],
  });
}

export const noSchedule = (id: string) =>
  new HttpProblem('schedule-not-found', `No schedule has id "${id}".`);

/** A write through the API to a file schedule: 409, saying to edit the file. */
export async function sourceChecked<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof ScheduleSourceConflict) {
      throw new HttpProblem('schedule-source-conflict', error.message);
    }
    throw error;
  }
}
