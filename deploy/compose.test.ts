// biome-ignore-all lint/suspicious/noTemplateCurlyInString: compose's ${VAR} in the cases, not JS templates
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Deployment, load, type Variant } from './test/compose.model.ts';
import { type Rule, rules } from './test/compose.rules.ts';
import {
  composeCommand,
  type DeployFiles,
  ROOT,
  readDeployFiles,
  run,
  SENTINEL_COMPOSE_FILE,
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
  // The Sentinel variant (deploy/compose.sentinel.yml over docker-compose.yml)
  [
    'services',
    'composeSentinel',
    '  sentinel-2:\n    <<: *sentinel\n',
    '  sentinel-2:\n    <<: *sentinel\n    image: redis:latest\n',
  ],
  ['redisPrivate', 'composeSentinel', '- redis-3-data:/data', '- redis-2-data:/data'],
  ['redisPrivate', 'composeSentinel', '- sentinel-3-data:/data', '- ./data/sentinel-3:/data'],
  [
    'redisPrivate',
    'composeSentinel',
    '    ERRAND_REDIS_REPLICA_PASSWORD: ${ERRAND_REDIS_REPLICA_PASSWORD:',
    '    UNUSED_REPLICA_PASSWORD: ${ERRAND_REDIS_REPLICA_PASSWORD:',
  ],
  [
    'redisPrivate',
    'composeSentinel',
    '  command: ["sentinel"]\n',
    '  command: ["sentinel"]\n  ports: ["26379:26379"]\n',
  ],
  ['redisHealth', 'composeSentinel', '--user errand ', ''],
  [
    'networks',
    'composeSentinel',
    '  command: ["sentinel"]\n  networks: [internal]\n',
    '  command: ["sentinel"]\n  networks: [internal, front]\n',
  ],
  [
    'apps',
    'composeSentinel',
    '  sentinel-3:\n    condition: service_healthy',
    '  sentinel-3:\n    condition: service_started',
  ],
  [
    'secrets',
    'composeSentinel',
    '${ERRAND_REDIS_SENTINEL_PASSWORD:?set ERRAND_REDIS_SENTINEL_PASSWORD in .env for the Sentinel group (see .env.example)}',
    '0123456789abcdef0123456789abcdef',
  ],
  ['variables', 'envExample', 'ERRAND_SENTINEL_FAILOVER_TIMEOUT_MS=60000\n', ''],
  [
    'sentinel',
    'composeSentinel',
    '"--replicaof", "redis", "6379", "--replica-announce-ip", "redis-3"',
    '"--replica-announce-ip", "redis-3"',
  ],
  [
    'sentinel',
    'composeSentinel',
    '"--replica-announce-ip", "redis-2"',
    '"--replica-announce-ip", "redis"',
  ],
  [
    'sentinel',
    'composeSentinel',
    'ERRAND_SENTINEL_ANNOUNCE_HOST: sentinel-2',
    'ERRAND_SENTINEL_ANNOUNCE_HOST: sentinel-1',
  ],
  ['sentinel', 'composeSentinel', '    ERRAND_REDIS_REPLICATION: sentinel\n', ''],
  [
    'sentinel',
    'composeSentinel',
    'REDIS_SENTINELS: sentinel-1:26379,sentinel-2:26379,sentinel-3:26379',
    'REDIS_SENTINELS: sentinel-1:26379',
  ],
  [
    'sentinel',
    'composeSentinel',
    '  REDIS_SENTINEL_NAME: errand\n',
    '  REDIS_SENTINEL_NAME: other\n',
  ],
  ['sentinel', 'composeSentinel', '  REDIS_USERNAME: errand\n', '  REDIS_USERNAME: admin\n'],
  ['sentinel', 'composeSentinel', 'SENTINEL CKQUORUM errand', 'PING'],
  ['sentinel', 'compose', 'redis://errand:', 'redis://admin:'],
];
/** A break in the Sentinel file is looked for in the Sentinel variant, any other in the one Redis. */
const variantOf = (file: keyof DeployFiles): Variant =>
  file === 'composeSentinel' ? 'sentinel' : 'single';

/**
 * The compose deployment, checked without a Docker engine: each rule (`test/compose.rules.ts`)
 * reads the files as written (docker-compose.yml, Dockerfile, .env.example, .dockerignore, and
 * the Prometheus and Grafana files they mount) and lists what breaks it. Every rule has cases
 * below that break a file on purpose and must be caught, so no rule passes by checking
 * nothing. Last, docker compose itself validates the file.
 */
let files: DeployFiles;
let deployment: Deployment;
let sentinelDeployment: Deployment;
beforeAll(async () => {
  files = await readDeployFiles();
  deployment = load(files);
  sentinelDeployment = load(files, 'sentinel');
});

describe('the compose deployment (docker-compose.yml, Dockerfile, .env.example, .dockerignore)', () => {
  for (const { title, check } of Object.values(rules) as Rule[]) {
    it(title, () => expect([...check(deployment)]).toEqual([]));
    it(`with ${SENTINEL_COMPOSE_FILE}: ${title}`, () =>
      expect([...check(sentinelDeployment)]).toEqual([]));
  }

  const named = (b: Break) => {
    const change = `${JSON.stringify(b[2])} → ${JSON.stringify(b[3])}`;
    const short = change.length > 90 ? `${change.slice(0, 89)}…` : change;
    return [`${b[0]} catches ${b[1]}: ${short}`, b] as const;
  };
  it.each(BREAKS.map(named))('%s', (_title, [rule, file, from, to]) => {
    expect(files[file], `"${from}" is no longer in ${file}: update this case`).toContain(from);
    const broken = load({ ...files, [file]: files[file].replaceAll(from, to) }, variantOf(file));
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
  const configOf = async (composeFiles: string[], envFile: string, ...args: string[]) => {
    compose ??= composeCommand();
    const [binary = '', ...rest] = await compose;
    const fileArgs = composeFiles.flatMap((file) => ['-f', join(ROOT, file)]);
    return run(binary, [...rest, '--env-file', envFile, ...fileArgs, 'config', ...args]);
  };
  const config = (envFile: string, ...args: string[]) =>
    configOf(['docker-compose.yml'], envFile, ...args);
  const sentinelConfig = (envFile: string, ...args: string[]) =>
    configOf(['docker-compose.yml', SENTINEL_COMPOSE_FILE], envFile, ...args);

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

  it(`accepts ${SENTINEL_COMPOSE_FILE} over it: three data nodes and three sentinels besides the rest`, async () => {
    expect(await sentinelConfig(filled, '-q')).toEqual({ code: 0, output: '' });
    const listed = await sentinelConfig(filled, '--services');
    expect(listed.code).toBe(0);
    expect(listed.output.split('\n').filter(Boolean).sort()).toEqual(
      [
        ...['redis', 'redis-2', 'redis-3', 'sentinel-1', 'sentinel-2', 'sentinel-3'],
        ...['producer', 'worker', 'dashboard', 'prometheus', 'grafana', 'mailpit'],
      ].sort(),
    );
  });

  it('refuses the Sentinel variant while a password of its own is empty, and names it', async () => {
    const withOut = join(dir ?? '', 'no-sentinel-password.env');
    const lines = [...deployment.filled]
      .filter(([key]) => key !== 'ERRAND_REDIS_SENTINEL_PASSWORD')
      .map(([key, value]) => `${key}='${value}'`);
    await writeFile(withOut, `${lines.join('\n')}\nERRAND_REDIS_SENTINEL_PASSWORD=\n`);
    const answer = await sentinelConfig(withOut, '-q');
    expect(answer.code).not.toBe(0);
    expect(answer.output).toMatch(/set ERRAND_REDIS_SENTINEL_PASSWORD in \.env/);
    expect(await config(withOut, '-q')).toEqual({ code: 0, output: '' }); // the one Redis needs none
  });
});
