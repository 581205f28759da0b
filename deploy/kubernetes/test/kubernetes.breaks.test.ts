import type { IContainer } from 'kubernetes-models/v1/Container';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Manifests, problems, type RuleName, rules } from './kubernetes.rules.ts';
import { build } from './manifests.testkit.ts';
import { placeholderSecrets } from './secrets.testkit.ts';
import { appWorkloads, imageEnv, type Workload } from './workloads.testkit.ts';

/**
 * Each house rule of `kubernetes.rules.ts`, shown to catch what it is for: the single-redis
 * overlay's output, broken on purpose in one place, must make that rule report, so no rule
 * passes by checking nothing.
 */

type Break = (m: Manifests, app: (name: string) => Workload) => void;
const container = (w: Workload) => w.pod.containers[0] as IContainer;

const BREAKS: [RuleName, string, Break][] = [
  [
    'apps',
    'the dashboard Deployment gone',
    (m) => {
      m.objects = m.objects.filter(
        (o) => o.metadata.name !== 'errand-dashboard' || o.kind !== 'Deployment',
      );
    },
  ],
  [
    'hardened',
    'a container that may escalate',
    (_, app) => {
      (container(app('worker')).securityContext ?? {}).allowPrivilegeEscalation = true;
    },
  ],
  [
    'hardened',
    'runAsUser by name only (none)',
    (_, app) => {
      delete app('producer').pod.securityContext?.runAsUser;
    },
  ],
  [
    'hardened',
    'seccomp Unconfined',
    (_, app) => {
      (app('dashboard').pod.securityContext ?? {}).seccompProfile = { type: 'Unconfined' };
    },
  ],
  [
    'resources',
    'no memory limit',
    (_, app) => {
      delete container(app('worker')).resources?.limits?.memory;
    },
  ],
  [
    'probes',
    'readiness on /healthz',
    (_, app) => {
      const probe = container(app('producer')).readinessProbe;
      if (probe?.httpGet) probe.httpGet.path = '/healthz';
    },
  ],
  [
    'probes',
    'the app moved to another port than the probes',
    (m) => {
      const config = m.objects.find((o) => o.metadata.name === 'errand-config');
      (config?.data as Record<string, string>).WORKER_PORT = '4000';
    },
  ],
  [
    'grace',
    'a shutdown deadline past the grace period',
    (m) => {
      const config = m.objects.find((o) => o.metadata.name === 'errand-config');
      (config?.data as Record<string, string>).SHUTDOWN_TIMEOUT_MS = '60000';
    },
  ],
  [
    'grace',
    'a preStop sleep eating the grace period',
    (_, app) => {
      container(app('worker')).lifecycle = { preStop: { exec: { command: ['sleep', '20'] } } };
    },
  ],
  [
    'settings',
    'an invalid setting in the ConfigMap',
    (m) => {
      const config = m.objects.find((o) => o.metadata.name === 'errand-config');
      (config?.data as Record<string, string>).QUEUE_PREFIX = 'errand{x}';
    },
  ],
  [
    'volumes',
    'a mount of no volume',
    (_, app) => {
      container(app('producer')).volumeMounts?.push({ name: 'cache', mountPath: '/cache' });
    },
  ],
  [
    'images',
    'an image on latest',
    (_, app) => {
      container(app('dashboard')).image = 'errand-dashboard:latest';
    },
  ],
  [
    'images',
    'an image without a tag',
    (_, app) => {
      container(app('dashboard')).image = 'registry.example.com:5000/errand-dashboard';
    },
  ],
  [
    'secrets',
    'a password as a literal',
    (_, app) => {
      container(app('worker')).env = [{ name: 'REDIS_PASSWORD', value: 'hunter2hunter2' }];
    },
  ],
  [
    'secrets',
    'a Secret in the output',
    (m) => {
      m.objects.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'errand-secrets' } });
    },
  ],
  [
    'networkPolicies',
    'the policies gone',
    (m) => {
      m.objects = m.objects.filter((o) => o.kind !== 'NetworkPolicy');
    },
  ],
  [
    'disruptionBudgets',
    'the worker’s budget gone',
    (m) => {
      m.objects = m.objects.filter(
        (o) => o.kind !== 'PodDisruptionBudget' || o.metadata.name !== 'errand-worker',
      );
    },
  ],
];

describe('each house rule catches a manifest broken on purpose', () => {
  let pristine: Manifests;
  beforeAll(async () => {
    const { secrets } = await placeholderSecrets('single-redis');
    pristine = {
      overlay: 'single-redis',
      objects: await build('single-redis'),
      image: await imageEnv(),
      secrets,
    };
  });

  it('finds nothing wrong in the unbroken overlay', () => {
    for (const name of Object.keys(rules) as RuleName[])
      expect(problems(pristine, name), name).toEqual([]);
  });

  it('has a break for every rule', () => {
    expect(new Set(BREAKS.map(([rule]) => rule))).toEqual(new Set(Object.keys(rules)));
  });

  it.each(BREAKS)('%s: %s', (rule, _what, breakIt) => {
    const m = structuredClone(pristine);
    const app = (name: string) => {
      const found = appWorkloads(m.objects).find((w) => w.component === name);
      if (!found) throw new Error(`no ${name}`);
      return found;
    };
    breakIt(m, app);
    expect(problems(m, rule).length, `${rule} reports nothing`).toBeGreaterThan(0);
  });
});
