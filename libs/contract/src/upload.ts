import { z } from 'zod';

/**
 * The image types taken as sources and written as outputs, by content type, with the file
 * extension their keys use.
 */
export const IMAGE_TYPES = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/avif': 'avif',
  'image/gif': 'gif',
  'image/tiff': 'tiff',
} as const;

export type ImageContentType = keyof typeof IMAGE_TYPES;
export const imageContentTypes = Object.keys(IMAGE_TYPES) as ImageContentType[];
export const isImageContentType = (type: string): type is ImageContentType =>
  Object.hasOwn(IMAGE_TYPES, type);

/** An upload's name: it is stored as `uploads/<name>`, the key an image job's source names. */
export const uploadName = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/,
    'one path segment: up to 128 letters, digits, ".", "_" or "-", starting with a letter or digit',
  )
  .refine((name) => !name.includes('..'), 'must not contain ".."')
  .meta({ description: 'Stored as `uploads/<name>`', example: 'photo.jpg' });

/** `POST /v1/uploads`: where to send an image of this type and size. */
export const uploadRequest = z
  .strictObject({
    contentType: z.enum(imageContentTypes),
    bytes: z.int().min(1).meta({ description: "The image's exact size in bytes" }),
    name: uploadName
      .optional()
      .meta({ description: 'Default: a random name with the extension of the type' }),
  })
  .meta({ id: 'UploadRequest' });
export type UploadRequest = z.output<typeof uploadRequest>;

/** Where to PUT the bytes: a presigned URL of the object store, or the API's own route. */
export const uploadTicket = z
  .object({
    key: z.string().meta({ description: 'The key to name in `source: { key }`' }),
    method: z.literal('PUT'),
    url: z.string().meta({
      description:
        'A presigned URL of the object store (no API key), or with local storage `/v1/uploads/<name>` on this API (an API key with the enqueue scope)',
    }),
    headers: z.record(z.string(), z.string()).meta({ description: 'Send exactly these headers' }),
    expiresAt: z.iso
      .datetime()
      .optional()
      .meta({ description: 'When a presigned URL stops working' }),
  })
  .meta({ id: 'UploadTicket' });
export type UploadTicket = z.output<typeof uploadTicket>;

/** What `PUT /v1/uploads/{name}` answers: the object it stored. */
export const uploadedObject = z
  .object({ key: z.string(), bytes: z.int(), contentType: z.enum(imageContentTypes) })
  .meta({ id: 'UploadedObject' });
export type UploadedObject = z.output<typeof uploadedObject>;
