import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.ts';

describe('canonicalJson', () => {
  it('sorts keys at every depth by UTF-16 code unit, not by locale', () => {
    expect(canonicalJson({ b: 1, a: { y: [{ d: 1, c: 2 }], x: null } })).toBe(
      '{"a":{"x":null,"y":[{"c":2,"d":1}]},"b":1}',
    );
    // "X" (0x58) before "a" (0x61) before "x": localeCompare would say a, X, x.
    expect(canonicalJson({ x: 1, a: 2, X: 3 })).toBe('{"X":3,"a":2,"x":1}');
  });

  it('leaves out keys whose value is undefined, as JSON does, but keeps nulls', () => {
    expect(canonicalJson({ a: 1, b: undefined, c: null })).toBe('{"a":1,"c":null}');
    expect(canonicalJson({ a: 1, b: undefined })).toBe(canonicalJson({ a: 1 }));
  });

  it('keeps the order of arrays, with undefined items as null, as JSON does', () => {
    expect(canonicalJson([3, undefined, 'a'])).toBe(JSON.stringify([3, undefined, 'a']));
    expect(canonicalJson([2, 1])).not.toBe(canonicalJson([1, 2]));
  });

  it('writes scalars as JSON does', () => {
    for (const value of ['é "q"', 0, -1.5, true, null]) {
      expect(canonicalJson(value)).toBe(JSON.stringify(value));
    }
    expect(canonicalJson(undefined)).toBe('null');
  });
});
