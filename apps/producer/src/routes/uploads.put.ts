import { isImageContentType, type UploadedObject, uploadName } from '@errand/contract';
import { HttpProblem } from '@errand/http';
import { UPLOADS_PREFIX } from '@errand/storage';
import type { RequestHandler } from 'express';
import type { Deps } from '../deps.ts';
import { withStorage } from '../storage-errors.ts';
import { parseParams } from '../validation.ts';

/**
 * PUT /v1/uploads/{name}: the image in the body, streamed into the storage as
 * `uploads/<name>` (a PUT of the same name replaces it). The size must be announced and at
 * most UPLOAD_MAX_BYTES, so an oversized upload is refused before a byte is stored.
 */
export const putUpload =
  ({ storage, logger, uploadMaxBytes }: Deps): RequestHandler =>
  async (req, res) => {
    const { name } = parseParams(
      uploadName.transform((name) => ({ name })),
      req.params.name,
    );
    const contentType = req.get('content-type')?.split(';')[0]?.trim().toLowerCase() ?? '';
    if (!isImageContentType(contentType))
      throw new HttpProblem(
        'unsupported-image-type',
        `Content-Type "${contentType.slice(0, 80)}" is no image type Errand takes.`,
      );
    const length = req.get('content-length');
    if (req.get('transfer-encoding') || length === undefined)
      throw new HttpProblem('length-required', 'Send the image with a Content-Length.', {
        headers: { connection: 'close' },
      });
    const bytes = Number(length);
    if (bytes > uploadMaxBytes)
      throw new HttpProblem('body-too-large', `Uploads are at most ${uploadMaxBytes} bytes.`, {
        headers: { connection: 'close' },
      });
    if (bytes === 0) throw new HttpProblem('invalid-body', 'The upload is empty.');
    const key = UPLOADS_PREFIX + name;
    await withStorage(logger, () => storage.put(key, req, { contentType, contentLength: bytes }));
    const answer: UploadedObject = { key, bytes, contentType };
    res.status(201).location(`/v1/uploads/${name}`).json(answer);
  };
