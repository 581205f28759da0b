import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type BenchProcess, ROOT, startProcess } from './processes.ts';

/**
 * The peer of the enqueue case: bullmq-proxy, taskforcesh's HTTP front end for BullMQ
 * (`Bun.serve`, typebox validation, `addBulk` per request, bearer tokens), run where a
 * checkout of it is at BENCH_PEER_BULLMQ_PROXY with its dependencies installed
 * (docs/performance.md says how). It is not on npm, so CI and a fresh clone run without it.
 */
export const PEER_DIR = process.env.BENCH_PEER_BULLMQ_PROXY;
export const PEER_TOKEN = 'bench-peer-token-0123456789';
const BUN = join(ROOT, 'node_modules', '.bin', 'bun');

/** Whether the peer can run here; a directory that is not a checkout with dependencies is an error. */
export function peerAvailable(): boolean {
  if (!PEER_DIR) return false;
  for (const path of ['src/index.ts', 'node_modules/bullmq']) {
    if (!existsSync(join(PEER_DIR, path))) {
      throw new Error(
        `BENCH_PEER_BULLMQ_PROXY=${PEER_DIR} has no ${path}: see docs/performance.md`,
      );
    }
  }
  return true;
}

/** The peer on `port`, its queues under `prefix` (`<prefix>:<queue>:…`), on the run's Redis. */
export function startPeer(options: {
  redisUrl: string;
  prefix: string;
  port: number;
  logFile: string;
}): Promise<BenchProcess> {
  const redis = new URL(options.redisUrl);
  return startProcess(
    join(PEER_DIR ?? '', 'src', 'index.ts'),
    {
      REDIS_HOST: redis.hostname,
      REDIS_PORT: redis.port,
      PORT: String(options.port),
      AUTH_TOKENS: PEER_TOKEN,
      QUEUE_PREFIX: options.prefix,
    },
    options.logFile,
    'Running BullMQ Proxy',
    [],
    BUN,
  );
}
