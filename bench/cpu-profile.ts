/**
 * `node bench/cpu-profile.ts <file.cpuprofile> [top]`: where a process spent its CPU, by
 * function (self time) and by package, from a profile written by `--cpu-prof` (for example
 * with BENCH_CPU_PROF=<dir> npm run bench -- <case>).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/cpu-profile.ts <file.cpuprofile> [top]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => {
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});

/** node_modules/<package>, node:<module>, the project's own path, or (program)/(gc)/(idle). */
const packageOf = (url: string, name: string) => {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (inModules) return inModules[1] as string;
  if (url.startsWith('node:')) return url;
  return url.replace(/^file:\/\/.*?\/(apps|libs|bench)\//, '$1/');
};

const sum = (map: Map<string, number>, key: string, us: number) =>
  map.set(key, (map.get(key) ?? 0) + us);
const functions = new Map<string, number>();
const packages = new Map<string, number>();
let total = 0;
for (const [id, us] of selfUs) {
  const frame = byId.get(id)?.callFrame;
  if (!frame) continue;
  total += us;
  const where = packageOf(frame.url, frame.functionName);
  sum(functions, `${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber + 1}`, us);
  sum(packages, where.split(':')[0] === 'node' ? where : where.replace(/\/src\/.*$/, ''), us);
}
const idle = (functions.get('(idle) (idle):0') ?? 0) / 1e6;
const top = Number(topArg ?? 25);
const print = (title: string, map: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [name, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((us / total) * 100).toFixed(1).padStart(5)}%  ${name}`);
  }
};
console.log(`${(total / 1e6).toFixed(1)} s sampled, ${idle.toFixed(1)} s idle`);
print('self time by function', functions);
print('self time by package or file', packages);
