import { hash } from 'node:crypto';
import { envVar } from '@errand/config';
import { type AllowedTarget, allowedTargetsSchema } from '@errand/fetch';
import { z } from 'zod';

export const scopes = ['enqueue', 'read', 'admin'] as const;
export type Scope = (typeof scopes)[number];

/** A configured API key as kept in memory: its name, the SHA-256 of its secret, its rights. */
export interface ApiKey {
  name: string;
  hash: Buffer;
  scopes: ReadonlySet<Scope>;
  /** Requests per second; the global API_RATE_LIMIT when not set. */
  rateLimit: number | undefined;
  /** What its http jobs and callbacks may call: origins or URL prefixes; none by default. */
  allowedTargets: readonly AllowedTarget[];
}

/** One-shot: no Hash object per request. */
export const sha256 = (text: string) => hash('sha256', text, 'buffer');

const HASHED = /^sha256:([0-9a-f]{64})$/i;

const apiKeyEntry = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, "_", "." and "-", at most 64'),
  key: z
    .string()
    .refine(
      (key) => HASHED.test(key) || key.length >= 16,
      'at least 16 characters, or sha256:<hex>',
    ),
  scopes: z.array(z.enum(scopes)).min(1),
  rateLimit: z.int().min(1).optional(),
  allowedTargets: allowedTargetsSchema.optional(),
});

/**
 * `API_KEYS`: a JSON array of `{ name, key, scopes, rateLimit?, allowedTargets? }`, where
 * `key` is the secret or `sha256:<hex>` of it. Only the hashes survive the parse; names must
 * be unique.
 */
export const apiKeysVar = envVar
  .json('[]', 'a JSON array of { name, key, scopes }')
  .pipe(z.array(apiKeyEntry))
  .refine(
    (keys) => new Set(keys.map((k) => k.name)).size === keys.length,
    'key names must be unique',
  )
  .transform((keys): ApiKey[] =>
    keys.map((entry) => {
      const hashed = HASHED.exec(entry.key)?.[1];
      return {
        name: entry.name,
        hash: hashed ? Buffer.from(hashed, 'hex') : sha256(entry.key),
        scopes: new Set(entry.scopes),
        rateLimit: entry.rateLimit,
        allowedTargets: entry.allowedTargets ?? [],
      };
    }),
  );
