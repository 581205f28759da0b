import type { RedisServerOptions } from '@errand/devservers';
import {
  type Answer,
  type ProducerProcess,
  type ReceivedRequest,
  request,
  startProducerProcess,
  startTestRedis,
  startWebhookReceiver,
  type TestRedis,
} from '@errand/testing';
import { type FleetWorker, startFleet, stopFleet } from './fleet.testkit.ts';

export interface OutboundPlatformOptions {
  prefix: string;
  /** The API key every call of `api` sends; it may call the receiver. */
  key: { name: string; key: string; scopes: string[] };
  /** More keys for API_KEYS, given the receiver's URL. */
  otherKeys?: (receiverUrl: string) => object[];
  answer: (request: Omit<ReceivedRequest, 'status'>, index: number) => Answer;
  /** The worker's settings beside Redis, loopback allowed and a short delivery schedule. */
  workerEnv?: (receiverUrl: string) => Record<string, string>;
  /** A Redis deployed as shipped (the ACL tests). */
  redis?: RedisServerOptions;
}

/**
 * What a test of Errand's outbound calls runs against: a Redis, a producer whose key may call
 * a loopback receiver, one worker allowed to reach loopback (`OUTBOUND_ALLOW_IPS`) serving
 * `WORKER_QUEUES` (http and webhook by default), and the receiver itself.
 */
export async function startOutboundPlatform(options: OutboundPlatformOptions) {
  const redis: TestRedis = await startTestRedis(options.redis);
  const receiver = await startWebhookReceiver((req, index) => options.answer(req, index));
  const env = { REDIS_URL: redis.url, QUEUE_PREFIX: options.prefix };
  let producer: ProducerProcess | undefined;
  let workers: FleetWorker[] = [];
  const stop = async () => {
    await stopFleet(workers);
    await producer?.stop();
    await receiver.close();
    await redis.stop();
  };
  try {
    producer = await startProducerProcess({
      ...env,
      API_KEYS: JSON.stringify([
        { ...options.key, allowedTargets: [receiver.url] },
        ...(options.otherKeys?.(receiver.url) ?? []),
      ]),
    });
    workers = await startFleet(1, {
      ...env,
      WORKER_QUEUES: 'http,webhook',
      OUTBOUND_ALLOW_IPS: '127.0.0.1',
      WEBHOOK_RETRY_SCHEDULE_MS: '0,200,200,300',
      ...options.workerEnv?.(receiver.url),
    });
  } catch (error) {
    await stop();
    throw error;
  }
  const api = producer.api;
  return {
    redis,
    receiver,
    producer,
    workers,
    /** The requests the receiver took at `path`. */
    seen: (path: string) => receiver.received.filter((r) => r.path === path),
    /** A call of the API with the platform's key. */
    api: (path: string, init: Parameters<typeof request>[1] = {}) =>
      request(`${api}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${options.key.key}`, ...init.headers },
      }),
    stop,
  };
}
export type OutboundPlatform = Awaited<ReturnType<typeof startOutboundPlatform>>;
