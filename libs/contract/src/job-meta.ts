import { z } from 'zod';

/*
 * Per-job metadata: options about a job rather than its payload, sent beside `data` on
 * enqueue (single and batch), kept with the job as one object (`opts.meta`: BullMQ stores job
 * options it does not know as they are) and shown by `GET /v1/jobs/{type}/{id}` as `meta`.
 * A new such option (tenant, tags, trace context) is one more field here; the envelope, the
 * stored form, the job view and the OpenAPI document all follow from this list.
 */

const outboundUrl = z
  .url({ protocol: /^https?$/ })
  .max(2048)
  .refine((url) => !/^[a-z]+:\/\/[^/]*@/i.test(url), 'must not carry a user name or password');

export const jobMetaFields = {
  callbackUrl: outboundUrl.optional().meta({
    description:
      "POST the job's outcome here when it completes or fails for good, signed with the API key's signing secret (Standard Webhooks); must be one of the key's allowed targets",
  }),
};

export const jobMeta = z.strictObject(jobMetaFields).meta({ id: 'JobMeta' });
export type JobMeta = z.output<typeof jobMeta>;

/** The job option under which the metadata is stored. */
export const META_OPTION = 'meta';

const metaFieldNames = Object.keys(jobMetaFields) as (keyof typeof jobMetaFields)[];

/** The metadata fields set in an envelope, or undefined when none is. */
export function metaOf(fields: Partial<Record<keyof typeof jobMetaFields, unknown>>) {
  let meta: Record<string, unknown> | undefined;
  for (const name of metaFieldNames) {
    if (fields[name] === undefined) continue;
    meta ??= {};
    meta[name] = fields[name];
  }
  return meta as JobMeta | undefined;
}

/** The metadata a stored job carries (`{}` for a job without any). */
export const storedMetaOf = (opts: object): JobMeta =>
  ((opts as Record<string, unknown>)[META_OPTION] as JobMeta | undefined) ?? {};

export { outboundUrl };
