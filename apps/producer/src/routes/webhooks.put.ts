import { jobs, jobTypes, subscriptionBody } from '@errand/contract';
import { subscriptionStore } from '@errand/outbound';
import type { RequestHandler } from 'express';
import { callerOf } from '../auth.ts';
import type { Deps } from '../deps.ts';
import { requireJson } from '../job-type.ts';
import { checkOutboundAllowed } from '../outbound-check.ts';
import { withRedis } from '../redis-errors.ts';
import { parseOr400 } from '../validation.ts';
import { viewOf, webhookIdParam } from '../webhook-param.ts';

/** The job types a subscription may follow: not those only Errand makes (its own deliveries). */
const followable = jobTypes.filter((type) => jobs[type].enqueueScope !== 'none') as string[];

const body = subscriptionBody.superRefine(({ types }, ctx) => {
  types?.forEach((type, i) => {
    if (followable.includes(type)) return;
    ctx.addIssue({
      code: 'custom',
      path: ['types', i],
      message: `not a job type a webhook can follow; those are ${followable.join(', ')}`,
    });
  });
});

/**
 * PUT /v1/webhooks/{id}: create (201, with the signing secret, shown this once) or replace
 * (200, the secret kept). Writing it clears what deliveries found: this is how a disabled
 * subscription is enabled again. The URL must be one of the calling key's allowed targets.
 */
export const putWebhook =
  (deps: Deps): RequestHandler =>
  async (req, res) => {
    const { redis, prefix, logger } = deps;
    const id = webhookIdParam(req);
    requireJson(req);
    const definition = parseOr400(body, req.body);
    await checkOutboundAllowed(deps, callerOf(res), [definition.url]);
    const { subscription, created, secret } = await withRedis(redis, () =>
      subscriptionStore(redis, prefix).put(id, definition, callerOf(res).name),
    );
    logger.info({ webhook: id, created }, 'webhook written');
    const view = viewOf(subscription, {});
    res
      .status(created ? 201 : 200)
      .location(`/v1/webhooks/${id}`)
      .json(created ? { ...view, secret } : view);
  };
