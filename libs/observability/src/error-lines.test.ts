import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { errorLines } from './error-lines.ts';
import { createLogger } from './logger.ts';

describe('errorLines', () => {
  it('logs each error as one line, the same message once a minute with a count of repeats', () => {
    let text = '';
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        text += chunk.toString();
        done();
      },
    });
    const onError = errorLines(createLogger('test-app', 'info', stream), 'queue error');
    for (let i = 0; i < 50; i++) onError(new Error('connect ECONNREFUSED 127.0.0.1:1'));
    onError(new Error('Connection is closed.'));
    onError(new Error('Connection is closed.'));
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    const parsed = lines.map((line) => JSON.parse(line));
    expect(parsed[0]).toMatchObject({
      level: 40, // warn
      msg: 'queue error',
      err: { message: 'connect ECONNREFUSED 127.0.0.1:1' },
    });
    expect(parsed[1].err.message).toBe('Connection is closed.');
    // The stack is a field of the line, not lines of its own.
    expect(parsed[0].err.stack).toContain('\n');
  });
});
