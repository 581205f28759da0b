import { execFile, execFileSync, spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '@errand/testing';

const run = promisify(execFile);
const BIN = join(REPO_ROOT, 'node_modules', '.bin');
/** npm scripts (the package's prepack) run with the project's Node 24 first on PATH, as `npm run` does. */
const PATH = `${BIN}${delimiter}${process.env.PATH ?? ''}`;

/** What `npm pack` reports of the tarball it made. */
export interface Packed {
  tarball: string;
  name: string;
  version: string;
  files: string[];
}

/** `npm pack -w @errand/client` into `dir` (its prepack builds dist/ first). */
export async function packClient(dir: string): Promise<Packed> {
  const { stdout } = await run(
    'npm',
    ['pack', '--json', '-w', '@errand/client', '--pack-destination', dir],
    { cwd: REPO_ROOT, env: { ...process.env, PATH }, maxBuffer: 16 * 1024 * 1024 },
  );
  // prepack's output comes first on stdout; the JSON report is the last thing printed.
  const [report] = JSON.parse(stdout.slice(stdout.lastIndexOf('\n[') + 1)) as {
    filename: string;
    name: string;
    version: string;
    files: { path: string }[];
  }[];
  if (!report) throw new Error(`npm pack printed no report:\n${stdout}`);
  return {
    tarball: join(dir, report.filename),
    name: report.name,
    version: report.version,
    files: report.files.map((f) => f.path).sort(),
  };
}

/**
 * A calling service's own project, outside the workspace (in the system's temp dir): a
 * package.json of its own, the script of `test/installed/`, a tsconfig, and the tarball
 * installed with plain `npm install <tarball>` from the registry's dependencies.
 */
export async function serviceProject(tarball: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'errand-service-'));
  await writeFile(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'calling-service', private: true, type: 'module' }, null, 2),
  );
  await mkdir(join(dir, 'src'));
  await copyFile(
    join(REPO_ROOT, 'libs', 'client', 'test', 'installed', 'service.ts'),
    join(dir, 'src', 'service.ts'),
  );
  await writeFile(
    join(dir, 'tsconfig.json'),
    JSON.stringify(
      {
        compilerOptions: {
          target: 'es2022',
          module: 'nodenext',
          moduleResolution: 'nodenext',
          strict: true,
          // The service's own checks, not skipLibCheck: the installed .d.ts is checked too.
          skipLibCheck: false,
          outDir: 'out',
          rootDir: 'src',
          // Node's types, borrowed from the workspace (the service would have its own).
          typeRoots: [join(REPO_ROOT, 'node_modules', '@types')],
          types: ['node'],
        },
        include: ['src'],
      },
      null,
      2,
    ),
  );
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], {
    cwd: dir,
    env: { ...process.env, PATH },
  });
  return dir;
}

/** `tsc -p dir` with the workspace's TypeScript: type-checks the script, emits out/service.js. */
export async function typeCheck(dir: string): Promise<void> {
  const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    await run(process.execPath, [tsc, '-p', dir], { cwd: dir });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`tsc failed:\n${stdout}${stderr}`);
  }
}

/** The names installed under node_modules/<scope>. */
export const installedIn = (dir: string, scope: string) =>
  readdir(join(dir, 'node_modules', scope)).catch(() => [] as string[]);

/**
 * A `node` of major version `major` on PATH (outside the workspace's node_modules): the
 * machine's own Node, as a service would run it.
 */
export function systemNode(major: number): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir || dir.includes('node_modules')) continue;
    const candidate = join(dir, 'node');
    try {
      const version = execFileSync(candidate, ['--version'], { encoding: 'utf8' });
      if (version.startsWith(`v${major}.`)) return candidate;
    } catch {
      // not there
    }
  }
  return undefined;
}

export const BUN = join(BIN, 'bun');

/**
 * Run the service script with `command args`: when it prints `restart-producer`, `restart`
 * is called (it stops the producer, then starts it again in the background) and the script
 * is told `stopped`. Resolves with its output once it exits 0; rejects otherwise.
 */
export function runService(
  command: string,
  args: string[],
  options: { cwd: string; env: Record<string, string>; restart: () => Promise<void> },
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    let restarted = false;
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (!restarted && output.includes('restart-producer\n')) {
        restarted = true;
        options.restart().then(
          () => child.stdin.write('stopped\n'),
          (error: unknown) => {
            child.kill();
            reject(error);
          },
        );
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) resolve(output);
      else reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${output}`));
    });
  });
}
