/** `?a=1&b=2` of the params given (undefined ones left out), or '' when none is. */
export const queryString = (params: Record<string, string | undefined>) => {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params))
    if (value !== undefined) search.set(name, value);
  const text = search.toString();
  return text ? `?${text}` : '';
};

/** A time as the API takes it: a Date as its ISO string, a string as it is. */
export const isoOf = (time: Date | string | undefined) =>
  time instanceof Date ? time.toISOString() : time;

export const numberOf = (n: number | undefined) => (n === undefined ? undefined : String(n));
