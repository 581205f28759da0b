import { SCHEDULE_HISTORY_LENGTH, type ScheduleBody, type ScheduleRun } from '@errand/contract';
import type { RedisClient } from '@errand/redis';

/** Where a schedule was written: the schedules file or the API. Neither touches the other's. */
export type ScheduleSource = 'file' | 'api';

/** A schedule as kept in Redis: its definition and its state. */
export interface ScheduleRecord {
  id: string;
  definition: ScheduleBody;
  source: ScheduleSource;
  paused: boolean;
  /** Fires it had when its scheduler was last removed (paused): `limit` counts on from it. */
  fired?: number;
  createdAt: string;
  updatedAt: string;
}

/**
 * Redis layout of schedules, under the queue prefix:
 * - `<prefix>:schedules`: a hash, schedule id → its record (JSON);
 * - `<prefix>:schedule:{<id>}:runs`: its last runs, newest first (a capped list);
 * - `<prefix>:schedule:{<id>}:running`: the job running it now, for `overlap: skip`.
 * BullMQ keeps the job scheduler itself (next fire, iteration count) in the job type's queue.
 */
export function scheduleKeys(prefix: string) {
  return {
    records: `${prefix}:schedules`,
    runs: (id: string) => `${prefix}:schedule:{${id}}:runs`,
    running: (id: string) => `${prefix}:schedule:{${id}}:running`,
    /** Held by whoever writes schedules: the API, or a worker reconciling the file. */
    lock: `${prefix}:schedules:lock`,
  };
}

export function makeScheduleStore(redis: RedisClient, prefix: string) {
  const keys = scheduleKeys(prefix);
  const parse = (json: string | null) => (json ? (JSON.parse(json) as ScheduleRecord) : undefined);
  return {
    keys,
    async get(id: string): Promise<ScheduleRecord | undefined> {
      return parse(await redis.hget(keys.records, id));
    },
    async all(): Promise<ScheduleRecord[]> {
      const records = Object.values(await redis.hgetall(keys.records)).map(
        (json) => JSON.parse(json) as ScheduleRecord,
      );
      return records.sort((a, b) => a.id.localeCompare(b.id));
    },
    async save(record: ScheduleRecord): Promise<void> {
      await redis.hset(keys.records, record.id, JSON.stringify(record));
    },
    /**
     * Not one MULTI: the record and the schedule's own keys are in different slots on a
     * Cluster. Its history goes first, so a crash in between leaves the record, which the
     * next delete (or the reconcile, for a file schedule) removes, never a stray history.
     */
    async delete(id: string): Promise<void> {
      await redis.del(keys.runs(id), keys.running(id));
      await redis.hdel(keys.records, id);
    },
    /** Note one run (newest first), keeping the last SCHEDULE_HISTORY_LENGTH. */
    async recordRun(id: string, run: ScheduleRun): Promise<void> {
      await redis
        .multi()
        .lpush(keys.runs(id), JSON.stringify(run))
        .ltrim(keys.runs(id), 0, SCHEDULE_HISTORY_LENGTH - 1)
        .exec();
    },
    async history(id: string, count = SCHEDULE_HISTORY_LENGTH): Promise<ScheduleRun[]> {
      const runs = await redis.lrange(keys.runs(id), 0, count - 1);
      return runs.map((json) => JSON.parse(json) as ScheduleRun);
    },
  };
}

export type ScheduleStore = ReturnType<typeof makeScheduleStore>;
