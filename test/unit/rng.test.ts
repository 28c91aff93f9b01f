import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createRng, shuffle } from '../../actors/runtime/rng.js';

describe('createRng', () => {
  it('replays mulberry32: the published first outputs for seed 42', () => {
    const rng = createRng(42);
    expect([rng(), rng(), rng()]).toEqual([0.6011037519201636, 0.44829055899754167, 0.8524657934904099]);
  });

  it('gives the same sequence for the same seed and another for another seed', () => {
    const a = createRng(7);
    const b = createRng(7);
    const c = createRng(8);
    const seqA = Array.from({ length: 20 }, () => a());
    const seqB = Array.from({ length: 20 }, () => b());
    const seqC = Array.from({ length: 20 }, () => c());
    expect(seqB).toEqual(seqA);
    expect(seqC).not.toEqual(seqA);
  });

  it('stays in [0, 1) and averages near 1/2', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const rng = createRng(seed);
        for (let i = 0; i < 100; i++) {
          const x = rng();
          if (!(x >= 0 && x < 1)) return false;
        }
        return true;
      }),
      { numRuns: 200 },
    );
    const rng = createRng(1);
    let sum = 0;
    for (let i = 0; i < 10_000; i++) sum += rng();
    // mean of 10 000 uniform draws: 0.5 ± ~0.003 (σ = 0.289/100); allow 0.02
    expect(Math.abs(sum / 10_000 - 0.5)).toBeLessThan(0.02);
  });
});

describe('shuffle', () => {
  it('is deterministic for a seed and leaves its input alone', () => {
    const items = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    const first = shuffle(items, createRng(3));
    const again = shuffle(items, createRng(3));
    expect(again).toEqual(first);
    expect(items).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
    expect([...first].sort()).toEqual(items);
  });

  it('moves items: some seed in the first ten yields an order other than the input', () => {
    const items = [1, 2, 3, 4, 5];
    const orders = new Set(Array.from({ length: 10 }, (_, seed) => shuffle(items, createRng(seed)).join()));
    // 10 draws from 120 orders: at least a few distinct ones
    expect(orders.size).toBeGreaterThan(3);
  });

  it('returns a permutation of any input', () => {
    fc.assert(
      fc.property(fc.array(fc.integer()), fc.integer(), (items, seed) => {
        const out = shuffle(items, createRng(seed));
        expect([...out].sort((x, y) => x - y)).toEqual([...items].sort((x, y) => x - y));
      }),
      { numRuns: 200 },
    );
  });

  it('draws each of the 6 orders of 3 items about equally often', () => {
    const rng = createRng(11);
    const counts = new Map<string, number>();
    for (let i = 0; i < 6000; i++) {
      const key = shuffle(['x', 'y', 'z'], rng).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    // 6000 / 6 = 1000 each, σ ≈ 29; allow ±150
    expect(counts.size).toBe(6);
    for (const n of counts.values()) expect(Math.abs(n - 1000)).toBeLessThan(150);
  });

  it('handles empty and single-item arrays', () => {
    expect(shuffle([], createRng(1))).toEqual([]);
    expect(shuffle([9], createRng(1))).toEqual([9]);
  });
});
