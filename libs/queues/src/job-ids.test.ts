import { describe, expect, it } from 'vitest';
import { isJobId, MAX_JOB_ID_LENGTH, RESERVED_JOB_IDS } from './job-ids.ts';

describe('isJobId', () => {
  it('takes BullMQ sequence ids, custom ids and scheduler fires', () => {
    for (const id of ['1', '42', 'order-7.retry_2', 'repeat:daily-digest:1795586400000'])
      expect(isJobId(id), id).toBe(true);
  });

  it("refuses the names of the queue's own keys, whatever the case of the rest", () => {
    for (const id of ['meta', 'events', 'wait', 'id', 'repeat', 'metrics']) {
      expect(RESERVED_JOB_IDS.has(id), id).toBe(true);
      expect(isJobId(id), id).toBe(false);
    }
  });

  it('refuses other colons, paths, spaces, empty and overlong ids', () => {
    const long = 'a'.repeat(MAX_JOB_ID_LENGTH + 1);
    const longFire = `repeat:${'a'.repeat(MAX_JOB_ID_LENGTH)}:1`;
    for (const id of ['', 'a:b', 'repeat:x', 'repeat:a:b:1', '../meta', 'a b', 'é', long, longFire])
      expect(isJobId(id), id).toBe(false);
    expect(isJobId('a'.repeat(MAX_JOB_ID_LENGTH))).toBe(true);
  });
});
