import { randomUUID } from 'node:crypto';
import { IMAGE_TYPES, type UploadTicket, uploadRequest } from '@errand/contract';
import { HttpProblem } from '@errand/http';
import type { RequestHandler } from 'express';
import type { Deps } from '../deps.ts';
import { requireJson } from '../job-type.ts';
import { withStorage } from '../storage-errors.ts';
import { parseOr400 } from '../validation.ts';

/**
 * POST /v1/uploads: where to PUT an image of this type and size. An object store gives a
 * presigned URL with the type and size signed in (the caller sends the bytes straight to it);
 * local storage gives this API's own `PUT /v1/uploads/<name>`.
 */
export const createUpload =
  ({ links, logger, uploadMaxBytes }: Deps): RequestHandler =>
  async (req, res) => {
    requireJson(req);
    const { contentType, bytes, name } = parseOr400(uploadRequest, req.body);
    if (bytes > uploadMaxBytes)
      throw new HttpProblem('body-too-large', `Uploads are at most ${uploadMaxBytes} bytes.`);
    const chosen = name ?? `${randomUUID()}.${IMAGE_TYPES[contentType]}`;
    const ticket = await withStorage(logger, () =>
      links.upload(chosen, { contentType, contentLength: bytes }),
    );
    const answer: UploadTicket = { key: `uploads/${chosen}`, ...ticket };
    res.status(201).json(answer);
  };
