import { z } from 'zod';

const storageKey = z
  .string()
  .min(1)
  .max(512)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, 'letters, digits, ".", "_", "-" and "/" only')
  .refine(
    (key) => !key.split('/').some((part) => ['', '.', '..'].includes(part)),
    'must not contain empty, "." or ".." segments',
  );

const source = z.union([
  z.strictObject({ url: z.url({ protocol: /^https?$/ }).max(2048) }),
  z.strictObject({ key: storageKey }),
]);

const output = z.strictObject({
  width: z.int().min(1).max(8192).optional(),
  height: z.int().min(1).max(8192).optional(),
  fit: z.enum(['cover', 'contain', 'fill', 'inside', 'outside']).optional(),
  format: z.enum(['jpeg', 'png', 'webp', 'avif']),
  quality: z.int().min(1).max(100).optional(),
});

/** The payload of an image job: one source, up to ten renditions of it. */
export const imagePayload = z.strictObject({
  source,
  outputs: z.array(output).min(1).max(10),
});

export type ImagePayload = z.infer<typeof imagePayload>;

/** One rendered output: where it is, what it is, and a URL to download it. */
export interface ImageOutput {
  key: string;
  format: string;
  contentType: string;
  bytes: number;
  width: number;
  height: number;
  /**
   * A presigned GET on an object store, until `expiresAt` (`GET /v1/jobs/image/{id}` signs a
   * fresh one); with local storage, the API's `/v1/objects/<key>`, relative to its base URL.
   */
  url: string;
  expiresAt?: string;
}

export interface ImageResult {
  outputs: ImageOutput[];
}
