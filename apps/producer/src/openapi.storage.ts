import {
  imageContentTypes,
  uploadedObject,
  uploadName,
  uploadRequest,
  uploadTicket,
} from '@errand/contract';
import { OUTPUT_CACHE_CONTROL } from '@errand/storage';
import { z } from 'zod';
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import type { OpenApiParts } from './openapi.dead-letter.ts';

/** Bytes of one of these types, whole: the body of an upload, the answer of an object. */
const binary = (types: readonly string[]) =>
  Object.fromEntries(
    types.map((type) => [type, { schema: { type: 'string' as const, contentMediaType: type } }]),
  );

const namePath = z.object({
  name: uploadName.meta({ description: 'Stored as `uploads/<name>`; no `..`' }),
});
const keyPath = z.object({
  key: z.string().meta({
    description:
      'The output’s key as the job result names it, slashes included (`images/<job id>/0.webp`); only keys under `images/` are served',
    example: 'images/42/0.webp',
  }),
});
const rangeHeader = z.object({
  range: z.string().optional().meta({
    description:
      'One byte range: `bytes=0-1023`, `bytes=1024-` or the last N bytes `bytes=-1024`. Several ranges, another unit or an invalid range (end before start) are ignored: the whole object (200).',
    example: 'bytes=0-1023',
  }),
});

/** What every answer with the bytes (or, to a HEAD, without them) says of the object. */
const objectHeaders = {
  'cache-control': z.string().meta({
    description: `\`${OUTPUT_CACHE_CONTROL}\`: an output never changes under its key`,
  }),
  'last-modified': z.string().meta({ description: 'When the output was written' }),
  'accept-ranges': z.literal('bytes'),
  'content-length': z.int().meta({ description: 'Bytes of the object (of the range, for a 206)' }),
};
const contentRange = z.string().meta({
  description: 'The range sent, and the object’s size: `bytes 0-1023/52311`',
});

const rangeNote =
  'A single `Range: bytes=` range answers 206 with `Content-Range`; a range that starts past ' +
  'the end (or `bytes=-0`) answers 416 with `Content-Range: bytes */<size>`. A key outside ' +
  '`images/`, or one that climbs out of the storage (`..`), is a 404 like a key with no object. ' +
  'With an object store the job result’s `url` reads the output straight from the store; this ' +
  'route serves it too, for callers that cannot reach the store.';

/** The uploads (image sources in) and objects (outputs out), in the OpenAPI document. */
export function storagePaths({
  op,
  errors,
  json,
}: Pick<OpenApiParts, 'op' | 'errors' | 'json'>): ZodOpenApiPathsObject {
  const unsatisfiable = {
    ...errors(416)[416],
    headers: z.object({ 'content-range': contentRange }),
  };
  const bytes = binary(['image/*']);
  const get = op('getObject', 'An image job’s output: the bytes, whole or one range', 'read', {
    description: rangeNote,
    requestParams: { path: keyPath, header: rangeHeader },
    responses: {
      200: { description: 'The whole object', headers: z.object(objectHeaders), content: bytes },
      206: {
        description: 'One range of the object',
        headers: z.object({ ...objectHeaders, 'content-range': contentRange }),
        content: bytes,
      },
      ...errors(404),
      416: unsatisfiable,
    },
  });
  const head = op('headObject', 'An output’s headers: type, size, time', 'read', {
    description: 'The headers a GET of the whole object sends, without the bytes.',
    requestParams: { path: keyPath },
    responses: {
      200: { description: 'The object’s headers', headers: z.object(objectHeaders) },
      ...errors(404),
    },
  });

  return {
    '/v1/uploads': {
      post: op('createUpload', 'Where to PUT an image: a presigned URL, or this API', 'enqueue', {
        description:
          'With an object store (`STORAGE_URL=s3://…`) the `url` is a presigned PUT, with the type ' +
          'and size signed in, valid until `expiresAt` (`STORAGE_URL_EXPIRY_SECONDS`): send the ' +
          'bytes straight to the store with exactly the `headers` given, and no API key. With ' +
          'local storage it is `/v1/uploads/<name>` on this API (`uploadImage`, an API key with ' +
          'the `enqueue` scope). Either way the image then has the `key` an image job names in ' +
          '`source: { key }`. `bytes` over `UPLOAD_MAX_BYTES` is a 413.',
        requestBody: { required: true, ...json(uploadRequest) },
        responses: {
          201: { description: 'The ticket', ...json(uploadTicket) },
          ...errors(400, 413, 415),
        },
      }),
    },
    '/v1/uploads/{name}': {
      put: op('uploadImage', 'Upload an image through the API', 'enqueue', {
        description:
          'The raw bytes in the body, stored as `uploads/<name>` (a PUT of the same name replaces ' +
          'it). The body needs a `Content-Length` (no chunked encoding: 411) of at most ' +
          '`UPLOAD_MAX_BYTES` (413, answered before a byte is stored), and an image ' +
          '`Content-Type` (415 `unsupported-image-type`). An empty body or a bad name is a 400.',
        requestParams: { path: namePath },
        requestBody: { required: true, content: binary(imageContentTypes) },
        responses: {
          201: {
            description: 'Stored',
            headers: z.object({
              location: z.string().meta({ description: 'This upload: `/v1/uploads/<name>`' }),
            }),
            ...json(uploadedObject),
          },
          ...errors(400, 411, 413, 415),
        },
      }),
    },
    '/v1/objects/{key}': {
      get,
      head,
    },
  };
}
