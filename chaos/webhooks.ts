import { type Answer, type ReceivedRequest, startWebhookReceiver } from '@errand/testing';

/** What the flaky receivers answered, by kind, over the whole run. */
export type AnswerKind = 'ok' | '500' | '503' | '429' | 'hang' | '410';

/** How long a hang lasts: longer than the run's WEBHOOK_REQUEST_TIMEOUT_MS, so the worker gives up first. */
export const HANG_MS = 1_500;

/**
 * The first two attempts of each message draw an answer (about half fail: 500, 503, a 429
 * with `Retry-After: 1`, or a hang past the delivery timeout); from the third it is 200, so
 * every message is delivered within the run's short retry schedule and a lost one means a
 * lost delivery, not a receiver that never said yes.
 */
function flakyAnswer(attempt: number): { kind: AnswerKind; answer: Answer } {
  if (attempt >= 3) return { kind: 'ok', answer: { status: 200 } };
  const draw = Math.random();
  if (draw < 0.2) return { kind: '500', answer: { status: 500 } };
  if (draw < 0.3) return { kind: '503', answer: { status: 503 } };
  if (draw < 0.35) return { kind: '429', answer: { status: 429, headers: { 'retry-after': '1' } } };
  if (draw < 0.45) return { kind: 'hang', answer: { hangMs: HANG_MS } };
  return { kind: 'ok', answer: { status: 200 } };
}

export type Receiver = Awaited<ReturnType<typeof startWebhookReceiver>>;

/**
 * A receiver of webhook deliveries on a loopback port (an origin) of its own, as each
 * subscriber is a service of its own: `flaky` answers as `flakyAnswer` says, counting each
 * message's attempts by its `webhook-id`; `gone` answers 200 to its first `goneAfter`
 * requests, then 410 Gone to every one (the endpoint was removed).
 */
export async function startReceiver(
  kind: 'flaky' | 'gone',
  answers: Record<AnswerKind, number>,
  goneAfter = 20,
): Promise<Receiver> {
  const attempts = new Map<string, number>();
  return startWebhookReceiver((request, index) => {
    if (kind === 'gone') {
      const kindOf: AnswerKind = index < goneAfter ? 'ok' : '410';
      answers[kindOf]++;
      return { status: kindOf === 'ok' ? 200 : 410 };
    }
    const id = String(request.headers['webhook-id']);
    const attempt = (attempts.get(id) ?? 0) + 1;
    attempts.set(id, attempt);
    const { kind: drawn, answer } = flakyAnswer(attempt);
    answers[drawn]++;
    return answer;
  });
}

/** The 2xx answers a receiver gave, i.e. the deliveries it took. */
export const delivered = (receiver: Receiver): ReceivedRequest[] =>
  receiver.received.filter((r) => r.status >= 200 && r.status < 300);

export const webhookIdOf = (request: ReceivedRequest) => String(request.headers['webhook-id']);

/** One target a finished job's event should reach: a subscription or the job's callbackUrl. */
export interface Wanted {
  target: string;
  jobId: string;
  type: 'job.completed' | 'job.failed' | 'job.dead';
}

type Verify = (request: ReceivedRequest, secret: string) => unknown;
type Event = { type: string; data: { jobId: string } };

/**
 * Every request a receiver took, its signature checked with `secret` by the spec's own
 * library (`verify`: every attempt, not only the 2xx ones): how many it refused, and the
 * verified 2xx deliveries with their events.
 */
export function checkSignatures(receiver: Receiver, secret: string, verify: Verify) {
  let invalid = 0;
  const deliveries: { request: ReceivedRequest; event: Event }[] = [];
  for (const request of receiver.received) {
    let event: Event;
    try {
      event = verify(request, secret) as Event;
    } catch {
      invalid++;
      continue;
    }
    if (request.status >= 200 && request.status < 300) deliveries.push({ request, event });
  }
  return { invalid, checked: receiver.received.length, deliveries };
}

/** What the judged receivers took, against what was wanted. */
export interface DeliveryOutcome {
  wanted: number;
  /** Verified 2xx answers, and the distinct (target, webhook-id) among them. */
  deliveries: number;
  distinct: number;
  /** Wanted events that no verified 2xx delivery brought. */
  lost: Wanted[];
  invalid: number;
  checked: number;
  /** Verified deliveries nobody wanted: an event of the wrong type, job or target. */
  unwanted: string[];
}

/** Match the verified deliveries of each target to what was wanted, by job id and event type. */
export function judgeDeliveries(
  targets: Record<string, { receiver: Receiver; secret: string }>,
  wanted: Wanted[],
  verify: Verify,
): DeliveryOutcome {
  const outcome = { invalid: 0, checked: 0, deliveries: 0 };
  const distinct = new Set<string>();
  const got = new Set<string>();
  for (const [target, { receiver, secret }] of Object.entries(targets)) {
    const checked = checkSignatures(receiver, secret, verify);
    outcome.invalid += checked.invalid;
    outcome.checked += checked.checked;
    outcome.deliveries += checked.deliveries.length;
    for (const { request, event } of checked.deliveries) {
      distinct.add(`${target} ${webhookIdOf(request)}`);
      got.add(`${target} ${event.data.jobId} ${event.type}`);
    }
  }
  const keyOf = (w: Wanted) => `${w.target} ${w.jobId} ${w.type}`;
  const wantedKeys = new Set(wanted.map(keyOf));
  return {
    ...outcome,
    wanted: wanted.length,
    distinct: distinct.size,
    lost: wanted.filter((w) => !got.has(keyOf(w))),
    unwanted: [...got].filter((key) => !wantedKeys.has(key)),
  };
}
