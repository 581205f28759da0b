/**
 * "The same body": JSON with object keys sorted (by UTF-16 code unit, as `sort()` does) and
 * keys whose value is undefined left out, so `{a,b}`, `{b,a}` and `{a,b,c: undefined}` are one
 * value. An Idempotency-Key's record and a schedule's "unchanged, nothing to do" both compare
 * bodies by it. Idempotency fingerprints of it live 48 h: changing the key order would make a
 * retry within them a 422, which `idempotency.fingerprint.test.ts` guards.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .flatMap((key) => {
        const field = (value as Record<string, unknown>)[key];
        return field === undefined ? [] : [`${JSON.stringify(key)}:${canonicalJson(field)}`];
      });
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
