import { HttpProblem } from '@errand/http';
import type { z } from 'zod';

/** Parse with a zod schema or throw a 400 problem listing every bad field. */
export function parseOr400<S extends z.ZodType>(schema: S, value: unknown, at = ''): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const errors = result.error.issues.map((issue) => ({
    path: [at, ...issue.path.map(String)].filter(Boolean).join('.') || '(body)',
    message: issue.message,
  }));
  const fields = errors.map((e) => e.path).join(', ');
  throw new HttpProblem('invalid-body', `Invalid fields: ${fields}.`, { errors });
}
