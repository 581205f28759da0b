import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RedisServer } from '@errand/devservers';
import { Redis } from 'ioredis';

/** A number field of an INFO section (`master_repl_offset:1234`). */
const infoField = (info: string, name: string) =>
  Number(new RegExp(`^${name}:(-?\\d+)`, 'm').exec(info)?.[1]);

/** The primary's replication offset, and when the INFO that read it was sent (`performance.now()`). */
export interface OffsetSample {
  at: number;
  offset: number;
}

/** What each data node had of the replication stream right before the kill. */
export interface BeforeKill {
  primary: number;
  /** Each replica's own offset (`slave_repl_offset`), by port. */
  replicas: Map<number, number>;
}

/**
 * Read the primary's `master_repl_offset` every `everyMs` over a connection of its own, until
 * `stop`, which takes one last reading of each replica (from the replica itself, not from the
 * primary's view, which replicas update only once a second) and then of the primary. A write
 * whose reply arrived before a sample was sent is within that sample's offset: that is what
 * lets `replicatedUntil` date the replication window.
 */
export function sampleOffsets(
  primary: RedisServer,
  replicas: readonly RedisServer[],
  everyMs = 10,
) {
  const connect = (node: RedisServer) => {
    const client = new Redis(node.url, {
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      disableClientInfo: true,
    });
    client.on('error', () => {});
    return client;
  };
  const toPrimary = connect(primary);
  const toReplicas = replicas.map(connect);
  const samples: OffsetSample[] = [];
  const read = async () => {
    const at = performance.now();
    const offset = infoField(await toPrimary.info('replication'), 'master_repl_offset');
    samples.push({ at, offset });
    return offset;
  };
  let stopped = false;
  const sampling = (async () => {
    while (!stopped) {
      await read();
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    samples,
    /** The replicas' offsets, then the primary's: the kill should follow at once. */
    async stop(): Promise<BeforeKill> {
      stopped = true;
      await sampling;
      const held = await Promise.all(
        toReplicas.map(async (client) =>
          infoField(await client.info('replication'), 'slave_repl_offset'),
        ),
      );
      const offset = await read();
      for (const client of [toPrimary, ...toReplicas]) client.disconnect();
      return {
        primary: offset,
        replicas: new Map(replicas.map((replica, i) => [replica.port, held[i] as number])),
      };
    },
  };
}

/**
 * How much of the old primary's replication stream the promoted replica held: a promotion
 * keeps the old history's id as `replid2`, valid up to `second_repl_offset` − 1, which is
 * exactly where the replica was when its primary died.
 */
export async function promotedHolding(promoted: RedisServer): Promise<number> {
  const info = String(await promoted.command('INFO', 'replication'));
  const next = infoField(info, 'second_repl_offset');
  if (!(next > 0)) throw new Error(`the promoted node shows no second_repl_offset:\n${info}`);
  return next - 1;
}

/**
 * The last moment the promoted replica is known to have held every write the primary had
 * acknowledged: the latest sample whose offset it reached. A write acknowledged before then
 * survived the failover; one acknowledged later may not have. Undefined when no sample was
 * reached (then nothing can be put down to replication).
 */
export function replicatedUntil(samples: OffsetSample[], held: number): number | undefined {
  return samples.filter((sample) => sample.offset <= held).at(-1)?.at;
}

/**
 * Which of `ids` stand in a node's AOF files (`appendonlydir`): under `appendfsync always` a
 * write the node acknowledged is on disk before its reply, so a job id found there was taken
 * by that node. The files are searched as bytes for the id, not for any key name.
 */
export async function inAof(node: RedisServer, ids: string[]): Promise<Set<string>> {
  const dir = join(node.dir, 'appendonlydir');
  const files = (await readdir(dir)).filter((name) => name.endsWith('.aof'));
  const text = (await Promise.all(files.map((name) => readFile(join(dir, name), 'latin1')))).join(
    '',
  );
  // An id, not the start of a longer one (`idem-<hash>` and `idem-<hash>-2`).
  const found = (id: string) =>
    new RegExp(`${id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w-])`).test(text);
  return new Set(ids.filter(found));
}

/** A Sentinel event (`+switch-master`, `+odown`, `+elected-leader`…) as one sentinel published it. */
export interface SentinelEvent {
  at: number;
  sentinel: number;
  channel: string;
  message: string;
}

/**
 * Every event the sentinels publish, from now until `stop`: how many times they switched the
 * primary, and what led there. (A second `+switch-master` would hand the primary to a node
 * that had not taken the first new primary's writes.)
 */
export function watchSentinels(sentinels: readonly { host: string; port: number }[]) {
  const events: SentinelEvent[] = [];
  const clients = sentinels.map(({ host, port }) => {
    const client = new Redis({ host, port, disableClientInfo: true });
    client.on('error', () => {});
    client.on('pmessage', (_pattern: string, channel: string, message: string) => {
      events.push({ at: performance.now(), sentinel: port, channel, message });
    });
    return client;
  });
  return {
    events,
    ready: Promise.all(clients.map((client) => client.psubscribe('*'))),
    stop() {
      for (const client of clients) client.disconnect();
    },
  };
}
