import { join } from 'node:path';
import { chooseCases, writeResults } from '../scripts/case-runs.ts';
import { killEverything } from './platform.ts';
import type { Scenario, ScenarioResult } from './scenario.ts';
import { redisKills } from './scenarios/r1-redis-kills.ts';
import { workerKills } from './scenarios/r2-worker-kills.ts';
import { redisAway } from './scenarios/r3-redis-away.ts';
import { rollingRestart } from './scenarios/r4-rolling-restart.ts';
import { maxmemory } from './scenarios/r5-maxmemory.ts';
import { soak } from './scenarios/r6-soak.ts';
import { clientRetries } from './scenarios/r7-client.ts';
import { sentinelFailover } from './scenarios/r8-sentinel-failover.ts';
import { clusterFailover } from './scenarios/r9-cluster-failover.ts';
import { webhooks } from './scenarios/r10-webhooks.ts';
import { objectStore } from './scenarios/r11-object-store.ts';

/**
 * `npm run chaos [-- --quick] [R1 R3 …]`: the fault-injection scenarios, one after another,
 * each on a platform of its own (redis-server with AOF, a Sentinel group for R8, a Cluster for
 * R9; SMTP sink, producer, workers; for R10 webhook receivers too, for R11 an S3-protocol
 * server), each printing one line of figures. Exits 1 if any scenario breaks its promise.
 */
const scenarios: Scenario[] = [
  redisKills,
  workerKills,
  redisAway,
  rollingRestart,
  maxmemory,
  soak,
  clientRetries,
  sentinelFailover,
  clusterFailover,
  webhooks,
  objectStore,
];

const { quick, chosen } = chooseCases(scenarios, (s) => s.id, 'scenario');
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
for (const scenario of chosen) {
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

// A run of some scenarios keeps the day's lines of the others.
const file = await writeResults({
  dir: join(import.meta.dirname, 'results'),
  quick,
  field: 'results',
  fresh: results,
  caseOf: (result) => result.id,
  document: (all) => ({
    quick,
    at: new Date().toISOString(),
    results: all.sort((a, b) => a.id.localeCompare(b.id)),
  }),
});
console.log(`results: ${file}`);
killEverything();
process.exit(results.every((r) => r.pass) ? 0 : 1);
