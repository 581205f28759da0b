import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { killEverything } from './platform.ts';
import type { Scenario, ScenarioResult } from './scenario.ts';
import { redisKills } from './scenarios/r1-redis-kills.ts';
import { workerKills } from './scenarios/r2-worker-kills.ts';
import { redisAway } from './scenarios/r3-redis-away.ts';
import { rollingRestart } from './scenarios/r4-rolling-restart.ts';
import { maxmemory } from './scenarios/r5-maxmemory.ts';
import { soak } from './scenarios/r6-soak.ts';
import { clientRetries } from './scenarios/r7-client.ts';

/**
 * `npm run chaos [-- --quick] [R1 R3 …]`: the fault-injection scenarios, one after another,
 * each on a platform of its own (redis-server with AOF, SMTP sink, producer, workers), each
 * printing one line of figures. Exits 1 if any scenario breaks its promise.
 */
const scenarios: Scenario[] = [
  redisKills,
  workerKills,
  redisAway,
  rollingRestart,
  maxmemory,
  soak,
  clientRetries,
];

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const chosen = args.filter((arg) => !arg.startsWith('--')).map((id) => id.toUpperCase());
const unknown = chosen.filter((id) => !scenarios.some((s) => s.id === id));
if (unknown.length > 0) {
  console.error(
    `Unknown scenario(s) ${unknown.join(', ')}; there are ${scenarios.map((s) => s.id).join(', ')}.`,
  );
  process.exit(2);
}
// However the run ends, none of its processes outlives it.
process.on('exit', killEverything);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killEverything();
    process.exit(130);
  });
}

const results: (ScenarioResult & { id: string; title: string; seconds: number })[] = [];
const log = (line: string) => console.error(`  ${new Date().toISOString().slice(11, 19)} ${line}`);
for (const scenario of scenarios.filter((s) => chosen.length === 0 || chosen.includes(s.id))) {
  const started = performance.now();
  let result: ScenarioResult;
  try {
    result = await scenario.run({ quick, log });
  } catch (error) {
    result = {
      pass: false,
      figures: 'did not finish',
      failures: [String((error as Error).stack ?? error)],
    };
  }
  const seconds = Math.round((performance.now() - started) / 1000);
  results.push({ id: scenario.id, title: scenario.title, seconds, ...result });
  console.log(
    `${scenario.id} ${result.pass ? 'pass' : 'FAIL'} (${seconds} s) ${scenario.title}: ${result.figures}`,
  );
  for (const failure of result.failures) console.log(`   ✗ ${failure}`);
}

const dir = join(import.meta.dirname, 'results');
mkdirSync(dir, { recursive: true });
const file = join(dir, quick ? 'quick.json' : `${new Date().toISOString().slice(0, 10)}.json`);
// A run of some scenarios keeps the day's lines of the others.
const earlier: typeof results = existsSync(file)
  ? JSON.parse(readFileSync(file, 'utf8')).results
  : [];
const kept = earlier.filter((old) => !results.some((r) => r.id === old.id));
const all = [...kept, ...results].sort((a, b) => a.id.localeCompare(b.id));
writeFileSync(
  file,
  `${JSON.stringify({ quick, at: new Date().toISOString(), results: all }, null, 2)}\n`,
);
console.log(`results: ${file}`);
killEverything();
process.exit(results.every((r) => r.pass) ? 0 : 1);
