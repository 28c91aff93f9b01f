import { describe, expect, it } from 'vitest';
import { RefusalCounts } from '../../actors/runtime/refusals.js';

describe('RefusalCounts', () => {
  it('counts decode errors per union and code, and rejections per code, with totals', () => {
    const r = new RefusalCounts();
    r.decodeError('SchedulerCall', 'MALFORMED');
    r.decodeError('SchedulerCall', 'MALFORMED');
    r.decodeError('AgentToMaster', 'TOO_LARGE');
    r.rejected('MALFORMED');
    r.rejected('WRONG_PRINCIPAL');
    r.rejected('MALFORMED');
    expect(r.decodeErrors).toBe(3);
    expect(r.rejectedTotal).toBe(3);
    expect(r.decodeErrorCounts()).toEqual([
      { union: 'AgentToMaster', code: 'TOO_LARGE', count: 1 },
      { union: 'SchedulerCall', code: 'MALFORMED', count: 2 },
    ]);
    expect(r.rejectionCounts()).toEqual([
      { code: 'MALFORMED', count: 2 },
      { code: 'WRONG_PRINCIPAL', count: 1 },
    ]);
  });

  it('hands out copies: a reader cannot change the counts', () => {
    const r = new RefusalCounts();
    r.decodeError('Reply', 'INVALID');
    r.decodeErrorCounts()[0]!.count = 99;
    expect(r.decodeErrorCounts()[0]!.count).toBe(1);
  });
});
