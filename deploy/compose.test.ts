// biome-ignore-all lint/suspicious/noTemplateCurlyInString: compose's ${VAR} in the cases, not JS templates
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Deployment, load } from './test/compose.model.ts';
import { type Rule, rules } from './test/compose.rules.ts';
import {
  composeCommand,
  type DeployFiles,
  ROOT,
  readDeployFiles,
  run,
} from './test/compose.testkit.ts';

/** A break that a rule must catch: every `from` in one file replaced by `to`. */
type Break = [rule: keyof typeof rules, file: keyof DeployFiles, from: string, to: string];
const BREAKS: Break[] = [
  ['services', 'compose', 'prom/prometheus:v3.13.1', 'prom/prometheus:latest'],
  ['services', 'compose', '  grafana:\n', '  graphs:\n'],
  [
    'redisPrivate',
    'compose',
    '    networks: [internal]\n',
    '    networks: [internal]\n    ports: ["6379:6379"]\n',
  ],
  ['redisPrivate', 'compose', '- redis-data:/data', '- ./data/redis:/data'],
  ['redisHealth', 'compose', '--user errand ', ''],
  ['redisHealth', 'compose', '"$$ERRAND_REDIS_PASSWORD"', 'errand-password'],
  ['networks', 'compose', 'internal: true', 'internal: false'],
  ['networks', 'compose', '    networks: [internal]\n', '    networks: [internal, front]\n'],
  [
    'networks',
    'compose',
    '    networks: [front]\n    healthcheck:',
    '    networks: [front, internal]\n    healthcheck:',
  ],
  ['apps', 'compose', "127.0.0.1:3002/readyz'", "127.0.0.1:3002/healthz'"],
  ['apps', 'compose', 'condition: service_healthy', 'condition: service_started'],
  ['apps', 'compose', 'restart: unless-stopped', 'restart: on-failure'],
  ['grace', 'compose', 'stop_grace_period: 40s', 'stop_grace_period: 30s'],
  ['appEnv', 'compose', '${DASHBOARD_COOKIE_SECURE:-false}', 'maybe'],
  ['appEnv', 'dockerfile', 'PRODUCER_HOST=0.0.0.0', 'PRODUCER_HOST=127.0.0.1'],
  [
    'appEnv',
    'compose',
    'image-storage:/var/lib/errand/storage',
    'image-storage:/var/lib/errand/images',
  ],
  ['scalable', 'compose', '  worker:\n', '  worker:\n    container_name: errand-worker\n'],
  ['loopback', 'compose', '"${BIND_ADDRESS:-127.0.0.1}:3000:3000"', '"3000:3000"'],
  ['loopback', 'envExample', 'BIND_ADDRESS=127.0.0.1', 'BIND_ADDRESS=0.0.0.0'],
  [
    'secrets',
    'compose',
    '${GRAFANA_ADMIN_PASSWORD:?set GRAFANA_ADMIN_PASSWORD in .env (see .env.example)}',
    'admin',
  ],
  [
    'secrets',
    'compose',
    '${ERRAND_REDIS_PASSWORD:?set ERRAND_REDIS_PASSWORD in .env}@',
    '0123456789abcdef@',
  ],
  ['secrets', 'envExample', 'GRAFANA_ADMIN_PASSWORD=\n', 'GRAFANA_ADMIN_PASSWORD=change-me\n'],
  ['secrets', 'gitignore', '\n.env\n', '\n'],
  ['variables', 'envExample', 'LOG_LEVEL=info\n', ''],
  ['variables', 'envExample', 'ERRAND_TAG=local\n', 'ERRAND_TAG=local\nUNUSED_SETTING=1\n'],
  ['devProfile', 'compose', '    profiles: [dev]\n', ''],
  ['monitoring', 'prometheus', '"dashboard:3001"', '"dashboard:3000"'],
  [
    'monitoring',
    'compose',
    '    networks: [front]\n    healthcheck:',
    '    networks: [internal]\n    healthcheck:',
  ],
  ['monitoring', 'grafanaDatasources', 'http://prometheus:9090', 'http://prom:9090'],
  ['monitoring', 'compose', './deploy/prometheus/alerts.yml:', './deploy/prometheus/rules.yml:'],
  ['baseImages', 'dockerfile', 'FROM node:24.21.0-bookworm-slim', 'FROM node:latest'],
  ['baseImages', 'dockerfile', 'FROM node:24.21.0-bookworm-slim', 'FROM node:24.21.0-alpine'],
  ['dependencies', 'dockerfile', 'npm ci --omit=dev', 'npm ci'],
  ['dependencies', 'dockerfile', 'npm ci --omit=dev', 'npm install --omit=dev'],
  ['runtime', 'dockerfile', 'USER node\n', ''],
  ['runtime', 'dockerfile', 'ENV NODE_ENV=production', 'ENV NODE_ENV=development'],
  ['runtime', 'dockerfile', 'ENTRYPOINT ["/usr/bin/tini", "--"]\n', ''],
  [
    'runtime',
    'dockerfile',
    'CMD ["node", "apps/worker/src/main.ts"]',
    'CMD ["node", "apps/producer/src/main.ts"]',
  ],
  ['imageHealth', 'dockerfile', "/readyz')", "/healthz')"],
  ['lint', 'dockerfile', 'EXPOSE 3000', 'EXPOSE'],
  ['dockerignore', 'dockerignore', '\n.env\n', '\n'],
  ['dockerignore', 'dockerignore', '**/node_modules\n', 'node_modules\n'],
  ['dockerignore', 'dockerignore', '\n.git\n', '\n'],
  ['dockerignore', 'dockerignore', '\ndeploy\n', '\ndeploy\napps/*/templates\n'],
];

/**
 * The compose deployment, checked without a Docker engine: each rule (`test/compose.rules.ts`)
 * reads the files as written (docker-compose.yml, Dockerfile, .env.example, .dockerignore, and
 * the Prometheus and Grafana files they mount) and lists what breaks it. Every rule has cases
 * below that break a file on purpose and must be caught, so no rule passes by checking
 * nothing. Last, docker compose itself validates the file.
 */
let files: DeployFiles;
let deployment: Deployment;
beforeAll(async () => {
  files = await readDeployFiles();
  deployment = load(files);
});

describe('the compose deployment (docker-compose.yml, Dockerfile, .env.example, .dockerignore)', () => {
  for (const { title, check } of Object.values(rules) as Rule[]) {
    it(title, () => expect([...check(deployment)]).toEqual([]));
  }

  const named = (b: Break) => {
    const change = `${JSON.stringify(b[2])} → ${JSON.stringify(b[3])}`;
    const short = change.length > 90 ? `${change.slice(0, 89)}…` : change;
    return [`${b[0]} catches ${b[1]}: ${short}`, b] as const;
  };
  it.each(BREAKS.map(named))('%s', (_title, [rule, file, from, to]) => {
    expect(files[file], `"${from}" is no longer in ${file}: update this case`).toContain(from);
    const broken = load({ ...files, [file]: files[file].replaceAll(from, to) });
    expect([...(rules[rule] as Rule).check(broken)]).not.toEqual([]);
  });

  it('has a break for every rule', () => {
    const broken = new Set<string>(BREAKS.map(([rule]) => rule));
    expect(Object.keys(rules).filter((rule) => !broken.has(rule))).toEqual([]);
  });
});

describe('docker compose on the file (no engine needed)', () => {
  let compose: Promise<string[]> | undefined;
  let dir: string | undefined;
  /** .env as an operator writes it from .env.example. */
  let filled = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'errand-compose-'));
    filled = join(dir, '.env');
    const lines = [...deployment.filled].map(([key, value]) => `${key}='${value}'`);
    await writeFile(filled, `${lines.join('\n')}\n`);
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Each test fails by itself, saying how to install it, where there is no docker compose. */
  const config = async (envFile: string, ...args: string[]) => {
    compose ??= composeCommand();
    const [binary = '', ...rest] = await compose;
    const file = join(ROOT, 'docker-compose.yml');
    return run(binary, [...rest, '--env-file', envFile, '-f', file, 'config', ...args]);
  };

  it('accepts the file with .env filled in as .env.example says', async () => {
    expect(await config(filled, '-q')).toEqual({ code: 0, output: '' });
  });

  it('refuses to start while a secret of .env is empty, and names it', async () => {
    const answer = await config(join(ROOT, '.env.example'), '-q');
    expect(answer.code).not.toBe(0);
    expect(answer.output).toMatch(/set (ERRAND_REDIS_|API_KEYS|SMTP_URL|MAIL_FROM|GRAFANA_)/);
  });

  it('sees the dev profile', async () => {
    expect(await config(filled, '--profiles')).toEqual({ code: 0, output: 'dev\n' });
  });
});
