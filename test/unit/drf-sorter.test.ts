import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DrfSorter } from '../../actors/allocator/drf-sorter.js';
import { DuplicateIdError, InvalidWeightError, UnknownClientError } from '../../actors/allocator/errors.js';
import { Resources } from '../../protocol/resources.js';

const r = (text: string): Resources => Resources.parse(text);

/** A sorter with the given active clients and one agent `s1` of `total`. */
function sorterWith(total: string, ...clients: string[]): DrfSorter {
  const sorter = new DrfSorter();
  sorter.addTotal('s1', r(total));
  for (const c of clients) {
    sorter.add(c);
    sorter.activate(c);
  }
  return sorter;
}

describe('DrfSorter ordering (after Mesos sorter_tests DRFSorter)', () => {
  it('orders by dominant share as clients, allocations and totals change', () => {
    const sorter = sorterWith('cpus:100;mem:100', 'a', 'b');
    sorter.allocated('a', 's1', r('cpus:5;mem:5'));
    sorter.allocated('b', 's1', r('cpus:6;mem:6'));
    // shares: a = .05, b = .06
    expect(sorter.sort()).toEqual(['a', 'b']);
    expect(sorter.share('a')).toBeCloseTo(0.05, 12);

    for (const c of ['c', 'd']) {
      sorter.add(c);
      sorter.activate(c);
    }
    sorter.allocated('c', 's1', r('cpus:1;mem:1'));
    sorter.allocated('d', 's1', r('cpus:3;mem:1'));
    // shares: a = .05, b = .06, c = .01, d = .03 (cpus dominates for d)
    expect(sorter.sort()).toEqual(['c', 'd', 'a', 'b']);

    sorter.remove('a');
    sorter.unallocated('b', 's1', r('cpus:4;mem:4'));
    // shares: b = 2/100 = .02, c = .01, d = .03
    expect(sorter.sort()).toEqual(['c', 'b', 'd']);
    expect(sorter.allocation('b')).toEqual(new Map([['cpus', 2], ['mem', 2]]));

    sorter.add('e');
    sorter.activate('e');
    sorter.allocated('e', 's1', r('cpus:1;mem:5'));
    sorter.removeTotal('s1', r('cpus:50'));
    // totals: cpus = 50, mem = 100
    // shares: b = 2/50 = .04, c = 1/50 = .02, d = 3/50 = .06, e = max(1/50, 5/100) = .05
    expect(sorter.sort()).toEqual(['c', 'b', 'e', 'd']);

    sorter.addTotal('s2', r('mem:100'));
    sorter.add('f');
    sorter.activate('f');
    sorter.allocated('f', 's2', r('cpus:5;mem:1'));
    sorter.allocated('c', 's2', r('mem:15'));
    // totals: cpus = 50, mem = 200
    // shares: b = .04, c = max(1/50, 16/200) = .08, d = .06, e = max(.02, 5/200) = .025, f = 5/50 = .1
    expect(sorter.sort()).toEqual(['e', 'b', 'd', 'c', 'f']);
    expect(sorter.share('c')).toBeCloseTo(0.08, 12);
    expect(sorter.count()).toBe(5);
  });

  it('takes the dominant resource, not the sum', () => {
    const sorter = sorterWith('cpus:10;mem:1024', 'a', 'b');
    sorter.allocated('a', 's1', r('cpus:2;mem:100'));
    sorter.allocated('b', 's1', r('cpus:1;mem:512'));
    // shares: a = max(2/10, 100/1024) = .2 (cpus), b = max(1/10, 512/1024) = .5 (mem) → a first
    expect(sorter.sort()).toEqual(['a', 'b']);
    expect(sorter.share('a')).toBeCloseTo(0.2, 12);
    expect(sorter.share('b')).toBeCloseTo(0.5, 12);
  });

  it('ignores resource names whose cluster total is 0 or absent', () => {
    const sorter = sorterWith('cpus:10;mem:100', 'a', 'b');
    sorter.allocated('a', 's1', r('cpus:1;gpus:4'));
    sorter.allocated('b', 's1', r('cpus:2'));
    // gpus total = 0 → ignored; shares: a = 1/10 = .1, b = 2/10 = .2
    expect(sorter.sort()).toEqual(['a', 'b']);
    expect(sorter.share('a')).toBeCloseTo(0.1, 12);

    sorter.removeTotal('s1', r('cpus:10'));
    sorter.allocated('a', 's1', r('mem:20'));
    sorter.allocated('b', 's1', r('mem:10'));
    // cpus total is now 0 → ignored; shares: a = 20/100 = .2, b = 10/100 = .1
    expect(sorter.sort()).toEqual(['b', 'a']);
  });

  it('ports (ranges) do not count towards the share', () => {
    const sorter = sorterWith('cpus:10;ports:[31000-31999]', 'a', 'b');
    sorter.allocated('a', 's1', r('cpus:1;ports:[31000-31999]'));
    sorter.allocated('b', 's1', r('cpus:2'));
    // shares: a = 1/10 = .1, b = 2/10 = .2; ports are not scalar
    expect(sorter.sort()).toEqual(['a', 'b']);
  });
});

describe('DrfSorter weights', () => {
  it('divides the share by the weight (after Mesos WDRFSorter)', () => {
    const sorter = sorterWith('cpus:100;mem:100', 'a', 'b');
    sorter.allocated('a', 's1', r('cpus:5'));
    sorter.updateWeight('b', 2);
    sorter.allocated('b', 's1', r('cpus:6'));
    // shares: a = .05, b = .06 / 2 = .03
    expect(sorter.sort()).toEqual(['b', 'a']);
    expect(sorter.share('b')).toBeCloseTo(0.03, 12);

    sorter.add('c');
    sorter.activate('c');
    sorter.allocated('c', 's1', r('cpus:4'));
    // shares: a = .05, b = .03, c = .04
    expect(sorter.sort()).toEqual(['b', 'c', 'a']);

    sorter.add('d');
    sorter.activate('d');
    sorter.updateWeight('d', 10);
    sorter.allocated('d', 's1', r('cpus:10'));
    // shares: a = .05, b = .03, c = .04, d = .1 / 10 = .01
    expect(sorter.sort()).toEqual(['d', 'b', 'c', 'a']);

    sorter.updateWeight('d', 1);
    // shares: a = .05, b = .03, c = .04, d = .1
    expect(sorter.sort()).toEqual(['b', 'c', 'a', 'd']);
  });

  it('rejects weights that are not finite and positive', () => {
    const sorter = sorterWith('cpus:1', 'a');
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => sorter.updateWeight('a', bad)).toThrow(InvalidWeightError);
    }
  });
});

describe('DrfSorter tie-breaks', () => {
  it('on equal shares, the client allocated fewer times goes first', () => {
    const sorter = sorterWith('cpus:10', 'a', 'b');
    sorter.allocated('a', 's1', r('cpus:1'));
    sorter.allocated('a', 's1', r('cpus:1'));
    sorter.allocated('b', 's1', r('cpus:2'));
    // shares: a = 2/10 = .2 (2 allocations), b = 2/10 = .2 (1 allocation) → b first
    expect(sorter.sort()).toEqual(['b', 'a']);
  });

  it('on equal shares and counts, names decide (code-unit order)', () => {
    const sorter = sorterWith('cpus:10', 'b', 'a', 'C');
    // shares: all 0, counts all 0 → 'C' < 'a' < 'b'
    expect(sorter.sort()).toEqual(['C', 'a', 'b']);
    sorter.allocated('a', 's1', r('cpus:1'));
    sorter.allocated('b', 's1', r('cpus:1'));
    // shares: a = b = .1, counts 1 and 1; C = 0 → C, a, b
    expect(sorter.sort()).toEqual(['C', 'a', 'b']);
  });

  it('counts allocations, not net holdings: unallocating does not lower the count', () => {
    const sorter = sorterWith('cpus:10', 'a', 'b');
    sorter.allocated('a', 's1', r('cpus:1'));
    sorter.unallocated('a', 's1', r('cpus:1'));
    // shares: a = 0 (count 1), b = 0 (count 0) → b first
    expect(sorter.sort()).toEqual(['b', 'a']);
  });
});

describe('DrfSorter bookkeeping', () => {
  it('leaves inactive clients out of sort() but keeps their allocation', () => {
    const sorter = sorterWith('cpus:10', 'a', 'b');
    sorter.allocated('a', 's1', r('cpus:3'));
    sorter.deactivate('a');
    expect(sorter.sort()).toEqual(['b']);
    expect(sorter.allocation('a')).toEqual(new Map([['cpus', 3]]));
    sorter.activate('a');
    // shares: a = .3, b = 0
    expect(sorter.sort()).toEqual(['b', 'a']);
  });

  it('adds clients inactive', () => {
    const sorter = new DrfSorter();
    sorter.add('a');
    expect(sorter.contains('a')).toBe(true);
    expect(sorter.sort()).toEqual([]);
  });

  it('tracks scalar quantities only, summed over agents, and clamps unallocated at zero', () => {
    const sorter = sorterWith('cpus:10;mem:100;ports:[31000-31000]', 'a');
    sorter.allocated('a', 's1', r('cpus:2;mem:10;ports:[31000-31000]'));
    sorter.allocated('a', 's2', r('cpus:1;cpus(eng):1'));
    // cpus 2 + 1 + 1 (roles summed) = 4, mem 10; ports are not a quantity the sorter tracks
    expect(sorter.allocation('a')).toEqual(new Map([['cpus', 4], ['mem', 10]]));
    sorter.unallocated('a', 's1', r('cpus:5'));
    // cpus 4 − 5 clamps at 0 (the allocator never unallocates more than it allocated)
    expect(sorter.allocation('a')).toEqual(new Map([['mem', 10]]));
    // shares: a = max(0/10, 10/100) = .1
    expect(sorter.share('a')).toBeCloseTo(0.1, 12);
    sorter.removeTotal('s1', r('mem:50'));
    // mem total 50 → a = 10/50 = .2
    expect(sorter.share('a')).toBeCloseTo(0.2, 12);
  });

  it('throws typed errors for unknown and duplicate clients', () => {
    const sorter = sorterWith('cpus:1', 'a');
    expect(sorter.weight('a')).toBe(1);
    expect(sorter.isActive('a')).toBe(true);
    expect(() => sorter.add('a')).toThrow(DuplicateIdError);
    expect(() => sorter.allocated('x', 's1', r('cpus:1'))).toThrow(UnknownClientError);
    expect(() => sorter.share('x')).toThrow(UnknownClientError);
    expect(() => sorter.remove('x')).toThrow(UnknownClientError);
    sorter.remove('a');
    expect(sorter.contains('a')).toBe(false);
    expect(sorter.count()).toBe(0);
  });
});

describe('DrfSorter properties', () => {
  it('sort() returns exactly the active clients in DRF order, kept incrementally as from scratch', () => {
    const client = fc.constantFrom('a', 'b', 'c', 'd');
    const op = fc.oneof(
      fc.record({ kind: fc.constant('alloc' as const), client, cpus: fc.integer({ min: 0, max: 8 }), mem: fc.integer({ min: 0, max: 64 }) }),
      fc.record({ kind: fc.constant('free' as const), client, cpus: fc.integer({ min: 0, max: 8 }), mem: fc.integer({ min: 0, max: 64 }) }),
      fc.record({ kind: fc.constant('toggle' as const), client }),
      fc.record({ kind: fc.constant('weight' as const), client, weight: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ kind: fc.constant('sort' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60, size: 'max' }), (ops) => {
        const sorter = sorterWith('cpus:16;mem:256', 'a', 'b', 'c', 'd');
        const active = new Set(['a', 'b', 'c', 'd']);
        const counts = new Map([...active].map((c) => [c, 0]));
        for (const o of ops) {
          if (o.kind === 'sort') sorter.sort();
          else if (o.kind === 'alloc') {
            sorter.allocated(o.client, 's1', Resources.fromScalars({ cpus: o.cpus, mem: o.mem }));
            counts.set(o.client, counts.get(o.client)! + 1);
          } else if (o.kind === 'free') sorter.unallocated(o.client, 's1', Resources.fromScalars({ cpus: o.cpus, mem: o.mem }));
          else if (o.kind === 'weight') sorter.updateWeight(o.client, o.weight);
          else if (active.delete(o.client)) sorter.deactivate(o.client);
          else {
            active.add(o.client);
            sorter.activate(o.client);
          }
        }
        const order = [...sorter.sort()];
        expect([...order].sort()).toEqual([...active].sort());
        // the incrementally kept order equals the order computed from scratch
        const fresh = [...active].sort(
          (x, y) =>
            sorter.share(x) - sorter.share(y) || counts.get(x)! - counts.get(y)! || (x < y ? -1 : x > y ? 1 : 0),
        );
        expect(order).toEqual(fresh);
        const shares = order.map((c) => sorter.share(c));
        for (let i = 1; i < shares.length; i++) expect(shares[i]).toBeGreaterThanOrEqual(shares[i - 1] ?? 0);
      }),
      { numRuns: 200 },
    );
  });
});

describe('DrfSorter with many clients (the order spans many blocks)', () => {
  it('walks and sorts in DRF order after random changes, as a fresh sort would', () => {
    const names = Array.from({ length: 300 }, (_, i) => `c${String(i).padStart(3, '0')}`);
    const op = fc.oneof(
      fc.record({ kind: fc.constant('alloc' as const), i: fc.nat({ max: 299 }), cpus: fc.integer({ min: 0, max: 5 }) }),
      fc.record({ kind: fc.constant('free' as const), i: fc.nat({ max: 299 }), cpus: fc.integer({ min: 0, max: 5 }) }),
      fc.record({ kind: fc.constant('toggle' as const), i: fc.nat({ max: 299 }) }),
      fc.record({ kind: fc.constant('walk' as const), stopAfter: fc.nat({ max: 10 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 50, maxLength: 400, size: 'max' }), (ops) => {
        const sorter = new DrfSorter();
        sorter.addTotal('s1', r('cpus:10000'));
        const active = new Set(names);
        const counts = new Map(names.map((n) => [n, 0]));
        for (const n of names) {
          sorter.add(n);
          sorter.activate(n);
        }
        for (const o of ops) {
          const name = o.kind === 'walk' ? '' : (names[o.i] as string);
          if (o.kind === 'alloc') {
            sorter.allocated(name, 's1', Resources.fromScalars({ cpus: o.cpus }));
            counts.set(name, counts.get(name)! + 1);
          } else if (o.kind === 'free') sorter.unallocated(name, 's1', Resources.fromScalars({ cpus: o.cpus }));
          else if (o.kind === 'toggle') {
            if (active.delete(name)) sorter.deactivate(name);
            else {
              active.add(name);
              sorter.activate(name);
            }
          } else {
            let seen = 0;
            sorter.walk(() => ++seen < o.stopAfter);
          }
        }
        const fresh = [...active].sort(
          (x, y) => sorter.share(x) - sorter.share(y) || counts.get(x)! - counts.get(y)! || (x < y ? -1 : x > y ? 1 : 0),
        );
        expect([...sorter.sort()]).toEqual(fresh);
        const walked: string[] = [];
        sorter.walk((c) => walked.push(c) > 0);
        expect(walked).toEqual(fresh);
      }),
      { numRuns: 100 },
    );
  });
});
