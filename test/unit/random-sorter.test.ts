import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RandomSorter } from '../../actors/allocator/random-sorter.js';
import { InvalidWeightError } from '../../actors/allocator/errors.js';
import { createRng } from '../../actors/runtime/rng.js';
import { Resources } from '../../protocol/resources.js';

const r = (text: string): Resources => Resources.parse(text);

/** A random sorter seeded with `seed`, holding the given active clients. */
function sorterWith(seed: number, ...clients: string[]): RandomSorter {
  const sorter = new RandomSorter(createRng(seed));
  sorter.addTotal('s1', r('cpus:100;mem:100'));
  for (const c of clients) {
    sorter.add(c);
    sorter.activate(c);
  }
  return sorter;
}

describe('RandomSorter', () => {
  it('returns every active client once, in an order the seed (and the same calls) replay', () => {
    const a = sorterWith(7, 'a', 'b', 'c', 'd', 'e');
    const b = sorterWith(7, 'a', 'b', 'c', 'd', 'e'); // the same calls and seed
    const orders = Array.from({ length: 5 }, () => [...a.sort()]);
    expect(Array.from({ length: 5 }, () => [...b.sort()])).toEqual(orders);
    for (const order of orders) expect([...order].sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    // five draws are not all the same order
    expect(new Set(orders.map((o) => o.join())).size).toBeGreaterThan(1);
  });

  it('walks lazily: stopping after one client draws one number', () => {
    let draws = 0;
    const base = createRng(9);
    const sorter = new RandomSorter(() => {
      draws++;
      return base();
    });
    for (const c of ['a', 'b', 'c', 'd']) {
      sorter.add(c);
      sorter.activate(c);
    }
    const seen: string[] = [];
    sorter.walk((c) => seen.push(c) < 1);
    expect(seen).toHaveLength(1);
    expect(draws).toBe(1);
    // a full walk is a permutation
    const all: string[] = [];
    sorter.walk((c) => all.push(c) > 0);
    expect([...all].sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('leaves inactive clients out', () => {
    const sorter = sorterWith(1, 'a', 'b', 'c');
    sorter.deactivate('b');
    expect([...sorter.sort()].sort()).toEqual(['a', 'c']);
    sorter.activate('b');
    sorter.remove('c');
    expect([...sorter.sort()].sort()).toEqual(['a', 'b']);
  });

  it('puts a client of weight 3 first about 3 times as often as one of weight 1', () => {
    const sorter = sorterWith(42, 'heavy', 'light');
    sorter.updateWeight('heavy', 3);
    let first = 0;
    const draws = 20_000;
    for (let i = 0; i < draws; i++) if (sorter.sort()[0] === 'heavy') first++;
    // P(heavy first) = 3 / (3 + 1) = .75
    expect(first / draws).toBeGreaterThan(0.73);
    expect(first / draws).toBeLessThan(0.77);
  });

  it('does not order by allocation, but still reports the weighted dominant share', () => {
    const sorter = sorterWith(3, 'a', 'b');
    sorter.allocated('a', 's1', r('cpus:50;mem:10'));
    sorter.updateWeight('a', 2);
    // shares: a = max(50/100, 10/100) / 2 = .25
    expect(sorter.share('a')).toBeCloseTo(0.25, 12);
    expect(sorter.allocation('a')).toEqual(new Map([['cpus', 50], ['mem', 10]]));
    expect(() => sorter.updateWeight('a', 0)).toThrow(InvalidWeightError);
  });

  it('orders by weight only: same seed and weights give the same order whatever the allocations', () => {
    fc.assert(
      fc.property(fc.integer(), fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 3, maxLength: 3 }), (seed, cpus) => {
        const plain = sorterWith(seed, 'a', 'b', 'c');
        const loaded = sorterWith(seed, 'a', 'b', 'c');
        ['a', 'b', 'c'].forEach((c, i) => loaded.allocated(c, 's1', Resources.fromScalars({ cpus: cpus[i] ?? 0 })));
        expect(loaded.sort()).toEqual(plain.sort());
      }),
      { numRuns: 100 },
    );
  });
});
