/**
 * `npm run migrate-keys [-- --dry-run] [--stalled]`: move a Redis written by a release before
 * the per-queue hash tag to today's key layout (key-migration.ts), offline.
 *   --dry-run  count what would move, change nothing
 *   --stalled  also move jobs left active by a worker that stopped without finishing them
 * Where Redis is and the prefix come from the environment as for the apps (REDIS_URL or the
 * Sentinel settings, QUEUE_PREFIX), with a user that may SCAN and RENAME (admin).
 */
import { parseArgs } from 'node:util';
import { parseEnvParts } from '@errand/config';
import { createRedis, describeLocation, RedisLocationEnv } from '@errand/redis';
import { z } from 'zod';
import { WorkerEnv } from './env.ts';
import { MigrationRefused, migrateKeyLayout } from './key-migration.ts';

const say = (line: string) => process.stdout.write(`${line}\n`);

try {
  const { values } = parseArgs({
    options: { 'dry-run': { type: 'boolean' }, stalled: { type: 'boolean' } },
  });
  const env = parseEnvParts(
    { base: z.object({ QUEUE_PREFIX: WorkerEnv.shape.QUEUE_PREFIX }), redis: RedisLocationEnv },
    process.env,
    'migrate-keys',
  );
  if (env.redis.mode === 'cluster') {
    throw new MigrationRefused(
      'The earlier layout ran on one Redis (or a Sentinel primary), never on a Cluster: ' +
        'migrate there, then move the data to the cluster.',
    );
  }
  const redis = createRedis(env.redis, 'producer', { lazyConnect: true });
  try {
    await redis.connect();
    say(`migrate-keys: ${describeLocation(env.redis)}, prefix "${env.base.QUEUE_PREFIX}"`);
    const report = await migrateKeyLayout(redis, env.base.QUEUE_PREFIX, {
      dryRun: values['dry-run'],
      stalled: values.stalled,
    });
    const verb = values['dry-run'] ? 'would move' : 'moved';
    for (const [queue, keys] of Object.entries(report.queues))
      say(`  ${queue}: ${verb} ${keys} keys`);
    say(`  email send ledger: ${report.ledgerEntries} entries (among the email keys)`);
    say(`  idempotency records: ${report.idempotencyRecords}, each copied into every queue`);
    if (report.stalledJobs) say(`  active jobs moved as stalled: ${report.stalledJobs}`);
    say(values['dry-run'] ? 'dry run: nothing changed' : 'done: start this release now');
  } finally {
    redis.disconnect();
  }
} catch (error) {
  // A refusal says what to do; anything else (Redis away, a denied command) says what failed.
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(
    `migrate-keys: ${error instanceof MigrationRefused ? '' : 'failed: '}${message}\n`,
  );
  process.exitCode = 1;
}
