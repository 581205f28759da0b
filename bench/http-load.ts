import autocannon from 'autocannon';
import { BENCH_API_KEY } from './processes.ts';

/** One stream of a load: `connections` each keeping a POST of `body` to `url` in flight. */
export interface PostStream {
  url: string;
  connections: number;
  body: string;
  /** The bearer token; the bench's API key by default. */
  token?: string;
}

/** What a load got: 2xx answers in all and per stream, failures, seconds, and latency. */
export interface LoadResult {
  ok: number;
  /** The 2xx of each stream, in the order the streams were given. */
  okOf: number[];
  /** Answers other than 2xx, errors and timeouts, of every stream. */
  failed: number;
  took: number;
  /** The first stream's latency (ms): the streams share the machine, so they differ little. */
  latency: autocannon.Histogram | undefined;
}

/** Every stream at once for `seconds`, by autocannon in this process, with the bench's API key. */
export async function postLoad(
  streams: readonly PostStream[],
  seconds: number,
): Promise<LoadResult> {
  const results = await Promise.all(
    streams.map(({ url, connections, body, token = BENCH_API_KEY }) =>
      autocannon({
        url,
        method: 'POST',
        connections,
        duration: seconds,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body,
      }),
    ),
  );
  const okOf = results.map((r) => r['2xx']);
  return {
    ok: okOf.reduce((sum, ok) => sum + ok, 0),
    okOf,
    failed: results.reduce((sum, r) => sum + r.non2xx + r.errors + r.timeouts, 0),
    took: Math.max(...results.map((r) => r.duration)),
    latency: results[0]?.latency,
  };
}
