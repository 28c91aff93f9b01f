import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DrfSorter } from '../../actors/allocator/drf-sorter.js';
import { DuplicateIdError, UnknownClientError } from '../../actors/allocator/errors.js';
import { HierarchicalSorter } from '../../actors/allocator/hierarchical-sorter.js';
import { RandomSorter } from '../../actors/allocator/random-sorter.js';
import { createRng } from '../../actors/runtime/rng.js';
import { Resources } from '../../protocol/resources.js';

const r = (text: string): Resources => Resources.parse(text);

/** A DRF role tree over one agent of cpus:100;mem:100 with the given active roles. */
function treeWith(...roles: string[]): HierarchicalSorter {
  const sorter = new HierarchicalSorter(() => new DrfSorter());
  sorter.addTotal('s1', r('cpus:100;mem:100'));
  for (const role of roles) {
    sorter.add(role);
    sorter.activate(role);
  }
  return sorter;
}

describe('HierarchicalSorter (DRF at every level)', () => {
  it('with flat roles, is the plain DRF order', () => {
    const tree = treeWith('a', 'b', 'c');
    tree.allocated('a', 's1', r('cpus:5'));
    tree.allocated('b', 's1', r('cpus:6'));
    // shares: a = .05, b = .06, c = 0
    expect(tree.sort()).toEqual(['c', 'a', 'b']);
    expect(tree.share('b')).toBeCloseTo(0.06, 12);
  });

  it('compares siblings by their whole subtree, then orders inside each subtree', () => {
    const tree = treeWith('eng/web', 'eng/batch', 'ops');
    tree.allocated('eng/web', 's1', r('cpus:10'));
    tree.allocated('eng/batch', 's1', r('cpus:2'));
    tree.allocated('ops', 's1', r('cpus:8'));
    // top level: eng = (10 + 2)/100 = .12, ops = .08 → ops first
    // inside eng: batch = .02, web = .10 → batch, web
    expect(tree.sort()).toEqual(['ops', 'eng/batch', 'eng/web']);
    expect(tree.share('eng')).toBeCloseTo(0.12, 12);
    expect(tree.subtreeAllocation('eng')).toEqual(new Map([['cpus', 12]]));
    expect(tree.allocation('eng/web')).toEqual(new Map([['cpus', 10]]));
    tree.allocated('ops', 's1', r('cpus:5'));
    // ops = .13 > eng = .12 → eng's subtree first
    expect(tree.sort()).toEqual(['eng/batch', 'eng/web', 'ops']);
  });

  it('weights apply among siblings: an inner node weight scales its whole subtree', () => {
    const tree = treeWith('eng/web', 'ops');
    tree.allocated('eng/web', 's1', r('cpus:20'));
    tree.allocated('ops', 's1', r('cpus:15'));
    // eng = .20, ops = .15 → ops first
    expect(tree.sort()).toEqual(['ops', 'eng/web']);
    tree.updateWeight('eng', 2);
    // eng = .20 / 2 = .10 < ops = .15 → eng first
    expect(tree.sort()).toEqual(['eng/web', 'ops']);
    expect(tree.weight('eng')).toBe(2);
    expect(tree.weight('ops')).toBe(1);
  });

  it('a role that is also a parent competes with its children as its own leaf', () => {
    const tree = treeWith('eng', 'ops');
    tree.allocated('eng', 's1', r('cpus:10'));
    tree.add('eng/web');
    tree.activate('eng/web');
    tree.allocated('eng/web', 's1', r('cpus:5'));
    tree.allocated('ops', 's1', r('cpus:20'));
    // top: eng = (10 + 5)/100 = .15 < ops = .20; inside eng: eng/web = .05 < eng itself = .10
    expect(tree.sort()).toEqual(['eng/web', 'eng', 'ops']);
    expect(tree.allocation('eng')).toEqual(new Map([['cpus', 10]]));
    tree.remove('eng/web');
    // eng/web's 5 cpus leave eng's subtree: eng = .10 < ops = .20
    expect(tree.sort()).toEqual(['eng', 'ops']);
    expect(tree.share('eng')).toBeCloseTo(0.1, 12);
  });

  it('an inner node is active while any client below it is', () => {
    const tree = treeWith('eng/web', 'eng/batch');
    tree.deactivate('eng/web');
    expect(tree.sort()).toEqual(['eng/batch']);
    tree.deactivate('eng/batch');
    expect(tree.sort()).toEqual([]);
    tree.activate('eng/web');
    expect(tree.sort()).toEqual(['eng/web']);
    expect(tree.isActive('eng/batch')).toBe(false);
  });

  it('prunes empty inner nodes and keeps weights for when a path comes back', () => {
    const tree = treeWith('a/b/c');
    tree.updateWeight('a', 4);
    tree.remove('a/b/c');
    expect(tree.count()).toBe(0);
    expect(() => tree.share('a')).toThrow(UnknownClientError);
    tree.add('a/x');
    expect(tree.weight('a')).toBe(4);
  });

  it('throws typed errors', () => {
    const tree = treeWith('a/b');
    expect(() => tree.add('a/b')).toThrow(DuplicateIdError);
    expect(() => tree.activate('a')).toThrow(UnknownClientError); // an inner node is not a client
    expect(() => tree.allocated('zz', 's1', r('cpus:1'))).toThrow(UnknownClientError);
    expect(tree.contains('a')).toBe(false);
    expect(tree.contains('a/b')).toBe(true);
  });

  it('with random sorters, lists every active client once, depth first', () => {
    const tree = new HierarchicalSorter(() => new RandomSorter(createRng(5)));
    for (const role of ['a/x', 'a/y', 'b', 'c/z']) {
      tree.add(role);
      tree.activate(role);
    }
    const order = tree.sort();
    expect([...order].sort()).toEqual(['a/x', 'a/y', 'b', 'c/z']);
    // a's two children are adjacent: depth first
    expect(Math.abs(order.indexOf('a/x') - order.indexOf('a/y'))).toBe(1);
  });
});

describe('HierarchicalSorter properties', () => {
  it('subtree shares are the sums of their clients, and sort() lists exactly the active clients', () => {
    const roles = ['a', 'a/b', 'a/c', 'd', 'd/e/f'] as const;
    const op = fc.oneof(
      fc.record({ kind: fc.constant('alloc' as const), role: fc.constantFrom(...roles), cpus: fc.integer({ min: 0, max: 10 }) }),
      fc.record({ kind: fc.constant('free' as const), role: fc.constantFrom(...roles), cpus: fc.integer({ min: 0, max: 10 }) }),
      fc.record({ kind: fc.constant('toggle' as const), role: fc.constantFrom(...roles) }),
      fc.record({ kind: fc.constant('readd' as const), role: fc.constantFrom(...roles) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 50, size: 'max' }), (ops) => {
        const tree = new HierarchicalSorter(() => new DrfSorter());
        tree.addTotal('s1', r('cpus:1000'));
        const held = new Map<string, number>(roles.map((role) => [role, 0]));
        const active = new Set<string>();
        for (const role of roles) tree.add(role);
        for (const o of ops) {
          if (o.kind === 'alloc') {
            tree.allocated(o.role, 's1', Resources.fromScalars({ cpus: o.cpus }));
            held.set(o.role, (held.get(o.role) ?? 0) + o.cpus);
          } else if (o.kind === 'free') {
            tree.unallocated(o.role, 's1', Resources.fromScalars({ cpus: o.cpus }));
            held.set(o.role, Math.max(0, (held.get(o.role) ?? 0) - o.cpus));
          } else if (o.kind === 'toggle') {
            if (active.delete(o.role)) tree.deactivate(o.role);
            else {
              active.add(o.role);
              tree.activate(o.role);
            }
          } else {
            tree.remove(o.role);
            tree.add(o.role);
            active.delete(o.role);
            held.set(o.role, 0);
          }
        }
        expect([...tree.sort()].sort()).toEqual([...active].sort());
        for (const top of ['a', 'd']) {
          const sum = roles.filter((role) => role === top || role.startsWith(`${top}/`)).reduce((n, role) => n + (held.get(role) ?? 0), 0);
          // share of a top-level subtree = (sum of its clients) / 1000
          expect(tree.share(top)).toBeCloseTo(sum / 1000, 12);
        }
      }),
      { numRuns: 200 },
    );
  });
});
