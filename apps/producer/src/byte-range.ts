import { HttpProblem } from '@errand/http';
import type { ByteRange } from '@errand/storage';

/**
 * The one byte range a `Range` header asks of an object of `size` bytes (RFC 9110 §14): none
 * when there is no header, or it is not a single `bytes=` range (the whole object is sent);
 * a 416 when the range lies past the end.
 */
export function byteRangeOf(header: string | undefined, size: number): ByteRange | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header?.trim() ?? '');
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  const [first, last] = [match[1] ?? '', match[2] ?? ''];
  let range: ByteRange;
  if (first === '') {
    // the last N bytes
    const suffix = Number(last);
    if (suffix === 0) throw unsatisfiable(size);
    range = { start: Math.max(0, size - suffix), end: size - 1 };
  } else {
    const start = Number(first);
    const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
    if (last !== '' && Number(last) < start) return undefined; // invalid: ignored, as the RFC says
    range = { start, end };
  }
  if (range.start >= size) throw unsatisfiable(size);
  return range;
}

const unsatisfiable = (size: number) =>
  new HttpProblem('range-not-satisfiable', `The object has ${size} bytes.`, {
    headers: { 'content-range': `bytes */${size}` },
  });
