import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, linesPerTick, maskEmails } from './logger.ts';
import { Metrics } from './metrics.ts';

/** A logger writing to memory, and the JSON lines it wrote so far. */
const capture = (level = 'info') => {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  const logger = createLogger('test-app', level, stream);
  const lines = () =>
    text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines };
};

describe('createLogger', () => {
  it('writes JSON lines with the app and honours the level', () => {
    const { logger, lines } = capture('warn');
    logger.info('too chatty');
    logger.warn({ queue: 'email' }, 'slow');
    expect(lines()).toEqual([
      expect.objectContaining({ app: 'test-app', queue: 'email', msg: 'slow' }),
    ]);
  });

  it('redacts secrets and personal data, top-level and nested', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        password: 'hunter2',
        authorization: 'Bearer abc',
        to: 'ada@example.com',
        payload: { email: 'bob@example.com', to: ['c@example.com'], subject: 'Hello' },
        queue: 'email',
      },
      'sending',
    );
    const [line] = lines();
    expect(line).toMatchObject({
      password: '[redacted]',
      authorization: '[redacted]',
      to: '[redacted]',
      payload: { email: '[redacted]', to: '[redacted]', subject: 'Hello' },
      queue: 'email',
    });
    expect(JSON.stringify(line)).not.toMatch(/hunter2|Bearer|@example\.com/);
  });

  it("redacts child bindings and objects in arrays; the caller's objects stay as they were", () => {
    const { logger, lines } = capture();
    const payload = {
      events: [{ userId: 'u-42', name: 'signup' }],
      deep: { a: { b: { to: 'x' } } },
    };
    logger.child({ jobId: '7', email: 'ada@example.com' }).info({ payload }, 'took');
    const [line] = lines();
    expect(line).toMatchObject({
      jobId: '7',
      email: '[redacted]',
      payload: { events: [{ name: 'signup' }] },
    });
    expect(JSON.stringify(line)).not.toContain('u-42');
    // Three levels down is past the redaction depth, as with `*.*.key` paths.
    expect(line?.payload).toMatchObject({ deep: { a: { b: { to: 'x' } } } });
    expect(payload.events[0]?.userId).toBe('u-42');
  });

  it('masks email addresses in the message and in err.message', () => {
    const { logger, lines } = capture();
    logger.info('delivered to ada@example.com and bob.smith+x@mail.example.org');
    logger.warn({ err: new Error('550 mailbox carl@example.com unknown') }, 'job failed');
    const [delivered, failed] = lines();
    expect(delivered?.msg).toBe('delivered to [email] and [email]');
    expect(failed).toMatchObject({
      msg: 'job failed',
      err: { type: 'Error', message: '550 mailbox [email] unknown' },
    });
    expect(maskEmails('no address here, just @ and a.b')).toBe('no address here, just @ and a.b');
  });
});

describe('linesPerTick', () => {
  it('writes the lines of one tick in one write, in order, and nothing when idle', async () => {
    const writes: string[] = [];
    const out = linesPerTick({ write: (text: string) => writes.push(text) });
    out.write('a\n');
    out.write('b\n');
    out.write('c\n');
    expect(writes).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual(['a\nb\nc\n']);
    await new Promise((resolve) => setImmediate(resolve));
    out.write('d\n');
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual(['a\nb\nc\n', 'd\n']);
  });
});

describe('Metrics', () => {
  it('prefixes metric names with errand_ once', async () => {
    const metrics = new Metrics('worker');
    metrics.counter({ name: 'x_total', help: 'x' }).inc(2);
    metrics.gauge({ name: 'errand_depth', help: 'depth' }).set(5);
    const { body, contentType } = await metrics.scrape();
    expect(contentType).toContain('text/plain');
    expect(body).toContain('errand_x_total{app="worker"} 2');
    expect(body).toContain('errand_depth{app="worker"} 5');
    expect(body).not.toMatch(/^x_total|errand_errand_/m);
  });

  it('includes default process metrics under the prefix', async () => {
    const { body } = await new Metrics('api').scrape();
    expect(body).toMatch(/^errand_process_cpu_user_seconds_total\{app="api"\} /m);
    expect(body).toMatch(/^errand_nodejs_heap_size_used_bytes\{app="api"\} /m);
    expect(body).not.toMatch(/^process_cpu/m);
  });
});
