import type { RotatedSecret } from '@errand/contract';
import { signingSecrets } from '@errand/outbound';
import type { RequestHandler } from 'express';
import { callerOf } from '../auth.ts';
import type { Deps } from '../deps.ts';
import { withRedis } from '../redis-errors.ts';

/**
 * POST /v1/signing-secret: a new signing secret for the calling key, shown this once. It signs
 * the key's http jobs and its jobs' callbacks; the previous one signs too for another 24 h.
 */
export const rotateSigningSecret =
  ({ redis, prefix, logger }: Deps): RequestHandler =>
  async (_req, res) => {
    const caller = callerOf(res).name;
    const answer: RotatedSecret = await withRedis(redis, () =>
      signingSecrets(redis, prefix).rotate(caller),
    );
    logger.info({ producer: caller }, 'signing secret rotated');
    res.status(201).json(answer);
  };
