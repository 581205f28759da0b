import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { killEverything } from './platform.ts';
import type { Scenario, ScenarioResult } from './scenario.ts';
import { redisKills } from './scenarios/r1-redis-kills.ts';
import { workerKills } from './scenarios/r2-worker-kills.ts';

/**
 * `npm run chaos [-- --quick] [R1 R3 …]`: the fault-injection scenarios, one after another,
 * each on a platform of its own (redis-server with AOF, SMTP sink, producer, workers), each
 * printing one line of figures. Exits 1 if any scenario breaks its promise.
 */
const scenarios: Scenario[] = [redisKills, workerKills];

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
writeFileSync(
  file,
  `${JSON.stringify({ quick, at: new Date().toISOString(), results }, null, 2)}\n`,
);
console.log(`results: ${file}`);
killEverything();
process.exit(results.every((r) => r.pass) ? 0 : 1);
