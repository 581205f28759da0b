import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Password hashes in the users file: scrypt from node:crypto, stored as
 * `scrypt$<N>$<r>$<p>$<salt>$<hash>` (base64url), so the cost can rise later without
 * invalidating the hashes already written.
 */
const COST = { N: 2 ** 15, r: 8, p: 1 } as const;
const KEY_BYTES = 32;
/** Longer passwords are refused before any hashing: scrypt's cost must not be the caller's to pick. */
export const MAX_PASSWORD_LENGTH = 1_024;
export const MIN_PASSWORD_LENGTH = 12;

const derive = (password: string, salt: Buffer, cost: { N: number; r: number; p: number }) =>
  new Promise<Buffer>((resolve, reject) => {
    const options: ScryptOptions = { ...cost, maxmem: 256 * cost.N * cost.r };
    scrypt(password.normalize('NFC'), salt, KEY_BYTES, options, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, COST);
  return [
    'scrypt',
    COST.N,
    COST.r,
    COST.p,
    salt.toString('base64url'),
    key.toString('base64url'),
  ].join('$');
}

const HASH =
  /^scrypt\$(\d{1,8})\$(\d{1,3})\$(\d{1,3})\$([A-Za-z0-9_-]{16,64})\$([A-Za-z0-9_-]{32,128})$/;

/** A cost scrypt accepts and a login can afford: N a power of two up to 2^20, small r and p. */
const sensibleCost = ({ N, r, p }: { N: number; r: number; p: number }) =>
  N >= 2 && N <= 2 ** 20 && (N & (N - 1)) === 0 && r >= 1 && r <= 32 && p >= 1 && p <= 16;

/** Whether `value` has the shape of a hash `hashPassword` writes (checked when the file is read). */
export const isPasswordHash = (value: string) => {
  const match = HASH.exec(value);
  return !!match && sensibleCost({ N: Number(match[1]), r: Number(match[2]), p: Number(match[3]) });
};

/** Whether `password` matches `hash`, in constant time. A hash of another shape never matches. */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const match = HASH.exec(hash);
  if (!match || password.length > MAX_PASSWORD_LENGTH) return false;
  const [, n, r, p, salt, expected] = match;
  const want = Buffer.from(expected ?? '', 'base64url');
  const cost = { N: Number(n), r: Number(r), p: Number(p) };
  if (!sensibleCost(cost)) return false; // a hand-edited or hostile file
  try {
    const key = await derive(password, Buffer.from(salt ?? '', 'base64url'), cost);
    return key.length === want.length && timingSafeEqual(key, want);
  } catch {
    return false;
  }
}

/** A hash of nothing anyone knows: verified against when the user does not exist, so that
 * an unknown name takes as long to refuse as a wrong password. */
export const decoyHash = await hashPassword(randomBytes(16).toString('base64url'));

/** A random password for a new user (about 128 bits). */
export const randomPassword = () => randomBytes(16).toString('base64url');
