import { z } from 'zod';

const storageKey = z
  .string()
  .min(1)
  .max(512)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, 'letters, digits, ".", "_", "-" and "/" only')
  .refine((key) => !key.split('/').includes('..'), 'must not contain ".." segments');

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

export interface ImageResult {
  outputs: { key: string; format: string; bytes: number; width: number; height: number }[];
}
