import { randomBytes } from 'node:crypto';
import { replayRequest } from '@errand/contract';
import { HttpProblem } from '@errand/http';
import { deliveryJob, readEvents, subscriptionStore, wants } from '@errand/outbound';
import type { RequestHandler } from 'express';
import type { Deps } from '../deps.ts';
import { requireJson } from '../job-type.ts';
import { withRedis } from '../redis-errors.ts';
import { parseOr400 } from '../validation.ts';
import { noWebhook, webhookIdParam } from '../webhook-param.ts';

/**
 * POST /v1/webhooks/{id}/replay: deliver again the logged events of a time range that the
 * subscription wants, one page of the log per call (`cursor` goes on). Each call stamps its
 * deliveries' job ids, so an event is delivered again even while its first delivery job is
 * still kept. A disabled subscription answers 409 until a PUT enables it again.
 */
export const replayWebhook =
  ({ redis, prefix, queues, logger }: Deps): RequestHandler =>
  async (req, res) => {
    const id = webhookIdParam(req);
    requireJson(req);
    const range = parseOr400(replayRequest, req.body);
    const store = subscriptionStore(redis, prefix);
    const [subscription, state] = await withRedis(redis, () =>
      Promise.all([store.get(id), store.state(id)]),
    );
    if (!subscription) throw noWebhook(id);
    if (state.disabled) {
      throw new HttpProblem(
        'webhook-disabled',
        `Webhook "${id}" was disabled (${state.disabled.reason}); PUT it again to enable it, then replay.`,
      );
    }
    const page = await withRedis(redis, () =>
      readEvents(redis, prefix, {
        // Stream ids are ms since 1970: nothing was logged before.
        since: Math.max(0, Date.parse(range.since)),
        until: Math.max(0, range.until === undefined ? Date.now() : Date.parse(range.until)),
        limit: range.limit,
        cursor: range.cursor,
      }),
    );
    const wanted = page.events.filter(({ event }) =>
      wants(subscription, {
        type: event.type,
        jobType: event.data.jobType,
        producer: event.data.producer,
      }),
    );
    // Time first, so stamps sort by replay; random after, so two replays in one ms differ.
    const stamp = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
    if (wanted.length > 0) {
      await withRedis(redis, () =>
        queues.webhook.addBulk(wanted.map((e) => deliveryJob(e, { subscription: id }, stamp))),
      );
    }
    logger.info({ webhook: id, enqueued: wanted.length }, 'webhook replayed');
    res.status(202).json({ enqueued: wanted.length, cursor: page.cursor });
  };
