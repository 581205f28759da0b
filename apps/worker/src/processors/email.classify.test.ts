import { describe, expect, it } from 'vitest';
import { PermanentError, ThrottleError } from '../processor.ts';
import { classify } from './email.ts';

const smtp = (responseCode: number | undefined, message: string, code?: string) =>
  Object.assign(new Error(message), { responseCode, code });

describe('SMTP failure taxonomy', () => {
  it('throttles on 421 and 451, for the time the server names or the configured one', () => {
    const named = classify(smtp(421, '421 4.7.0 Try again in 30 seconds'), 60_000);
    expect(named).toBeInstanceOf(ThrottleError);
    expect((named as ThrottleError).delayMs).toBe(30_000);
    expect((classify(smtp(451, '451 try again in 2 minutes'), 1) as ThrottleError).delayMs).toBe(
      120_000,
    );
    expect((classify(smtp(451, '451 local error'), 5_000) as ThrottleError).delayMs).toBe(5_000);
  });

  it('fails permanently on 5xx and on an envelope with no server answer', () => {
    expect(classify(smtp(550, '550 no such user'), 1)).toBeInstanceOf(PermanentError);
    expect(classify(smtp(554, '554 rejected'), 1)).toBeInstanceOf(PermanentError);
    expect(classify(smtp(undefined, 'No recipients defined', 'EENVELOPE'), 1)).toBeInstanceOf(
      PermanentError,
    );
  });

  it('leaves other 4xx and network errors to be retried', () => {
    for (const error of [smtp(450, 'busy'), smtp(undefined, 'connect ECONNREFUSED', 'ESOCKET')]) {
      const result = classify(error, 1);
      expect(result).toBe(error);
      expect(result).not.toBeInstanceOf(PermanentError);
      expect(result).not.toBeInstanceOf(ThrottleError);
    }
  });
});
