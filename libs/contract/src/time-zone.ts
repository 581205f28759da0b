import { z } from 'zod';

const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+){0,2}$/;

/** Whether the runtime's time-zone database knows `name` (e.g. "Europe/Berlin", "UTC"). */
export function isTimeZone(name: string): boolean {
  if (!ZONE_NAME.test(name) || name.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** An IANA time-zone name; offsets such as "+02:00" are not zones (they know no DST). */
export const timeZone = z
  .string()
  .max(64)
  .refine(isTimeZone, 'expected an IANA time zone such as "UTC" or "Europe/Berlin"');
