import { createHash } from 'node:crypto';

/**
 * Where a keyed limiter keeps one key's state. Both keys of one limited key share one hash
 * tag, so each script touches one Redis Cluster slot. The tag is the SHA-1 (hex) of the key,
 * not the key itself: an origin such as `https://api.example.com` holds `:` and may hold `{`
 * or `}`, which would end or start a tag early; 40 hex digits cannot, and keep long keys short.
 *
 *   <prefix>:limit:<name>:{<sha1 of key>}:holders   zset  holder → lease expiry (ms, Redis's clock)
 *   <prefix>:limit:<name>:{<sha1 of key>}:rate      zset  admission → its time (ms): the last window
 */
export interface LimiterKeys {
  holders: string;
  rate: string;
}

export function limiterKeys(prefix: string, name: string, key: string): LimiterKeys {
  const tag = createHash('sha1').update(key).digest('hex');
  const base = `${prefix}:limit:${name}:{${tag}}:`;
  return { holders: `${base}holders`, rate: `${base}rate` };
}

/** A brace before the tag would make Redis hash that instead: a prefix or name may hold none. */
export function assertNoBraces(what: string, value: string): void {
  if (/[{}]/.test(value))
    throw new TypeError(`the limiter's ${what} may not hold { or }: ${value}`);
}
