import type { Granularity } from '@errand/contract';

/**
 * Where analytics live in Redis. Every key of one event name carries the name as its hash
 * tag (`{signup}`), so one script call, which touches only that name's keys, stays in one
 * slot on Redis Cluster. `ingest.lua` builds the same names from `eventBase`; the tests
 * read what it wrote through these functions.
 *
 *   <prefix>:analytics:names                          zset  event name → last arrival (ms)
 *   <prefix>:analytics:{<event>}:count:<g>:<start>    string  events in the bucket
 *   <prefix>:analytics:{<event>}:users:<g>:<start>    HyperLogLog of userId/anonymousId
 *   <prefix>:analytics:{<event>}:top:<prop>:<g>:<start>  zset  value → events
 *   <prefix>:analytics:{<event>}:seen:<generation>    set   event ids of one dedupe generation
 *
 * `<g>` is minute, hour or day; `<start>` the bucket's start in epoch seconds (UTC).
 */
export const analyticsBase = (prefix: string) => `${prefix}:analytics`;

export const namesKey = (prefix: string) => `${analyticsBase(prefix)}:names`;

/** The part every key of one event name starts with, hash tag included. */
export const eventBase = (prefix: string, event: string) => `${analyticsBase(prefix)}:{${event}}:`;

export const countKey = (base: string, g: Granularity, start: number) =>
  `${base}count:${g}:${start}`;
export const usersKey = (base: string, g: Granularity, start: number) =>
  `${base}users:${g}:${start}`;
export const topKey = (base: string, property: string, g: Granularity, start: number) =>
  `${base}top:${property}:${g}:${start}`;
