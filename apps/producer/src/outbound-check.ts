import { targetAllowed } from '@errand/fetch';
import { HttpProblem } from '@errand/http';
import { type CallerPolicy, signingSecrets } from '@errand/outbound';
import type { ApiKey } from './api-keys.ts';
import type { Deps } from './deps.ts';
import { withRedis } from './redis-errors.ts';

/**
 * The first of the checks on what Errand will call for a key (an http job's URL, a
 * callbackUrl, a subscription's URL): each must be one of the key's `allowedTargets`. The
 * workers check again on every attempt and every redirect hop, against the targets as they
 * are then (`publishedPolicies`), and refuse private addresses after DNS (`libs/fetch`).
 */
export async function checkOutboundAllowed(
  _deps: Deps,
  caller: ApiKey,
  urls: string[],
): Promise<void> {
  for (const url of new Set(urls)) {
    if (targetAllowed(new URL(url), caller.allowedTargets)) continue;
    const allowed = caller.allowedTargets.map(({ origin, path }) => origin + (path ?? ''));
    throw new HttpProblem(
      'target-not-allowed',
      `The key "${caller.name}" may not have Errand call ${new URL(url).origin}: its allowedTargets are ${
        allowed.length > 0 ? allowed.join(', ') : 'empty'
      }.`,
    );
  }
}

/**
 * Requests Errand makes for a key are signed with the key's secret, which only the key's
 * owner has seen: without one there is nothing the receiver could verify.
 */
export async function requireSigningSecret(deps: Deps, caller: ApiKey): Promise<void> {
  const secrets = await withRedis(deps.redis, () =>
    signingSecrets(deps.redis, deps.prefix).of(caller.name),
  );
  if (secrets.length === 0) {
    throw new HttpProblem(
      'signing-secret-missing',
      `The key "${caller.name}" has no signing secret, which signs the requests Errand makes for it: create one with POST /v1/signing-secret (it is shown once), then send this again.`,
    );
  }
}

/** What the workers check each attempt against: every key's targets, as configured now. */
export const policiesOf = (keys: readonly ApiKey[]): Record<string, CallerPolicy> =>
  Object.fromEntries(
    keys.map((key) => [
      key.name,
      { allowedTargets: key.allowedTargets.map(({ origin, path }) => origin + (path ?? '')) },
    ]),
  );
