/**
 * Signing secrets as Errand keeps them, for an API key (its http jobs and callbacks) or a
 * webhook subscription: the current one first, and during a rotation the previous one until
 * `validUntil`, so a receiver that still checks with the old secret keeps verifying while it
 * changes over (every delivery is signed with each valid secret).
 */
export interface StoredSecret {
  secret: string;
  /** Epoch ms after which this (previous) secret signs no more; none on the current one. */
  validUntil?: number;
}

/** How long the previous secret keeps signing after a rotation. */
export const SECRET_OVERLAP_MS = 24 * 60 * 60 * 1000;

/** The secrets after a rotation to `fresh`: it, and the current one until the overlap ends. */
export function rotated(
  secrets: readonly StoredSecret[],
  fresh: string,
  now: number,
): [StoredSecret, ...StoredSecret[]] {
  const [current] = validSecrets(secrets, now);
  return [
    { secret: fresh },
    ...(current ? [{ secret: current, validUntil: now + SECRET_OVERLAP_MS }] : []),
  ];
}

/** The secrets that sign now, current first. */
export const validSecrets = (secrets: readonly StoredSecret[], now: number): string[] =>
  secrets.filter((s) => s.validUntil === undefined || s.validUntil > now).map((s) => s.secret);

export function parseSecrets(text: string | null | undefined): StoredSecret[] {
  if (!text) return [];
  const parsed = JSON.parse(text) as unknown;
  return Array.isArray(parsed) ? (parsed as StoredSecret[]) : [];
}
