import { type SubscriptionView, subscriptionId } from '@errand/contract';
import { HttpProblem } from '@errand/http';
import type { Subscription, SubscriptionState } from '@errand/outbound';
import type { Request } from 'express';

/** The `{id}` path segment of a webhook route, or a 400 that says what ids look like (as schedules). */
export function webhookIdParam(req: Request): string {
  const parsed = subscriptionId.safeParse(req.params.id);
  if (parsed.success) return parsed.data;
  const message = parsed.error.issues[0]?.message ?? 'invalid id';
  throw new HttpProblem('invalid-parameter', 'Invalid parameters: id.', {
    errors: [{ path: 'id', message }],
  });
}

export const noWebhook = (id: string) =>
  new HttpProblem('webhook-not-found', `No webhook subscription has id "${id}".`);

/** A subscription as the API shows it: never its secrets. */
export function viewOf(subscription: Subscription, state: SubscriptionState): SubscriptionView {
  return {
    id: subscription.id,
    url: subscription.url,
    events: subscription.events,
    types: subscription.types ?? null,
    producers: subscription.producers ?? null,
    description: subscription.description ?? null,
    owner: subscription.owner,
    createdAt: subscription.createdAt,
    updatedAt: subscription.updatedAt,
    status: state.disabled ? 'disabled' : 'enabled',
    disabled: state.disabled ?? null,
    failingSince:
      state.failingSince === undefined ? null : new Date(state.failingSince).toISOString(),
  };
}
