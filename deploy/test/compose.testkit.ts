import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';

/** The repository root, where the compose file, Dockerfile and .env.example live. */
export const ROOT = join(import.meta.dirname, '..', '..');
/** The Sentinel variant's file, from the root. */
export const SENTINEL_COMPOSE_FILE = 'deploy/compose.sentinel.yml';
/** The object-storage variant's file, and the MinIO laid over it, from the root. */
export const S3_COMPOSE_FILE = 'deploy/compose.s3.yml';
export const MINIO_COMPOSE_FILE = 'deploy/compose.minio.yml';

/**
 * The deployment files as text, so that a rule can also be run on a broken copy of one: the
 * compose file and what it builds or mounts.
 */
export interface DeployFiles {
  compose: string;
  /** The Sentinel variant, laid over `compose`: `-f docker-compose.yml -f deploy/compose.sentinel.yml`. */
  composeSentinel: string;
  /** Images on an S3-compatible store, laid over `compose`. */
  composeS3: string;
  /** A MinIO on the host, laid over `compose` and `composeS3`. */
  composeMinio: string;
  envExample: string;
  gitignore: string;
  dockerfile: string;
  dockerignore: string;
  prometheus: string;
  grafanaDatasources: string;
  grafanaDashboards: string;
}

export async function readDeployFiles(): Promise<DeployFiles> {
  const read = (name: string) => readFile(join(ROOT, name), 'utf8');
  return {
    compose: await read('docker-compose.yml'),
    composeSentinel: await read(SENTINEL_COMPOSE_FILE),
    composeS3: await read(S3_COMPOSE_FILE),
    composeMinio: await read(MINIO_COMPOSE_FILE),
    envExample: await read('.env.example'),
    gitignore: await read('.gitignore'),
    dockerfile: await read('Dockerfile'),
    dockerignore: await read('.dockerignore'),
    prometheus: await read('deploy/prometheus/prometheus.yml'),
    grafanaDatasources: await read('deploy/grafana/provisioning/datasources/prometheus.yml'),
    grafanaDashboards: await read('deploy/grafana/provisioning/dashboards/errand.yml'),
  };
}

// --- the compose file -------------------------------------------------------------------------

export interface Service {
  image?: string;
  build?: { context: string; target?: string };
  entrypoint?: string[];
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  networks?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  restart?: string;
  stop_grace_period?: string;
  container_name?: string;
  profiles?: string[];
}

export interface Compose {
  services: Record<string, Service>;
  networks: Record<string, { internal?: boolean } | null>;
  volumes: Record<string, unknown>;
}

/**
 * The file as written (short syntax throughout, which the rules expect), not interpolated;
 * `<<: *anchor` merges resolved, as compose does.
 */
export const parseCompose = (text: string) => parse(text, { merge: true }) as Compose;

/** Lists compose replaces when a later file sets them, rather than adding to them. */
const REPLACED_LISTS = new Set(['command', 'entrypoint', 'test']);

/**
 * A file laid over another as `docker compose -f base -f over` does, for what these files
 * hold: mappings merge key by key, the later file's value wins; `command`, `entrypoint` and a
 * health check's `test` are replaced; other lists add the later file's items (mounts by
 * their target).
 */
export function mergeCompose(base: Compose, over: Compose): Compose {
  return mergeValue('', base, over) as Compose;
}

function mergeValue(key: string, base: unknown, over: unknown): unknown {
  if (over === undefined || over === null) return base ?? over;
  if (Array.isArray(over)) {
    if (REPLACED_LISTS.has(key) || !Array.isArray(base)) return over;
    if (key === 'volumes') {
      const targets = new Set(over.map((spec) => parseMount(String(spec)).target));
      return [...base.filter((spec) => !targets.has(parseMount(String(spec)).target)), ...over];
    }
    return [...base, ...over.filter((item) => !base.includes(item))];
  }
  if (isMapping(over) && isMapping(base)) {
    const merged: Record<string, unknown> = { ...base };
    for (const [name, value] of Object.entries(over)) {
      merged[name] = mergeValue(name, base[name], value);
    }
    return merged;
  }
  return over;
}

const isMapping = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** `KEY=VALUE` lines of a .env file; `#` starts a comment line; one pair of quotes is removed. */
export function parseDotenv(text: string): Map<string, string> {
  const env = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!match) continue;
    const value = (match[2] ?? '').trim();
    env.set(match[1] as string, /^(['"]).*\1$/.test(value) ? value.slice(1, -1) : value);
  }
  return env;
}

/** `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`; `$$` is `$`. */
const REFERENCE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g;

/**
 * The variables compose interpolates in a parsed file: every `${…}` in its values (comments are
 * not values; an escaped `$${…}` is the container's variable, not compose's).
 */
export function variablesIn(value: unknown): Set<string> {
  if (typeof value === 'string') {
    return new Set([...value.matchAll(REFERENCE)].flatMap((match) => (match[1] ? [match[1]] : [])));
  }
  const values = Array.isArray(value)
    ? value
    : value && typeof value === 'object'
      ? Object.values(value)
      : [];
  return new Set(values.flatMap((item) => [...variablesIn(item)]));
}

/** Interpolate as compose does: throws the `:?` message when a required value is empty. */
export function interpolate(text: string, env: ReadonlyMap<string, string>): string {
  return text.replace(REFERENCE, (whole, name?: string, operator?: string, word = '') => {
    if (!name) return '$';
    const value = env.get(name);
    const missing = operator?.startsWith(':') ? !value : value === undefined;
    if (!missing || !operator) return value ?? '';
    if (operator.endsWith('?')) throw new Error(`${whole}: ${word}`);
    return word;
  });
}

/** .env.example as an operator fills it in: every empty value made, as its comments say. */
export function filledEnv(example: ReadonlyMap<string, string>): Map<string, string> {
  const hex = () => randomBytes(32).toString('hex');
  const apiKeys = JSON.stringify([
    { name: 'deploy-test', key: `sha256:${hex()}`, scopes: ['enqueue', 'read'] },
  ]);
  // What the comments say to put there, where it is not a password.
  const made: Record<string, string> = { API_KEYS: apiKeys, SMTP_URL: 'smtp://mailpit:1025' };
  return new Map(
    [...example].map(([name, value]) => [name, value !== '' ? value : (made[name] ?? hex())]),
  );
}

/** `40s`, `1m30s`, `500ms` in milliseconds; NaN for anything else. */
export function durationMs(text: string | undefined): number {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1, us: 0.001 };
  const parts = [...(text ?? '').matchAll(/(\d+(?:\.\d+)?)(ms|us|h|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return Number.NaN;
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * (units[unit as string] ?? 0), 0);
}

/** A short-syntax published port, `[ip:]published:target[/protocol]`. */
export function parsePort(spec: string) {
  const [address, protocol = 'tcp'] = spec.split('/');
  const parts = (address ?? '').split(':');
  const target = Number(parts.pop());
  const published = parts.pop();
  return { hostIp: parts.length > 0 ? parts.join(':') : undefined, published, target, protocol };
}

/** A short-syntax mount, `source:target[:mode]`; named when the source is not a path. */
export function parseMount(spec: string) {
  const [source = '', target = '', mode = 'rw'] = spec.split(':');
  return {
    source,
    target,
    readOnly: mode.split(',').includes('ro'),
    named: !/^[./~]/.test(source),
  };
}

// --- the Dockerfile -----------------------------------------------------------------------------

export interface Instruction {
  keyword: string;
  args: string;
}
export interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Build stages in order; continuation lines joined, comments dropped. */
export function dockerfileStages(text: string): Stage[] {
  const logical = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((line) => line.trim() !== '');
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, keyword = '', args = ''] = /^\s*(\S+)\s*(.*)$/.exec(line) ?? [];
    if (keyword.toUpperCase() === 'FROM') {
      const [from = '', as, name] = args.split(/\s+/).filter((word) => !word.startsWith('--'));
      stages.push({ from, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else stages.at(-1)?.instructions.push({ keyword: keyword.toUpperCase(), args: args.trim() });
  }
  return stages;
}

/** A stage and the stages it is built FROM, the outermost base first. */
export function stageChain(stages: Stage[], name: string | undefined): Stage[] {
  const stage = stages.find((s) => s.name === name);
  if (!stage) return [];
  return [...stageChain(stages.slice(0, stages.indexOf(stage)), stage.from), stage];
}

/** What a stage ends up with after its chain: ENV, USER, ENTRYPOINT, CMD, HEALTHCHECK, RUNs, COPYs. */
export function effectiveStage(stages: Stage[], name: string | undefined) {
  const env: Record<string, string> = {};
  const result = {
    env,
    user: undefined as string | undefined,
    runs: [] as string[],
    copies: [] as string[],
  };
  const last: Record<string, string> = {};
  for (const { instructions } of stageChain(stages, name)) {
    for (const { keyword, args } of instructions) {
      if (keyword === 'ENV') {
        for (const [, key, value] of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)/g)) {
          env[key as string] = (value as string).replace(/^"(.*)"$/, '$1');
        }
      } else if (keyword === 'USER') result.user = args;
      else if (keyword === 'RUN') result.runs.push(args);
      else if (keyword === 'COPY') result.copies.push(args);
      else last[keyword] = args;
    }
  }
  const json = (args: string | undefined) => (args?.startsWith('[') ? JSON.parse(args) : args);
  return {
    ...result,
    base: stageChain(stages, name)[0]?.from,
    entrypoint: json(last.ENTRYPOINT) as string[] | string | undefined,
    cmd: json(last.CMD) as string[] | string | undefined,
    healthcheck: last.HEALTHCHECK,
  };
}

// --- .dockerignore ----------------------------------------------------------------------------

/** Docker's wildcards (Go's filepath.Match, and `**` for any number of folders). */
const GLOB: Record<string, string> = { '**/': '(.*/)?', '**': '.*', '*': '[^/]*', '?': '[^/]' };

/** Whether Docker leaves `path` out of the build context: it or a folder above it matches. */
export function isIgnored(dockerignore: string, path: string): boolean {
  const patterns = dockerignore
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const toRegExp = (pattern: string) => {
    const parts = pattern.replace(/^\//, '').split(/(\*\*\/|\*\*|\*|\?)/);
    const source = parts.map((part) => GLOB[part] ?? part.replace(/[.+^${}()|[\]\\]/g, '\\$&'));
    return new RegExp(`^${source.join('')}$`);
  };
  const segments = path.split('/');
  const candidates = segments.map((_, i) => segments.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    const regexp = toRegExp(negated ? pattern.slice(1) : pattern);
    if (candidates.some((candidate) => regexp.test(candidate))) ignored = !negated;
  }
  return ignored;
}

// --- the docker compose command ---------------------------------------------------------------

/** Run a command to its end with only the given environment: exit code and all it printed. */
export function run(command: string, args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

const NO_COMPOSE =
  'docker compose is not installed: the compose file is validated by it, and no Docker engine ' +
  "is needed for that. Install Debian's package (apt-get install docker-compose) or Docker's " +
  'compose plugin.';

/** `docker-compose` (Debian's package), else the `docker compose` plugin; fails saying how to get one. */
export async function composeCommand(): Promise<string[]> {
  for (const command of [['docker-compose'], ['docker', 'compose']]) {
    const [binary = '', ...rest] = command;
    const answer = await run(binary, [...rest, 'version']).catch(() => undefined);
    if (answer?.code === 0) return command;
  }
  throw new Error(NO_COMPOSE);
}
