import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, maskEmails } from './logger.ts';
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
