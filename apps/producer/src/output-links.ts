import type { ImageResult, JobType } from '@errand/contract';
import type { Logger } from '@errand/observability';
import type { ObjectLinks } from '@errand/storage';
import type { Queue } from 'bullmq';
import { readJob } from './job-view.ts';

const isImageResult = (result: unknown): result is ImageResult =>
  typeof result === 'object' &&
  result !== null &&
  Array.isArray((result as ImageResult).outputs) &&
  (result as ImageResult).outputs.every((output) => typeof output?.key === 'string');

/**
 * An image job's result with each output's `url` signed afresh (a presigned URL made when the
 * job ended may have expired). Signing needs no request to the store; should it fail anyway,
 * the result goes out as stored.
 */
export async function withFreshLinks(
  result: unknown,
  links: ObjectLinks,
  logger: Logger,
): Promise<unknown> {
  if (!isImageResult(result)) return result;
  try {
    const outputs = await Promise.all(
      result.outputs.map(async (output) => {
        const { expiresAt: _, ...rest } = output;
        return { ...rest, ...(await links.download(output.key)) };
      }),
    );
    return { ...result, outputs };
  } catch (error) {
    logger.warn({ err: (error as Error).message }, 'could not sign output URLs');
    return result;
  }
}

/**
 * `readJob`, with an image job's output URLs signed now: what `GET /v1/jobs/{type}/{id}` and
 * the job's event stream show.
 */
export async function readJobWithLinks(
  queue: Queue,
  type: JobType,
  id: string,
  { links, logger }: { links: ObjectLinks; logger: Logger },
) {
  const view = await readJob(queue, type, id);
  if (view && type === 'image') view.result = await withFreshLinks(view.result, links, logger);
  return view;
}
