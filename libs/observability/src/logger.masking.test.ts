import { PassThrough } from 'node:stream';
import { expect, it } from 'vitest';
import { createLogger } from './logger.ts';

const capture = () => {
  const stream = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
  });
  return { logger: createLogger('test', 'info', stream), lines };
};

it('masks addresses in error stacks and in a bare logger.error(err), leaving the Error intact', async () => {
  const { logger, lines } = capture();
  const error = new Error('SMTP refused ada@example.com');
  void error.stack; // as BullMQ does before it emits "failed"
  logger.warn({ err: error }, 'job failed');
  logger.error(error);
  await new Promise((resolve) => setImmediate(resolve));
  const text = JSON.stringify(lines);
  expect(lines).toHaveLength(2);
  expect(text).not.toContain('ada@example.com');
  expect(text).toContain('[email]');
  expect(error.message).toBe('SMTP refused ada@example.com');
});
