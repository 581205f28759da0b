import { z } from 'zod';

/** Text that ends up in a mail header: CR/LF would let a caller inject headers. */
export const headerSafe = (max: number) =>
  z
    .string()
    .max(max)
    .refine((value) => !/[\r\n]/.test(value), 'must not contain CR or LF characters');

/** One mailbox as a bare address; display names are left to templates. */
export const address = z.email().max(320);

/** One address or a short list of them. */
export const addressList = z.union([address, z.array(address).min(1).max(50)]);
