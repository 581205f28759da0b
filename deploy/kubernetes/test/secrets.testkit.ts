import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT } from './manifests.testkit.ts';
import { APP_SECRET } from './workloads.testkit.ts';

/**
 * The Secrets the manifests reference and never hold, filled with placeholders of the keys
 * docs/kubernetes.md tells an operator to put in them, so that the apps' settings can be read
 * as a cluster would start them.
 */

export const KUBERNETES_DOC = join(ROOT, 'docs', 'kubernetes.md');

/** Values the apps' loaders accept; any other key gets a plain placeholder. */
const PLACEHOLDERS: Record<string, string> = {
  REDIS_URL: 'redis://errand:placeholder-password@errand-redis:6379',
  API_KEYS: JSON.stringify([
    { name: 'placeholder', key: 'placeholder-key-0123456789', scopes: ['enqueue', 'read'] },
  ]),
  SMTP_URL: 'smtps://user:placeholder@smtp.example.com:465',
};

/**
 * The keys of `errand-secrets` as docs/kubernetes.md documents them: the `--from-literal=KEY=`
 * of its `kubectl create secret generic errand-secrets` command, changed for an overlay by the
 * sentence "With the <overlay> overlay, `errand-secrets` holds `A`, `B` … instead of `C`".
 */
export function documentedSecretKeys(doc: string, overlay: string): string[] {
  const command = new RegExp(
    `create secret generic ${APP_SECRET}((?:[^\\n]*\\\\\\n)*[^\\n]*)`,
  ).exec(doc)?.[1];
  if (!command) throw new Error(`docs/kubernetes.md shows no command creating ${APP_SECRET}`);
  const keys = [...command.matchAll(/--from-literal=([A-Z][A-Z0-9_]*)=/g)].map(
    (m) => m[1] as string,
  );
  const instead = new RegExp(
    `With the ${overlay} overlay, \`${APP_SECRET}\` holds ([\\s\\S]*?) instead of \`([A-Z0-9_]+)\``,
  ).exec(doc);
  if (!instead) return keys;
  const added = [...(instead[1] as string).matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map(
    (m) => m[1] as string,
  );
  return [...keys.filter((key) => key !== instead[2]), ...added];
}

/** Placeholder Secrets: `errand-secrets` with the documented keys of `overlay`. */
export async function placeholderSecrets(overlay: string) {
  const keys = documentedSecretKeys(await readFile(KUBERNETES_DOC, 'utf8'), overlay);
  const values = Object.fromEntries(
    keys.map((key) => [key, PLACEHOLDERS[key] ?? `placeholder-${key.toLowerCase()}`]),
  );
  return { keys, secrets: { [APP_SECRET]: values } };
}
