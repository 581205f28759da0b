import type {
  DeliveryAttempt,
  ReplayAnswer,
  RotatedSecret,
  SubscriptionBody,
  SubscriptionView,
} from '@errand/contract';

/** One API call as the client sends it (see `createClient`). */
interface WebhookCall {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  body?: unknown;
  repeatable: boolean;
  signal?: AbortSignal | undefined;
}

type Send = (call: WebhookCall) => Promise<Response>;
type Opts = { signal?: AbortSignal };

/** `replayWebhook`'s range: ISO times or Dates; `until` is now by default. */
export interface ReplayRange {
  since: Date | string;
  until?: Date | string;
  /** Logged events to read in this page (1 to 1,000; default 100). */
  limit?: number;
  /** The `cursor` of the previous page. */
  cursor?: string;
}

const at = (id: string, tail = '') => `/v1/webhooks/${encodeURIComponent(id)}${tail}`;
const iso = (time: Date | string | undefined) => (time instanceof Date ? time.toISOString() : time);

/**
 * The webhook calls of the client (all `admin`, but `rotateSigningSecret`). A call that shows
 * a secret, or delivers, is not repeated after a network error: a repeat would lose the
 * secret (or rotate twice, or deliver twice). Reads and deletes are.
 */
export function webhookCalls(send: Send) {
  const json = async <R>(call: WebhookCall): Promise<R> => (await (await send(call)).json()) as R;
  return {
    /** Create or replace; `secret` is there on creation only (keep it: it is shown this once). */
    putWebhook(
      id: string,
      body: SubscriptionBody,
      opts: Opts = {},
    ): Promise<SubscriptionView & { secret?: string }> {
      return json({ method: 'PUT', path: at(id), body, repeatable: false, signal: opts.signal });
    },
    getWebhook(id: string, opts: Opts = {}): Promise<SubscriptionView> {
      return json({ method: 'GET', path: at(id), repeatable: true, signal: opts.signal });
    },
    async listWebhooks(opts: Opts = {}): Promise<SubscriptionView[]> {
      const answer = await json<{ webhooks: SubscriptionView[] }>({
        method: 'GET',
        path: '/v1/webhooks',
        repeatable: true,
        signal: opts.signal,
      });
      return answer.webhooks;
    },
    /** Delete a subscription and its delivery log. */
    async deleteWebhook(id: string, opts: Opts = {}): Promise<void> {
      await send({ method: 'DELETE', path: at(id), repeatable: true, signal: opts.signal });
    },
    /** A new secret, shown this once; the previous one signs until `previousValidUntil`. */
    rotateWebhookSecret(id: string, opts: Opts = {}): Promise<RotatedSecret> {
      return json({
        method: 'POST',
        path: at(id, '/rotate-secret'),
        repeatable: false,
        signal: opts.signal,
      });
    },
    /** The last delivery attempts, newest first (`limit` 1 to 100, default 20). */
    async webhookDeliveries(
      id: string,
      limit?: number,
      opts: Opts = {},
    ): Promise<DeliveryAttempt[]> {
      const query = limit === undefined ? '' : `?limit=${limit}`;
      const answer = await json<{ deliveries: DeliveryAttempt[] }>({
        method: 'GET',
        path: at(id, `/deliveries${query}`),
        repeatable: true,
        signal: opts.signal,
      });
      return answer.deliveries;
    },
    /** Deliver again one page of the events of a range; go on with the answered `cursor`. */
    replayWebhook(id: string, range: ReplayRange, opts: Opts = {}): Promise<ReplayAnswer> {
      const body = { ...range, since: iso(range.since), until: iso(range.until) };
      return json({
        method: 'POST',
        path: at(id, '/replay'),
        body,
        repeatable: false,
        signal: opts.signal,
      });
    },
    /** A new signing secret for the calling key (its http jobs and callbacks), shown this once. */
    rotateSigningSecret(opts: Opts = {}): Promise<RotatedSecret> {
      return json({
        method: 'POST',
        path: '/v1/signing-secret',
        repeatable: false,
        signal: opts.signal,
      });
    },
  };
}
