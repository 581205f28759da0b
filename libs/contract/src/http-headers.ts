/**
 * What a caller may put in an outbound request's headers, the one rule for the enqueue check
 * of an http job (a 400) and for the outbound client itself (`libs/fetch`, a refusal):
 * - a name is an RFC 9110 token; a value holds no control character but tab (CR, LF and NUL
 *   would split the request);
 * - the framing and hop-by-hop headers, and `proxy-*`, are the client's: a caller's version of
 *   them could smuggle a second request or re-route this one.
 */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
export const INVALID_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

export const FRAMING_HEADERS: ReadonlySet<string> = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'upgrade',
  'te',
  'trailer',
  'keep-alive',
  'expect',
]);

/** Whether `name` (any case) is the client's to set, not a caller's. */
export const isFramingHeader = (name: string) => {
  const lower = name.toLowerCase();
  return FRAMING_HEADERS.has(lower) || lower.startsWith('proxy-');
};
