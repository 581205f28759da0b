import { checkKey, type Storage } from './storage.ts';

/** The API's routes for objects, used where the store gives no URL of its own (local files). */
export const OBJECTS_PATH = '/v1/objects/';
export const UPLOADS_PATH = '/v1/uploads/';
/** Where uploaded sources go: `uploads/<name>`. */
export const UPLOADS_PREFIX = 'uploads/';

/** A URL to read one object: presigned until `expiresAt`, or the API's route (no expiry). */
export interface DownloadLink {
  url: string;
  expiresAt?: string;
}

/** How to send one upload: a PUT of the bytes to `url` with `headers`. */
export interface UploadLink extends DownloadLink {
  method: 'PUT';
  headers: Record<string, string>;
}

/**
 * URLs a caller uses for stored objects. An object store presigns them, for
 * `expirySeconds`; local files are read and written through the API (`/v1/objects/<key>`,
 * `/v1/uploads/<name>`), URLs relative to its base that need an API key.
 */
export function objectLinks(storage: Storage, expirySeconds: number) {
  return {
    async download(key: string): Promise<DownloadLink> {
      const signed = await storage.signedGet(key, expirySeconds);
      if (signed) return { url: signed.url, expiresAt: signed.expiresAt.toISOString() };
      return { url: OBJECTS_PATH + checkKey(key) };
    },
    async upload(
      name: string,
      upload: { contentType: string; contentLength: number },
    ): Promise<UploadLink> {
      const key = UPLOADS_PREFIX + name;
      const headers = {
        'content-type': upload.contentType,
        'content-length': String(upload.contentLength),
      };
      const signed = await storage.signedPut(key, upload, expirySeconds);
      if (signed)
        return {
          method: 'PUT',
          url: signed.url,
          headers,
          expiresAt: signed.expiresAt.toISOString(),
        };
      return {
        method: 'PUT',
        url: UPLOADS_PATH + checkKey(key).slice(UPLOADS_PREFIX.length),
        headers,
      };
    },
  };
}

export type ObjectLinks = ReturnType<typeof objectLinks>;
