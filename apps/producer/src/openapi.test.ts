import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { jobs, jobTypes } from '@errand/contract';
import { isJobId, RESERVED_JOB_IDS } from '@errand/queues';
import { REPO_ROOT, request } from '@errand/testing';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProducer } from '../test/app.testkit.ts';
import { routes } from './app.ts';
import { IDEMPOTENCY_LEASE_MS, IDEMPOTENCY_TTL_S } from './idempotency.ts';
import { CANCELLABLE } from './routes/jobs.cancel.ts';

/** The OpenAPI document the producer serves: valid 3.1, and it lists every route of the app. */
describe('OpenAPI document and docs', () => {
  let producer: Awaited<ReturnType<typeof startProducer>>;
  beforeAll(async () => {
    producer = await startProducer('openapi');
  });
  afterAll(() => producer?.stop());

  it('is a valid OpenAPI 3.1 document', async () => {
    const { status, body } = await request(`${producer.api}/openapi.json`);
    expect(status).toBe(200);
    expect(body.openapi).toBe('3.1.0');
    const validator = new Validator();
    const result = await validator.validate(body);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('passes the redocly linter (recommended rules) with no error and no warning', async () => {
    const { body } = await request(`${producer.api}/openapi.json`);
    const dir = await mkdtemp(join(tmpdir(), 'errand-openapi-'));
    try {
      const file = join(dir, 'openapi.json');
      await writeFile(file, JSON.stringify(body));
      const cli = join(REPO_ROOT, 'node_modules', '@redocly', 'cli', 'bin', 'cli.js');
      const args = [
        cli,
        'lint',
        file,
        '--config',
        join(REPO_ROOT, 'redocly.yaml'),
        '--format=json',
      ];
      const env = {
        ...process.env,
        REDOCLY_TELEMETRY: 'off',
        REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
      };
      // It exits 1 when it finds an error; the report on stdout says what either way.
      const { stdout } = await promisify(execFile)(process.execPath, args, { env }).catch(
        (error: { stdout: string }) => error,
      );
      const report = JSON.parse(stdout);
      const problems = report.problems.map(
        (p: { ruleId: string; message: string; location: { pointer: string }[] }) =>
          `${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`,
      );
      expect(problems).toEqual([]);
      expect(report.totals).toEqual({ errors: 0, warnings: 0, ignored: 0 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names every operation, for code generators', async () => {
    const { body } = await request(`${producer.api}/openapi.json`);
    const ids = Object.values(body.paths).flatMap((item) =>
      Object.values(item as Record<string, { operationId?: string }>).map((o) => o.operationId),
    );
    expect(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('documents every route the app serves, with its error statuses', async () => {
    const { body } = await request(`${producer.api}/openapi.json`);
    // `:id` and the wildcard `*key` (a key with slashes) are both one `{…}` parameter.
    const served = routes.map(([method, path]) => [method, path.replace(/[:*](\w+)/g, '{$1}')]);
    expect(served.length).toBeGreaterThanOrEqual(9);
    for (const [method, path] of served) {
      const operation = body.paths[path as string]?.[method as string];
      expect(operation, `${method} ${path}`).toBeDefined();
      expect(Object.keys(operation.responses)).toEqual(
        expect.arrayContaining(['401', '403', '429', '503']),
      );
    }
    // And nothing the app does not serve. Express answers HEAD wherever it serves GET, so a
    // documented HEAD needs the GET of its path.
    const documented = Object.entries(body.paths).flatMap(([path, item]) =>
      Object.keys(item as object).map((method) => `${method} ${path}`),
    );
    const gets = documented.filter((o) => o.startsWith('head ')).map((o) => `get ${o.slice(5)}`);
    expect(documented).toEqual(expect.arrayContaining(gets));
    expect(documented.filter((o) => !o.startsWith('head ')).sort()).toEqual(
      served.map(([m, p]) => `${m} ${p}`).sort(),
    );
  });

  it('carries the contract schemas: the payloads and the envelope limits', async () => {
    const { body } = await request(`${producer.api}/openapi.json`);
    const schemas = body.components.schemas;
    expect(Object.keys(schemas)).toEqual(
      expect.arrayContaining([
        ...jobTypes
          .filter((type) => jobs[type].enqueueScope !== 'none')
          .map((type) =>
            type
              .replace(/(^|-)([a-z])/g, (_, _dash, c: string) => `${c.toUpperCase()}`)
              .concat('Payload'),
          ),
        'Problem',
        'JobView',
        'AnalyticsReport',
        'EventList',
      ]),
    );
    // Deliveries are Errand's own: no payload of theirs is offered to callers.
    expect(Object.keys(schemas)).not.toContain('WebhookPayload');
    expect(schemas.EmailPayload.additionalProperties).toBe(false);
    expect(schemas.EnqueueRequest.properties.attempts).toMatchObject({ minimum: 1, maximum: 100 });
  });

  it('states what the code does: job ids, idempotency times, what can be cancelled', async () => {
    const { body } = await request(`${producer.api}/openapi.json`);
    const job = body.paths['/v1/jobs/{type}/{id}'];
    const idParam = job.get.parameters.find((p: { name: string }) => p.name === 'id');
    const pattern = new RegExp(idParam.schema.pattern);
    const ids = ['1', 'a.b-c_d', 'repeat:daily:1795586400000', 'a:b', 'a b', '', 'x'.repeat(161)];
    for (const id of [...ids, ...RESERVED_JOB_IDS]) {
      const documented = pattern.test(id) && id.length <= idParam.schema.maxLength;
      // The one thing a pattern cannot say, the reserved key names, the description lists.
      const named = RESERVED_JOB_IDS.has(id) && idParam.description.includes(id);
      expect(documented && !named, JSON.stringify(id)).toBe(isJobId(id));
    }
    const post = body.paths['/v1/jobs/{type}'].post;
    const key = post.parameters.find((p: { name: string }) => p.name === 'idempotency-key');
    expect(key.description).toContain(`within ${IDEMPOTENCY_TTL_S / 3600} h`);
    expect(key.description).toContain(`for ${IDEMPOTENCY_LEASE_MS / 1000} s`);
    for (const state of CANCELLABLE) expect(job.delete.summary).toContain(state);
  });

  it('renders the document at /docs, with its assets served locally', async () => {
    const page = await request(`${producer.api}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.body).toContain('swagger-ui-bundle.js');
    const script = await fetch(`${producer.api}/docs/swagger-ui-bundle.js`);
    expect(script.status).toBe(200);
    expect((await script.text()).length).toBeGreaterThan(100_000);
    expect(await (await fetch(`${producer.api}/docs/init.js`)).text()).toContain('/openapi.json');
  });
});
