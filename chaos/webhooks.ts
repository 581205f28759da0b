import { type Answer, startWebhookReceiver, verifiedBody } from '@errand/testing';

/** What the receivers answered, by kind, over the whole run. */
export type AnswerKind = 'ok' | '500' | '503' | '429' | 'hang' | '410';

/** How long a hang lasts: longer than the run's WEBHOOK_REQUEST_TIMEOUT_MS, so the worker gives up first. */
export const HANG_MS = 1_500;

/**
 * A 429 holds back every delivery of the subscription for its Retry-After (1 s), so a receiver
 * answers at most one per this long: one in twenty requests would keep a busy subscription
 * held all the time (the full run's first try drained 34 deliveries a second).
 */
const ONE_429_PER_MS = 5_000;

/**
 * The first two attempts of each message draw an answer (about half fail: 500, 503, a 429
 * with `Retry-After: 1`, or a hang past the delivery timeout); from the third it is 200, so
 * every message is delivered within the run's short retry schedule and a lost one means a
 * lost delivery, not a receiver that never said yes.
 */
function flakyAnswer(attempt: number, may429: boolean): { kind: AnswerKind; answer: Answer } {
  if (attempt >= 3) return { kind: 'ok', answer: { status: 200 } };
  const draw = Math.random();
  if (draw < 0.2) return { kind: '500', answer: { status: 500 } };
  if (draw < 0.35 && !may429) return { kind: '503', answer: { status: 503 } };
  if (draw < 0.35) return { kind: '429', answer: { status: 429, headers: { 'retry-after': '1' } } };
  if (draw < 0.45) return { kind: 'hang', answer: { hangMs: HANG_MS } };
  return { kind: 'ok', answer: { status: 200 } };
}

type Event = { type: string; data: { jobId: string } };

/** One request as the receiver took it: its answer, and its body if the signature held. */
export interface Taken {
  at: number;
  webhookId: string;
  /** The status answered; 0 for a hang. */
  status: number;
  /** The body as `standardwebhooks` verified it; undefined when it refused the signature. */
  event: Event | undefined;
}

/**
 * A receiver on a loopback port (an origin) of its own, as each subscriber is a service of its
 * own. It checks each request's signature as it arrives, with the spec's own library, against
 * `secret` (set once the subscription or key has one): `standardwebhooks` refuses a
 * timestamp more than five minutes off, so a check after a long run would refuse the first
 * requests. `flaky` answers as `flakyAnswer` says, counting each message's attempts by its
 * `webhook-id`; `gone` answers 200 to its first `goneAfter` requests, then 410 Gone (the
 * endpoint was removed); `service` (the http jobs' target) answers the status a
 * `/status/<code>` path names, else 200.
 */
export async function startReceiver(
  kind: 'flaky' | 'gone' | 'service',
  answers: Record<AnswerKind, number>,
  goneAfter = 20,
) {
  const attempts = new Map<string, number>();
  const taken: Taken[] = [];
  let last429 = 0;
  const choose = (path: string, webhookId: string, index: number): [AnswerKind, Answer] => {
    if (kind === 'service') {
      const status = path.startsWith('/status/') ? Number(path.slice(8)) : 200;
      return [status === 200 ? 'ok' : '503', { status }];
    }
    if (kind === 'gone')
      return index < goneAfter ? ['ok', { status: 200 }] : ['410', { status: 410 }];
    const attempt = (attempts.get(webhookId) ?? 0) + 1;
    attempts.set(webhookId, attempt);
    const { kind: drawn, answer } = flakyAnswer(attempt, Date.now() - last429 >= ONE_429_PER_MS);
    if (drawn === '429') last429 = Date.now();
    return [drawn, answer];
  };
  const self = {
    secret: '',
    taken,
    ...(await startWebhookReceiver((request, index) => {
      const webhookId = String(request.headers['webhook-id']);
      const [drawn, answer] = choose(request.path, webhookId, index);
      if (kind !== 'service') answers[drawn]++;
      let event: Event | undefined;
      try {
        event = verifiedBody(request, self.secret) as Event;
      } catch {
        event = undefined;
      }
      taken.push({
        at: request.at,
        webhookId,
        status: 'status' in answer ? answer.status : 0,
        event,
      });
      return answer;
    })),
  };
  return self;
}
export type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/** One target a finished job's event should reach: a subscription or the job's callbackUrl. */
export interface Wanted {
  target: string;
  jobId: string;
  type: 'job.completed' | 'job.failed' | 'job.dead';
}

const delivered = (receiver: Receiver) =>
  receiver.taken.filter((t) => t.status >= 200 && t.status < 300);

/** Requests whose signature `standardwebhooks` refused (every attempt, not only the 2xx ones). */
export const invalidOf = (receiver: Receiver) => receiver.taken.filter((t) => !t.event).length;

/** What the judged receivers took, against what was wanted. */
export interface DeliveryOutcome {
  wanted: number;
  /** Verified 2xx answers, and the distinct (target, webhook-id) among them. */
  deliveries: number;
  distinct: number;
  /** Wanted events that no verified 2xx delivery brought. */
  lost: Wanted[];
  /** Verified deliveries nobody wanted: an event of the wrong type, job or target. */
  unwanted: string[];
}

/** Match the verified deliveries of each target to what was wanted, by job id and event type. */
export function judgeDeliveries(
  targets: Record<string, Receiver>,
  wanted: Wanted[],
): DeliveryOutcome {
  let deliveries = 0;
  const distinct = new Set<string>();
  const got = new Set<string>();
  for (const [target, receiver] of Object.entries(targets)) {
    for (const { webhookId, event } of delivered(receiver)) {
      if (!event) continue;
      deliveries++;
      distinct.add(`${target} ${webhookId}`);
      got.add(`${target} ${event.data.jobId} ${event.type}`);
    }
  }
  const keyOf = (w: Wanted) => `${w.target} ${w.jobId} ${w.type}`;
  const wantedKeys = new Set(wanted.map(keyOf));
  return {
    wanted: wanted.length,
    deliveries,
    distinct: distinct.size,
    lost: wanted.filter((w) => !got.has(keyOf(w))),
    unwanted: [...got].filter((key) => !wantedKeys.has(key)),
  };
}
