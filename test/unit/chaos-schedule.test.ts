// The chaos fault schedule: pure and seeded. Same seed, same schedule; every kind gets a
// turn when the window allows; faults stay inside the window so every process is back
// by the end of the phase; a fault's draw picks among the candidates alive at the time.
import { describe, expect, it } from 'vitest';
import { HOLD_MS, MAX_HOLD_MS, faultKinds, pickTarget, planFaults } from '../../bin/chaos/schedule.js';
import { FAULT_KINDS } from '../../bin/chaos/types.js';

const kinds = faultKinds(false, FAULT_KINDS);

describe('planFaults', () => {
  it('is a function of its options: the same seed gives the same schedule, another seed another', () => {
    const a = planFaults({ seed: 7, durationMs: 120_000, kinds });
    expect(planFaults({ seed: 7, durationMs: 120_000, kinds })).toEqual(a);
    expect(planFaults({ seed: 8, durationMs: 120_000, kinds })).not.toEqual(a);
  });

  it('gives every kind a turn in a 45 s run, in time order, inside the window', () => {
    for (const seed of [1, 7, 42, 1234]) {
      const s = planFaults({ seed, durationMs: 45_000, kinds });
      expect(new Set(s.map((f) => f.kind))).toEqual(new Set(kinds));
      const times = s.map((f) => f.atMs);
      expect(times).toEqual([...times].sort((x, y) => x - y));
      expect(Math.min(...times)).toBeGreaterThanOrEqual(3000);
      for (const f of s) expect(f.atMs + f.holdMs).toBeLessThanOrEqual(45_000);
    }
  });

  it('leaves kill-nats out on one nats-server and puts it in on a cluster', () => {
    expect(kinds).not.toContain('kill-nats');
    const s = planFaults({ seed: 3, durationMs: 60_000, kinds: faultKinds(true, FAULT_KINDS) });
    expect(s.map((f) => f.kind)).toContain('kill-nats');
  });

  it('holds each kind within its bounds; executors are not restored', () => {
    for (const f of planFaults({ seed: 11, durationMs: 600_000, kinds: faultKinds(true, FAULT_KINDS) })) {
      const [min, max] = HOLD_MS[f.kind];
      expect(f.holdMs).toBeGreaterThanOrEqual(min);
      expect(f.holdMs).toBeLessThanOrEqual(max);
      expect(f.pick).toBeGreaterThanOrEqual(0);
      expect(f.pick).toBeLessThan(1);
      if (f.kind === 'kill-executor') expect(f.holdMs).toBe(0);
    }
  });

  it('spaces faults by about the mean gap in a long run (120 s: 3 s warm-up, 8 s margin, 4 s gaps → 27 faults)', () => {
    expect(MAX_HOLD_MS).toBe(8000);
    expect(planFaults({ seed: 5, durationMs: 120_000, kinds })).toHaveLength(Math.floor((120_000 - 8000 - 3000) / 4000));
  });

  it('plans nothing when the window is empty or there is nothing to inject', () => {
    expect(planFaults({ seed: 1, durationMs: 10_000, kinds })).toEqual([]);
    expect(planFaults({ seed: 1, durationMs: 60_000, kinds: [] })).toEqual([]);
  });
});

describe('pickTarget', () => {
  it('maps the draw onto the candidates, and finds none among none', () => {
    expect(pickTarget(['a', 'b', 'c'], 0)).toBe('a');
    expect(pickTarget(['a', 'b', 'c'], 0.5)).toBe('b');
    expect(pickTarget(['a', 'b', 'c'], 0.999)).toBe('c');
    expect(pickTarget([], 0.5)).toBeUndefined();
  });
});
