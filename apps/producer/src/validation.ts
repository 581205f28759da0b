import { HttpProblem } from '@errand/http';
import type { RequestHandler } from 'express';
import type { z } from 'zod';

/** Parse with a zod schema or throw a 400 problem listing every bad field. */
export function parseOr400<S extends z.ZodType>(schema: S, value: unknown, at = ''): z.output<S> {
  return parseOrThrow(schema, value, at, 'invalid-body');
}

/** The same for the query string and path segments: a 400 `invalid-parameter`. */
export function parseParams<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  return parseOrThrow(schema, value, '', 'invalid-parameter');
}

function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  at: string,
  type: 'invalid-body' | 'invalid-parameter',
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const errors = result.error.issues.map((issue) => ({
    path:
      [at, ...issue.path.map(String)].filter(Boolean).join('.') ||
      (type === 'invalid-body' ? '(body)' : '(query)'),
    message: issue.message,
  }));
  const what = type === 'invalid-body' ? 'fields' : 'parameters';
  throw new HttpProblem(type, `Invalid ${what}: ${errors.map((e) => e.path).join(', ')}.`, {
    errors,
  });
}

/**
 * A `__proto__` key anywhere in a JSON body is refused: JSON.parse keeps it as an own
 * property, and copying such an object (as schema parsing does) would drop it silently or,
 * in careless code, set a prototype. Iterative, so no nesting depth can overflow the stack.
 */
export const noProtoKeys: RequestHandler = (req, _res, next) => {
  refuseProtoKeys(req.body);
  next();
};

/** Throw the 400 of `noProtoKeys` for a parsed body with a `__proto__` key anywhere. */
export function refuseProtoKeys(body: unknown): void {
  const stack: [unknown, string][] = [[body, '']];
  while (stack.length > 0) {
    const [value, path] = stack.pop() as [unknown, string];
    if (!value || typeof value !== 'object') continue;
    if (Object.hasOwn(value, '__proto__')) {
      const at = path ? `${path}.__proto__` : '__proto__';
      throw new HttpProblem('invalid-body', `Invalid fields: ${at}.`, {
        errors: [{ path: at, message: '"__proto__" is not allowed as a key' }],
      });
    }
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      const child = (value as Record<string, unknown>)[key];
      if (child && typeof child === 'object') stack.push([child, path ? `${path}.${key}` : key]);
    }
  }
}
