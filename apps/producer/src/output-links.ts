import type { ImageResult } from '@errand/contract';
import type { Logger } from '@errand/observability';
import type { ObjectLinks } from '@errand/storage';

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
