import type {
  ImageContentType,
  ImageOutput,
  UploadedObject,
  UploadRequest,
  UploadTicket,
} from '@errand/contract';
import { isAbsoluteUrl, type Send } from './send.ts';

/** An image's bytes as the client sends them: a Buffer, any Uint8Array, or a Blob. */
export type UploadBody = Uint8Array | Blob;
type Opts = { signal?: AbortSignal };

const sizeOf = (body: UploadBody) => (body instanceof Blob ? body.size : body.byteLength);

/** A URL the API gave: one of its own paths (`/v1/…`), or an absolute (presigned) one. */
function checkedUrl(url: string): string {
  if (isAbsoluteUrl(url) || url.startsWith('/')) return url;
  throw new TypeError(`"${url.slice(0, 80)}" is neither an absolute URL nor a path of the API`);
}

/**
 * The storage calls of the client: image sources in (`upload`, or `createUpload` then
 * `sendUpload`), outputs out (`download`, `fetchObject`). A URL of the API (relative, as with
 * local storage) is called with the API key; an absolute one (an object store's presigned
 * URL) without it: the signature in the URL is the credential, and the key never leaves for
 * another server. All are repeated on network errors: a PUT again stores the same bytes
 * under the same key, and a ticket only signs.
 */
export function storageCalls(send: Send) {
  /**
   * GET a stored object by a URL the API gave (an output's `url`): the response, to stream
   * its body or read its headers. A relative URL goes to the API with the key (`read`).
   */
  const fetchObject = (url: string, opts: Opts = {}): Promise<Response> =>
    send({ method: 'GET', path: checkedUrl(url), repeatable: true, signal: opts.signal });

  return {
    /** PUT an image through the API as `uploads/<name>` (`enqueue`); name its `key` in `source: { key }`. */
    async upload(
      name: string,
      body: UploadBody,
      contentType: ImageContentType,
      opts: Opts = {},
    ): Promise<UploadedObject> {
      const response = await send({
        method: 'PUT',
        path: `/v1/uploads/${encodeURIComponent(name)}`,
        bytes: body,
        headers: { 'content-type': contentType },
        repeatable: true,
        signal: opts.signal,
      });
      return (await response.json()) as UploadedObject;
    },

    /** Where to PUT an image of this type and size (`enqueue`): a presigned URL, or the API. */
    async createUpload(request: UploadRequest, opts: Opts = {}): Promise<UploadTicket> {
      const response = await send({
        method: 'POST',
        path: '/v1/uploads',
        body: request,
        repeatable: true,
        signal: opts.signal,
      });
      return (await response.json()) as UploadTicket;
    },

    /**
     * Send the bytes where `createUpload`'s ticket says, with exactly its headers: straight to
     * the object store (no API key), or to the API. The body must have the ticket's size.
     */
    async sendUpload(
      ticket: UploadTicket,
      body: UploadBody,
      opts: Opts = {},
    ): Promise<UploadedObject> {
      const declared = ticket.headers['content-length'];
      const bytes = sizeOf(body);
      if (declared !== undefined && Number(declared) !== bytes)
        throw new RangeError(`The body has ${bytes} bytes; the ticket is for ${declared}.`);
      const response = await send({
        method: ticket.method,
        path: checkedUrl(ticket.url),
        bytes: body,
        headers: ticket.headers,
        repeatable: true,
        signal: opts.signal,
      });
      await response.body?.cancel();
      const contentType = (ticket.headers['content-type'] ?? '') as ImageContentType;
      return { key: ticket.key, bytes, contentType };
    },

    /**
     * The bytes of an image job's output, by its `url`. A presigned URL stops working at its
     * `expiresAt` (an `ObjectStoreError`): read the job again (`get`) for a fresh one.
     */
    async download(output: Pick<ImageOutput, 'url'>, opts: Opts = {}): Promise<Uint8Array> {
      const response = await fetchObject(output.url, opts);
      return new Uint8Array(await response.arrayBuffer());
    },

    fetchObject,
  };
}
