import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import type { K8sObject } from './manifests.testkit.ts';
import {
  APPS,
  type App,
  appWorkloads,
  CLOSE_MARGIN_S,
  containerEnv,
  containersOf,
  preStopSeconds,
  SECRET_NAME,
  selects,
  settingsOf,
  type Workload,
  where,
  workloads,
} from './workloads.testkit.ts';

/** An overlay as built, with what the rules read beside it. */
export interface Manifests {
  overlay: string;
  objects: K8sObject[];
  /** Each app image's ENV (the Dockerfile stage). */
  image: Record<App, Record<string, string>>;
  /** Placeholder values of the keys each referenced Secret is documented to hold. */
  secrets: Record<string, Record<string, string>>;
}

/** A house rule: the problems it finds in an overlay's output, none when the manifests keep it. */
export interface Rule {
  title: string;
  check(m: Manifests): Iterable<string>;
}

/** Each app container with the settings its own loader reads from the container's environment. */
function* appContainers(m: Manifests) {
  for (const w of appWorkloads(m.objects)) {
    const app = w.component as App;
    for (const container of w.pod.containers) {
      const env = containerEnv(m.objects, container, m.image[app], m.secrets);
      yield { w, app, container, env, settings: settingsOf(app, env) };
    }
  }
}

/** The container port a probe's `port` (a number or a port name) comes to. */
const probePort = (container: IContainer, probe: IProbe | undefined) => {
  const port = probe?.httpGet?.port;
  return typeof port === 'number'
    ? port
    : container.ports?.find((p) => p.name === port)?.containerPort;
};

export const rules = {
  apps: {
    title: 'each app (producer, worker, dashboard) runs as exactly one Deployment',
    *check(m) {
      for (const app of APPS) {
        const found = appWorkloads(m.objects).filter((w) => w.component === app);
        if (found.length !== 1 || found[0]?.object.kind !== 'Deployment')
          yield `${app}: ${found.map((w) => where(w)).join(', ') || 'no Deployment'}`;
      }
    },
  },
  hardened: {
    title:
      'every app container: non-root with a numeric uid, read-only root, no privilege escalation, no capabilities, seccomp RuntimeDefault',
    *check(m) {
      for (const w of appWorkloads(m.objects)) {
        const pod = w.pod.securityContext ?? {};
        for (const c of containersOf(w.pod)) {
          const own = c.securityContext ?? {};
          const at = where(w, c);
          if ((own.runAsNonRoot ?? pod.runAsNonRoot) !== true) yield `${at}: runAsNonRoot`;
          if (typeof (own.runAsUser ?? pod.runAsUser) !== 'number')
            yield `${at}: no numeric runAsUser`;
          if ((own.runAsUser ?? pod.runAsUser) === 0) yield `${at}: runAsUser 0`;
          if (own.readOnlyRootFilesystem !== true) yield `${at}: readOnlyRootFilesystem`;
          if (own.allowPrivilegeEscalation !== false) yield `${at}: allowPrivilegeEscalation`;
          if (!own.capabilities?.drop?.includes('ALL')) yield `${at}: capabilities not dropped`;
          if (own.capabilities?.add?.length) yield `${at}: adds ${own.capabilities.add}`;
          if ((own.seccompProfile ?? pod.seccompProfile)?.type !== 'RuntimeDefault')
            yield `${at}: seccompProfile is not RuntimeDefault`;
        }
      }
    },
  },
  resources: {
    title: 'every app container requests cpu and memory, and has a memory limit',
    *check(m) {
      for (const w of appWorkloads(m.objects)) {
        for (const c of containersOf(w.pod)) {
          const { requests = {}, limits = {} } = c.resources ?? {};
          for (const missing of [
            requests.cpu === undefined && 'cpu request',
            requests.memory === undefined && 'memory request',
            limits.memory === undefined && 'memory limit',
          ])
            if (missing) yield `${where(w, c)}: no ${missing}`;
        }
      }
    },
  },
  probes: {
    title: 'liveness on /healthz and readiness on /readyz, at the port the app listens on',
    *check(m) {
      for (const { w, container, settings } of appContainers(m)) {
        const at = where(w, container);
        if (typeof settings === 'string') {
          yield `${at}: ${settings}`;
          continue;
        }
        const listed = container.ports?.map((p) => p.containerPort) ?? [];
        if (!listed.includes(settings.port))
          yield `${at}: listens on ${settings.port}, ports ${listed}`;
        for (const [kind, path] of [
          ['livenessProbe', '/healthz'],
          ['readinessProbe', '/readyz'],
        ] as const) {
          const probe = container[kind];
          if (probe?.httpGet?.path !== path) yield `${at}: ${kind} is not GET ${path}`;
          else if (probePort(container, probe) !== settings.port)
            yield `${at}: ${kind} at port ${probe.httpGet.port}, the app listens on ${settings.port}`;
        }
      }
    },
  },
  grace: {
    title:
      'terminationGracePeriodSeconds is longer than preStop + SHUTDOWN_TIMEOUT_MS + the 5 s hard stop',
    *check(m) {
      for (const { w, container, settings } of appContainers(m)) {
        if (typeof settings === 'string') continue; // the probes rule reports it
        const preStop = preStopSeconds(container);
        if (typeof preStop === 'string') {
          yield `${where(w, container)}: ${preStop}`;
          continue;
        }
        const needed = preStop + settings.shutdownMs / 1000 + CLOSE_MARGIN_S;
        const grace = w.pod.terminationGracePeriodSeconds ?? 30;
        if (!(grace > needed))
          yield `${where(w)}: terminationGracePeriodSeconds ${grace}, needs more than ${needed} (preStop ${preStop} + shutdown ${settings.shutdownMs / 1000} + ${CLOSE_MARGIN_S})`;
      }
    },
  },
  settings: {
    title:
      'every app’s settings parse with its own loader: image ENV, the ConfigMap and the documented Secret keys',
    *check(m) {
      for (const { settings } of appContainers(m)) if (typeof settings === 'string') yield settings;
    },
  },
  volumes: {
    title: 'every volume mount names a volume of its pod (or a volumeClaimTemplate)',
    *check(m) {
      for (const w of workloads(m.objects)) {
        const claims = (
          w.object.spec as { volumeClaimTemplates?: { metadata: { name: string } }[] }
        ).volumeClaimTemplates;
        const names = new Set([
          ...(w.pod.volumes ?? []).map((v) => v.name),
          ...(claims ?? []).map((c) => c.metadata.name),
        ]);
        for (const c of containersOf(w.pod))
          for (const mount of c.volumeMounts ?? [])
            if (!names.has(mount.name)) yield `${where(w, c)}: no volume ${mount.name}`;
      }
    },
  },
  images: {
    title: 'every image names a tag or digest, never latest',
    *check(m) {
      for (const w of workloads(m.objects))
        for (const c of containersOf(w.pod)) {
          const image = c.image ?? '';
          const tag = /^[^@]+:([\w][\w.-]*)(@sha256:[0-9a-f]{64})?$/.exec(image)?.[1];
          const digest = /@sha256:[0-9a-f]{64}$/.test(image);
          if ((!tag && !digest) || tag === 'latest') yield `${where(w, c)}: ${image || 'no image'}`;
        }
    },
  },
  secrets: {
    title:
      'no Secret in the output; PASSWORD/SECRET/KEY/TOKEN settings come from a Secret, never a literal or a ConfigMap',
    *check(m) {
      for (const o of m.objects) if (o.kind === 'Secret') yield `Secret ${o.metadata.name}`;
      for (const w of workloads(m.objects))
        for (const c of containersOf(w.pod)) {
          for (const variable of c.env ?? [])
            if (SECRET_NAME.test(variable.name) && !variable.valueFrom?.secretKeyRef)
              yield `${where(w, c)}: ${variable.name} is not from a Secret`;
          for (const source of c.envFrom ?? []) {
            const name = source.configMapRef?.name;
            const map = m.objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name);
            for (const key of Object.keys((map?.data ?? {}) as object))
              if (SECRET_NAME.test(key)) yield `ConfigMap ${name}: ${key}`;
          }
        }
    },
  },
  networkPolicies: {
    title: 'a NetworkPolicy selects every pod',
    *check(m) {
      const policies = m.objects.filter((o) => o.kind === 'NetworkPolicy');
      for (const w of workloads(m.objects)) {
        const selected = policies.some((p) =>
          selects((p.spec as { podSelector?: object }).podSelector, w.labels),
        );
        if (!selected) yield `${where(w)}: no NetworkPolicy selects its pods`;
      }
    },
  },
  disruptionBudgets: {
    title: 'a PodDisruptionBudget covers each app',
    *check(m) {
      const budgets = m.objects.filter((o) => o.kind === 'PodDisruptionBudget');
      for (const w of appWorkloads(m.objects)) {
        const covered = budgets.some((b) =>
          selects((b.spec as { selector?: object }).selector, w.labels),
        );
        if (!covered) yield `${where(w)}: no PodDisruptionBudget`;
      }
    },
  },
} satisfies Record<string, Rule>;

export type RuleName = keyof typeof rules;
export const problems = (m: Manifests, name: RuleName) => [...(rules[name] as Rule).check(m)];
export type { Workload };
