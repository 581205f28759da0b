// biome-ignore-all lint/suspicious/noTemplateCurlyInString: compose's ${VAR} in the rules, not JS templates
import { validate } from 'dockerfile-utils';
import { parse } from 'yaml';
import {
  APP_NAMES,
  appSettings,
  BUILT_IN,
  CLOSE_MARGIN_MS,
  type Deployment,
  dataNodes,
  FROM_ENV,
  LEFT_OUT,
  mounted,
  mounts,
  networksOf,
  PINNED,
  type PrometheusConfig,
  reach,
  redisServices,
  SECRET,
  sentinelServices,
  service,
  services,
  settingsFor,
  shareNetwork,
} from './compose.model.ts';
import { sentinelRules } from './compose.sentinel.rules.ts';
import { storageRules } from './compose.storage.rules.ts';
import {
  durationMs,
  effectiveStage,
  interpolate,
  isIgnored,
  parseCompose,
  parsePort,
  variablesIn,
} from './compose.testkit.ts';

/** A rule of the deployment: the problems it finds, none when the files keep it. */
export interface Rule {
  title: string;
  check(d: Deployment): Iterable<string>;
}

export const rules = {
  services: {
    title: 'every service of the platform is there, each image pinned to a version',
    *check(d) {
      for (const name of ['redis', ...APP_NAMES, 'prometheus', 'grafana', 'mailpit']) {
        if (!d.compose.services?.[name]) yield `no service ${name}`;
      }
      for (const [name, s] of services(d)) {
        if (!s.build && !PINNED.test(s.image ?? '')) yield `${name}: ${s.image} is not pinned`;
      }
      for (const [name, s] of redisServices(d)) {
        if (!/^redis:7\.\d+\.\d+/.test(s.image ?? '')) yield `${name} is not Redis 7.x`;
      }
    },
  },
  redisPrivate: {
    title:
      'redis (and every node and sentinel of a group): no published port, data on a named volume of its own, started by deploy/redis/entrypoint.sh',
    *check(d) {
      const owners = new Map<string, string>();
      for (const [name, redis] of redisServices(d)) {
        const data = mounts(d, name).find((m) => m.target === '/data');
        const config = mounts(d, name).find((m) => m.target === '/usr/local/etc/redis');
        if (redis.ports?.length) yield `${name} publishes ${redis.ports.join(', ')}`;
        if (!data?.named || !(data.source in (d.compose.volumes ?? {})))
          yield `${name}: /data is no named volume`;
        else if (owners.has(data.source))
          yield `${name}: /data is the volume of ${owners.get(data.source)} too`;
        else owners.set(data.source, name);
        if (config?.source !== './deploy/redis' || !config.readOnly)
          yield `${name}: deploy/redis is not mounted read-only at /usr/local/etc/redis`;
        if (redis.entrypoint?.join(' ') !== 'sh /usr/local/etc/redis/entrypoint.sh')
          yield `${name}: not started by entrypoint.sh`;
        for (const variable of entrypointNeeds(redis.environment ?? {}, redis.command)) {
          if (!redis.environment?.[variable])
            yield `${name}: ${variable} is not passed to entrypoint.sh`;
        }
      }
    },
  },
  redisHealth: {
    title:
      'redis (and every data node): its health check logs in as errand with the password of its environment',
    *check(d) {
      for (const [name] of dataNodes(d)) yield* errandPing(d, name);
    },
  },
  networks: {
    title:
      'networks: redis (and a group’s nodes and sentinels) on an internal network only, shared with the apps and nothing else',
    *check(d) {
      const internal = Object.entries(d.compose.networks ?? {})
        .filter(([, network]) => network?.internal === true)
        .map(([name]) => name);
      if (internal.length === 0) yield 'no network is internal: true';
      const redis = redisServices(d).map(([name]) => name);
      for (const name of redis) {
        for (const network of networksOf(d, name)) {
          if (!internal.includes(network)) yield `${name} is on ${network}, which is not internal`;
        }
      }
      for (const [name] of services(d)) {
        if ([...redis, ...APP_NAMES].includes(name)) continue;
        for (const network of networksOf(d, name)) {
          if (internal.includes(network)) yield `${name} is on the internal network ${network}`;
        }
      }
      for (const app of APP_NAMES) {
        for (const name of redis) if (!shareNetwork(d, app, name)) yield `${app}: no ${name}`;
      }
    },
  },
  apps: {
    title:
      'apps: own build target, /readyz health check, wait for a healthy redis (and sentinels), unless-stopped',
    *check(d) {
      const { ok, errors } = appSettings(d);
      yield* errors;
      for (const [app, { port }] of ok) {
        const s = service(d, app);
        if (s.build?.target !== app || !d.stages.some((stage) => stage.name === app))
          yield `${app}: not built from its own Dockerfile target`;
        if (!s.healthcheck?.test?.join(' ').includes(`http://127.0.0.1:${port}/readyz`))
          yield `${app}: health check is not /readyz on port ${port}`;
        for (const name of ['redis', ...sentinelServices(d).map(([sentinel]) => sentinel)]) {
          if (s.depends_on?.[name]?.condition !== 'service_healthy')
            yield `${app}: starts without waiting for a healthy ${name}`;
        }
        if (s.restart !== 'unless-stopped') yield `${app}: restart is ${s.restart}`;
      }
    },
  },
  grace: {
    title: "apps: Docker waits longer for them to stop than the app's own shutdown deadline",
    *check(d) {
      const { ok, errors } = appSettings(d);
      yield* errors;
      for (const [app, { shutdownMs }] of ok) {
        const grace = service(d, app).stop_grace_period;
        if (!(durationMs(grace) > shutdownMs + CLOSE_MARGIN_MS))
          yield `${app}: stop_grace_period ${grace} is not past SHUTDOWN_TIMEOUT_MS ${shutdownMs} ms + 5 s`;
      }
    },
  },
  appEnv: {
    title:
      'apps: their config check passes in the container; they listen on 0.0.0.0, write to volumes',
    *check(d) {
      const { ok, errors } = appSettings(d);
      yield* errors;
      for (const [app, { host, port, writes }] of ok) {
        if (host !== '0.0.0.0') yield `${app}: listens on ${host}, unreachable from outside`;
        for (const path of writes) {
          const volume = mounts(d, app).find(
            (m) => m.named && (path === m.target || path.startsWith(`${m.target}/`)),
          );
          if (!volume) yield `${app}: writes ${path}, which is on no named volume`;
        }
        for (const spec of service(d, app).ports ?? []) {
          const { target } = parsePort(interpolate(spec, d.example));
          if (target !== port) yield `${app}: publishes port ${target}, listens on ${port}`;
        }
      }
    },
  },
  scalable: {
    title: 'worker: scales with --scale (no container_name, no published port)',
    *check(d) {
      if (service(d, 'worker').container_name) yield 'worker has a container_name';
      if (service(d, 'worker').ports?.length) yield 'worker publishes a port';
    },
  },
  loopback: {
    title: 'published ports listen on 127.0.0.1 unless .env says otherwise',
    *check(d) {
      for (const [env, which] of [
        [d.example, '.env.example'],
        [new Map(), 'no .env'],
      ] as const) {
        for (const [name, s] of services(d)) {
          for (const spec of s.ports ?? []) {
            const { hostIp } = parsePort(interpolate(spec, env));
            if (hostIp !== '127.0.0.1') yield `${name}: ${spec} on ${hostIp ?? 'all'} (${which})`;
          }
        }
      }
    },
  },
  secrets: {
    title:
      'secrets: passwords, keys and URL credentials come from .env (git-ignored, empty example)',
    *check(d) {
      for (const [name, s] of services(d)) {
        for (const [key, raw] of Object.entries(s.environment ?? {})) {
          const value = String(raw);
          if (SECRET.test(key) && !FROM_ENV.test(value)) yield `${name}: ${key} is not from .env`;
          for (const [, password = ''] of value.matchAll(
            /:\/\/[^:/@\s]+:(\$\{[^}]*\}|[^@\s]+)@/g,
          )) {
            if (!FROM_ENV.test(password)) yield `${name}: ${key} holds a password`;
          }
        }
      }
      for (const [key, value] of d.example) {
        if (SECRET.test(key) && value !== '') yield `.env.example: ${key} holds a value`;
      }
      if (!isIgnored(d.files.gitignore, '.env')) yield '.env is not git-ignored';
    },
  },
  variables: {
    title:
      'every ${VAR} of the compose files is in .env.example, and every setting there is used by one',
    *check(d) {
      const { compose, composeSentinel, composeS3, composeMinio } = d.files;
      const used = new Set(
        [compose, composeSentinel, composeS3, composeMinio].flatMap((file) => [
          ...variablesIn(parseCompose(file)),
        ]),
      );
      for (const name of used) if (!d.example.has(name)) yield `${name} is not in .env.example`;
      for (const name of d.example.keys()) {
        if (!used.has(name) && !name.startsWith('COMPOSE_')) yield `${name} is used nowhere`;
      }
    },
  },
  devProfile: {
    title: 'the SMTP catcher runs only in the dev profile, everything else without one',
    *check(d) {
      const mailpit = service(d, 'mailpit');
      if (!mailpit.image?.startsWith('axllent/mailpit:')) yield 'no Mailpit';
      if (JSON.stringify(mailpit.profiles) !== '["dev"]') yield 'Mailpit is not dev-only';
      for (const [name, s] of services(d)) {
        if (name !== 'mailpit' && s.profiles) yield `${name} runs only in a profile`;
      }
    },
  },
  monitoring: {
    title: 'prometheus reaches the targets of prometheus.yml; grafana gets its provisioning',
    *check(d) {
      const config = parse(d.files.prometheus) as PrometheusConfig;
      const targets = config.scrape_configs.flatMap((job) => [
        ...(job.static_configs ?? []).flatMap((c) => c.targets),
        ...(job.dns_sd_configs ?? []).flatMap((c) => c.names.map((name) => `${name}:${c.port}`)),
      ]);
      for (const target of targets) yield* reach(d, 'prometheus', target);
      yield* mounted(
        d,
        'prometheus',
        'deploy/prometheus/prometheus.yml',
        '/etc/prometheus/prometheus.yml',
      );
      for (const file of config.rule_files ?? []) {
        yield* mounted(d, 'prometheus', `deploy/prometheus/${file}`, `/etc/prometheus/${file}`);
      }
      yield* reach(d, 'grafana', parse(d.files.grafanaDatasources).datasources[0].url);
      const dashboards = parse(d.files.grafanaDashboards).providers[0].options.path;
      yield* mounted(d, 'grafana', 'deploy/grafana/provisioning', '/etc/grafana/provisioning');
      yield* mounted(d, 'grafana', 'deploy/grafana/dashboards', dashboards);
    },
  },
  baseImages: {
    title: 'Dockerfile: each FROM is a pinned image or an earlier stage; apps on a glibc Node 24',
    *check(d) {
      for (const [i, stage] of d.stages.entries()) {
        const earlier = d.stages.slice(0, i).some((s) => s.name === stage.from);
        if (!earlier && !PINNED.test(stage.from)) yield `FROM ${stage.from} is not pinned`;
      }
      for (const app of APP_NAMES) {
        const { base = '' } = effectiveStage(d.stages, app);
        if (!/^node:24\.\d+\.\d+-(bookworm|trixie)(-slim)?(@sha256:[0-9a-f]{64})?$/.test(base))
          yield `${app} runs on ${base}: not a Debian (glibc) Node 24`;
      }
    },
  },
  dependencies: {
    title: 'Dockerfile: the apps get the lockfile’s production dependencies (npm ci), no dev ones',
    *check(d) {
      for (const app of APP_NAMES) {
        const copy = effectiveStage(d.stages, app).copies.find((c) => c.includes('node_modules'));
        const { runs } = effectiveStage(d.stages, /--from=(\S+)/.exec(copy ?? '')?.[1] ?? app);
        const ci = runs.findIndex((line) => /\bnpm ci\b/.test(line));
        const pruned =
          /--omit[= ]dev/.test(runs[ci] ?? '') ||
          runs.slice(ci + 1).some((line) => /\bnpm prune\b.*--omit[= ]dev/.test(line));
        if (ci < 0) yield `${app}: node_modules is not made by npm ci`;
        else if (!pruned) yield `${app}: node_modules keeps the dev dependencies`;
      }
    },
  },
  runtime: {
    title: 'Dockerfile: apps run as non-root, NODE_ENV=production, under tini, their own main.ts',
    *check(d) {
      for (const target of new Set([...APP_NAMES, d.stages.at(-1)?.name ?? ''])) {
        const stage = effectiveStage(d.stages, target);
        const [init, dashes] = Array.isArray(stage.entrypoint) ? stage.entrypoint : [];
        const cmd = JSON.stringify(stage.cmd);
        if (!stage.user || /^(root|0)(:|$)/.test(stage.user)) yield `${target}: runs as root`;
        if (stage.env.NODE_ENV !== 'production') yield `${target}: NODE_ENV is not production`;
        if (!init?.endsWith('/tini') || dashes !== '--') yield `${target}: tini is not PID 1`;
        if (!stage.runs.some((line) => /apt-get install[^&]*\btini\b/.test(line)))
          yield `${target}: tini is not installed`;
        if (APP_NAMES.includes(target) && cmd !== `["node","apps/${target}/src/main.ts"]`)
          yield `${target}: runs ${cmd}`;
      }
    },
  },
  imageHealth: {
    title: 'Dockerfile: each app image has a HEALTHCHECK on /readyz at its port',
    *check(d) {
      for (const app of APP_NAMES) {
        const check = effectiveStage(d.stages, app).healthcheck ?? '';
        const port = `process.env.${app.toUpperCase()}_PORT||${settingsFor(app, {}).port}`;
        if (!check.includes('/readyz') || !check.includes(port))
          yield `${app}: no HEALTHCHECK on /readyz at ${port}`;
      }
    },
  },
  lint: {
    title: 'Dockerfile: the dockerfile-utils linter reports nothing',
    *check(d) {
      for (const found of validate(d.files.dockerfile))
        yield `line ${found.range.start.line + 1}: ${found.message}`;
    },
  },
  dockerignore: {
    title: '.dockerignore: secrets, local state, node_modules, .git stay out; the code goes in',
    *check(d) {
      for (const path of LEFT_OUT) {
        if (!isIgnored(d.files.dockerignore, path)) yield `${path} goes into the image`;
      }
      for (const path of BUILT_IN) {
        if (isIgnored(d.files.dockerignore, path)) yield `${path} is left out of the image`;
      }
    },
  },
  ...sentinelRules,
  ...storageRules,
} satisfies Record<string, Rule>;

/** A data node's health check: redis-cli PING as errand, the password from its environment. */
function* errandPing(d: Deployment, name: string) {
  const [form, ...command] = service(d, name).healthcheck?.test ?? [];
  if (form !== 'CMD-SHELL') yield `${name}: health check without a shell to read the password`;
  const needs: [RegExp, string][] = [
    [/redis-cli /, 'redis-cli'],
    [/--user errand /, '--user errand'],
    [
      /REDISCLI_AUTH="?\$\$ERRAND_REDIS_PASSWORD"? /,
      'the password of $$ERRAND_REDIS_PASSWORD in REDISCLI_AUTH',
    ],
    [/ ping /i, 'ping'],
    [/\| grep -qx? PONG/, 'a check for PONG'],
  ];
  for (const [pattern, what] of needs) {
    if (!pattern.test(command.join(' '))) yield `${name}: health check without ${what}`;
  }
}

/**
 * What deploy/redis/entrypoint.sh refuses to start without: a sentinel's password and where
 * the group's first primary is; a data node's passwords and prefix, and the `replica` and
 * `sentinel` users' passwords too in a Sentinel group.
 */
function entrypointNeeds(environment: Record<string, string>, command: string[] | undefined) {
  if (command?.[0] === 'sentinel') {
    return [
      'ERRAND_REDIS_SENTINEL_PASSWORD',
      'ERRAND_SENTINEL_PRIMARY_HOST',
      'ERRAND_SENTINEL_ANNOUNCE_HOST',
    ];
  }
  const node = ['ERRAND_REDIS_PASSWORD', 'ERRAND_REDIS_ADMIN_PASSWORD', 'QUEUE_PREFIX'];
  return environment.ERRAND_REDIS_REPLICATION === 'sentinel'
    ? [...node, 'ERRAND_REDIS_REPLICA_PASSWORD', 'ERRAND_REDIS_SENTINEL_PASSWORD']
    : node;
}
