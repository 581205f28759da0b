import { z } from 'zod';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Parse environment variables against zod schemas, once, at start: one schema, or several
 * read from the same environment (`{ base, queues }`). On failure the error lists every bad
 * variable of every schema with what was expected, so one restart fixes them all.
 */
export function parseEnv<Schema extends z.ZodType>(
  schema: Schema,
  env: Record<string, string | undefined>,
  app: string,
): z.output<Schema> {
  return parseEnvParts({ only: schema }, env, app).only;
}

export function parseEnvParts<Parts extends Record<string, z.ZodType>>(
  parts: Parts,
  env: Record<string, string | undefined>,
  app: string,
): { [K in keyof Parts]: z.output<Parts[K]> } {
  const parsed: Record<string, unknown> = {};
  const lines: string[] = [];
  for (const [key, schema] of Object.entries(parts)) {
    const result = schema.safeParse(env);
    if (result.success) parsed[key] = result.data;
    else {
      for (const issue of result.error.issues) {
        lines.push(`  - ${issue.path.join('.') || '(environment)'}: ${issue.message}`);
      }
    }
  }
  if (lines.length > 0) throw new ConfigError(`${app}: invalid configuration\n${lines.join('\n')}`);
  return parsed as { [K in keyof Parts]: z.output<Parts[K]> };
}

/** `PORT=` (set but blank) means "not set", not 0: coercion would turn "" into 0. */
const blankToUndefined = (value: unknown) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

/** Helpers for the string-typed world of environment variables. */
export const envVar = {
  port: (fallback: number) =>
    z.preprocess(blankToUndefined, z.coerce.number().int().min(0).max(65_535).default(fallback)),
  int: (fallback: number, min = 0) =>
    z.preprocess(blankToUndefined, z.coerce.number().int().min(min).default(fallback)),
  /** "true"/"false"/"1"/"0"/"yes"/"no"; anything else is an error, not a silent false. */
  bool: (fallback: boolean) =>
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
      .default(fallback ? 'true' : 'false')
      .transform((value) => value === 'true' || value === '1' || value === 'yes'),
  /** JSON text (the fallback when unset), refused with `expected` when it does not parse. */
  json: (fallback: string, expected: string) =>
    z
      .string()
      .default(fallback)
      .transform((text, ctx): unknown => {
        try {
          return JSON.parse(text);
        } catch {
          ctx.addIssue({ code: 'custom', message: `expected ${expected}` });
          return z.NEVER;
        }
      }),
  logLevel: () =>
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
};
