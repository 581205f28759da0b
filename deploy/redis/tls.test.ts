import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { queueKey } from '@errand/queues';
import {
  type ProducerProcess,
  request,
  startProducerProcess,
  startTestRedis,
  type TestRedis,
} from '@errand/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';

/**
 * TLS as docs/deploying.md says to turn it on: the shipped configuration plus a TLS port, the apps
 * on `rediss://`, trusting the certificate's authority through NODE_EXTRA_CA_CERTS.
 */

const PREFIX = 'errand';
const secret = () => randomBytes(24).toString('base64url');
let dir: string;
let ca: string;
let redis: TestRedis;
let producer: ProducerProcess;

/** A CA and a server certificate for 127.0.0.1 signed by it, made by the openssl command. */
async function makeCertificates(at: string) {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: at, stdio: 'pipe' });
  const day = ['-days', '1'];
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    ...day,
    '-subj',
    '/CN=errand-test-ca',
  );
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'redis.key',
    '-out',
    'redis.csr',
    '-subj',
    '/CN=127.0.0.1',
  );
  await writeFile(join(at, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(
    'x509',
    '-req',
    '-in',
    'redis.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'redis.pem',
    ...day,
    '-extfile',
    'san.ext',
  );
  return { cert: join(at, 'redis.pem'), key: join(at, 'redis.key'), ca: join(at, 'ca.pem') };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'errand-tls-'));
  const tls = await makeCertificates(dir);
  ca = tls.ca;
  const deployed = { prefix: PREFIX, password: secret(), adminPassword: secret() };
  redis = await startTestRedis({ deployed, tls });
  producer = await startProducerProcess({
    REDIS_URL: redis.url,
    QUEUE_PREFIX: PREFIX,
    NODE_EXTRA_CA_CERTS: ca,
  });
});
afterAll(async () => {
  await producer?.stop();
  await redis?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('serves the apps over rediss:// as the errand user', async () => {
  expect(redis.url).toMatch(/^rediss:\/\/errand:/);
  expect((await fetch(`${producer.api}/readyz`)).status).toBe(200);
  const mail = { to: ['ada@example.com'], subject: 'Hi', text: 'Hello' };
  const added = await request(`${producer.api}/v1/jobs/email`, {
    method: 'POST',
    json: { data: mail },
  });
  expect(added.status).toBe(202);
  const admin = new Redis(redis.adminUrl ?? '', { tls: { ca: await readFile(ca) } });
  try {
    expect(await admin.hget(queueKey(PREFIX, 'email', added.body.id), 'data')).toBe(
      JSON.stringify(mail),
    );
  } finally {
    admin.disconnect();
  }
});

it('refuses a client that does not trust the certificate, and one without TLS', async () => {
  const untrusting = new Redis(redis.url, { lazyConnect: true, retryStrategy: () => null });
  const errors: string[] = [];
  untrusting.on('error', (error: Error) => errors.push(error.message));
  await expect(untrusting.connect()).rejects.toThrow();
  expect(errors.join('\n')).toMatch(/self-signed certificate/);
  untrusting.disconnect();
  const plain = new Redis(redis.url.replace('rediss:', 'redis:'), {
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  plain.on('error', () => undefined); // the refusal is asserted below
  await expect(plain.connect().then(() => plain.ping())).rejects.toThrow();
  plain.disconnect();
});
