import { describe, expect, it } from 'vitest';
import { InvalidRoleError, InvalidWeightError } from '../../actors/allocator/errors.js';
import { RandomSorter } from '../../actors/allocator/random-sorter.js';
import { createRng } from '../../actors/runtime/rng.js';
import { AllocatorHarness, r, shown } from '../harness/allocator-harness.js';

describe('roles: two levels of DRF (roles, then frameworks in a role)', () => {
  it('offers to the role with the lowest share first, then its framework with the lowest share', () => {
    const h = new AllocatorHarness()
      .framework('a1', 'a')
      .framework('a2', 'a')
      .framework('b1', 'b')
      .agent('s1', 'cpus:10;mem:1000', { a1: 'cpus:3;mem:100' })
      .agent('s2', 'cpus:10;mem:1000', { b1: 'cpus:2;mem:100' })
      .agent('s3', 'cpus:10;mem:1000', { a2: 'cpus:1;mem:100' });
    h.core.deactivateAgent('s1');
    h.core.deactivateAgent('s2');
    // totals: cpus = 30, mem = 3000
    // roles: a = (3 + 1)/30 = .133, b = 2/30 = .067 → b first; b has only b1
    expect(h.runShown()).toEqual(['b1@s3(b) cpus:9;mem:900']);
    expect(h.core.roles().map((v) => [v.role, Math.round(v.share * 1000) / 1000])).toEqual([
      ['a', 0.133],
      ['b', 0.367], // (2 + 9)/30
    ]);
  });

  it('inside a role, the framework with the lower share is offered first', () => {
    const h = new AllocatorHarness()
      .framework('a1', 'a')
      .framework('a2', 'a')
      .agent('s1', 'cpus:10;mem:1000', { a1: 'cpus:3;mem:100', a2: 'cpus:1;mem:100' });
    // frameworks in a: a1 = 3/10 = .3, a2 = 1/10 = .1 → a2 gets the rest
    expect(h.runShown()).toEqual(['a2@s1(a) cpus:6;mem:800']);
  });

  it('compares a parent role by its whole subtree, then orders inside it (eng/web, eng/batch vs ops)', () => {
    const h = new AllocatorHarness()
      .framework('web', 'eng/web')
      .framework('batch', 'eng/batch')
      .framework('ops', 'ops')
      .agent('s1', 'cpus:100;mem:10000', { web: 'cpus:10', batch: 'cpus:4', ops: 'cpus:12' })
      .agent('s2', 'cpus:10;mem:1000');
    // totals: cpus = 110, mem = 11000
    // top level: eng = (10 + 4)/110 = .127, ops = 12/110 = .109 → ops takes the first agent
    h.core.deactivateAgent('s1');
    expect(h.runShown()).toEqual(['ops@s2(ops) cpus:10;mem:1000']);
    h.core.activateAgent('s1');
    h.core.deactivateAgent('s2');
    // now ops = 22/110 = .2 > eng = .127 → eng's subtree, and inside eng batch (4) < web (10)
    expect(h.runShown()).toEqual(['batch@s1(eng/batch) cpus:74;mem:10000']);
    expect(h.role('eng').allocated).toEqual({ cpus: 88, mem: 10000 });
  });
});

describe('roles: weights', () => {
  it('divides a role share by its weight, and weights change at run time', () => {
    const h = new AllocatorHarness()
      .framework('a1', 'a')
      .framework('b1', 'b')
      .agent('s1', 'cpus:10;mem:1000', { a1: 'cpus:4', b1: 'cpus:3' })
      .agent('s2', 'cpus:10;mem:1000');
    h.core.deactivateAgent('s1');
    h.core.setWeight('a', 2);
    // a = 4/20 / 2 = .1, b = 3/20 = .15 → a
    expect(h.runShown()).toEqual(['a1@s2(a) cpus:10;mem:1000']);
    h.declineAll(h.runs[0] ?? []);
    h.core.setWeight('a', 1);
    // a = 4/20 = .2, b = .15 → b
    expect(h.runShown()).toEqual(['b1@s2(b) cpus:10;mem:1000']);
    expect(h.role('a').weight).toBe(1);
  });

  it('keeps a weight set before the role has frameworks, and lists it', () => {
    const h = new AllocatorHarness();
    h.core.setWeight('later', 3);
    expect(h.role('later')).toMatchObject({ weight: 3, share: 0, frameworks: [] });
    h.framework('f', 'later').framework('g', 'other').agent('s1', 'cpus:1;mem:100', { f: 'cpus:0.3', g: 'cpus:0.2' });
    h.agent('s2', 'cpus:1;mem:100');
    h.core.deactivateAgent('s1');
    // later = .3/2 / 3 = .05, other = .2/2 = .1 → later
    expect(h.runShown()).toEqual(['f@s2(later) cpus:1;mem:100']);
  });

  it('weights a parent role for its whole subtree', () => {
    const h = new AllocatorHarness()
      .framework('web', 'eng/web')
      .framework('ops', 'ops')
      .agent('s1', 'cpus:10;mem:1000', { web: 'cpus:4', ops: 'cpus:3' })
      .agent('s2', 'cpus:10;mem:1000');
    h.core.deactivateAgent('s1');
    h.core.setWeight('eng', 4);
    // eng = 4/20 / 4 = .05 < ops = 3/20 = .15 → eng/web
    expect(h.runShown()).toEqual(['web@s2(eng/web) cpus:10;mem:1000']);
  });

  it('rejects bad weights and role names', () => {
    const h = new AllocatorHarness();
    expect(() => h.core.setWeight('a', 0)).toThrow(InvalidWeightError);
    expect(() => h.core.setWeight('a', Number.NaN)).toThrow(InvalidWeightError);
    expect(() => h.core.setWeight('a b', 1)).toThrow(InvalidRoleError);
    expect(() => h.framework('f', 'a/../b')).toThrow(InvalidRoleError);
  });
});

describe('roles: MULTI_ROLE frameworks', () => {
  it('offers to each of a framework`s roles separately, and accounts per (framework, role)', () => {
    const h = new AllocatorHarness()
      .framework('multi', ['a', 'b'])
      .agent('s1', 'cpus:4;mem:400')
      .agent('s2', 'cpus:4;mem:400;cpus(b):2');
    // this seed visits s1 first: roles a = b = 0, no allocations → a (name) gets s1
    // then s2: a = 4/10 = .4, b = 0 → b gets all of s2 that b may use, cpus(b) included
    expect(h.runShown()).toEqual(['multi@s1(a) cpus:4;mem:400', 'multi@s2(b) cpus:4;cpus(b):2;mem:400']);
    expect(h.core.framework('multi').shares).toEqual({ a: 0.5, b: 0.6 }); // a = 400/800 (mem), b = 6/10 (cpus)
    expect(h.core.framework('multi').allocated).toEqual({ cpus: 10, mem: 800 });
    expect(h.core.holdingsOn('s2', 'multi').get('b')?.toString()).toBe('cpus:4;cpus(b):2;mem:400');
  });

  it('recovers from the named role only', () => {
    const h = new AllocatorHarness().framework('multi', ['a', 'b']).agent('s1', 'cpus:4;mem:400', { multi: 'cpus:1' });
    // used with no reservation goes to the first role, a
    expect([...h.core.holdingsOn('s1', 'multi')].map(([role, res]) => `${role}: ${res.toString()}`)).toEqual(['a: cpus:1']);
    h.core.recoverResources('multi', 's1', r('cpus:1'), undefined, 0, 'b');
    // nothing held for b: nothing comes back
    expect(h.free('s1')).toBe('cpus:3;mem:400');
    h.core.recoverResources('multi', 's1', r('cpus:1'), undefined, 0);
    expect(h.free('s1')).toBe('cpus:4;mem:400');
  });

  it('puts a framework with no roles in the default role *', () => {
    const h = new AllocatorHarness().framework('f', []).agent('s1', 'cpus:1;mem:64');
    expect(h.runShown()).toEqual(['f@s1(*) cpus:1;mem:64']);
  });

  it('updateFramework adds and drops roles; what a dropped role holds stays until recovered', () => {
    const h = new AllocatorHarness().framework('f', ['a']).agent('s1', 'cpus:2;mem:200');
    const [first] = h.run();
    expect(first?.role).toBe('a');
    h.core.updateFramework('f', { roles: ['b'] });
    // still held for a (its task runs), role a still listed with it
    expect(h.role('a').allocated).toEqual({ cpus: 2, mem: 200 });
    expect(h.role('a').frameworks).toEqual([]);
    h.decline(first as NonNullable<typeof first>);
    // free again, offered for role b now
    expect(h.runShown()).toEqual(['f@s1(b) cpus:2;mem:200']);
    expect(h.core.roles().map((v) => v.role)).toEqual(['b']);
  });

  it('gives use reported before its framework was known to the right roles', () => {
    const h = new AllocatorHarness().agent('s1', 'cpus:8;mem:800;cpus(b):2;disk(b/x):10', { late: 'cpus:1;cpus(b):2;disk(b/x):10' });
    // not known yet: the use is held, no role has it
    expect(h.free('s1')).toBe('cpus:7;mem:800');
    expect(h.core.roles().map((v) => v.role)).toEqual(['b', 'b/x']);
    h.framework('late', ['a', 'b/x']);
    // unreserved → first role a; cpus(b) and disk(b/x) → b/x (within both reservations)
    expect([...h.core.holdingsOn('s1', 'late')].map(([role, res]) => `${role}: ${res.toString()}`).sort()).toEqual([
      'a: cpus:1',
      'b/x: cpus(b):2;disk(b/x):10',
    ]);
    expect(h.role('b/x').allocated).toEqual({ cpus: 2, disk: 10 });
  });
});

describe('roles: the random sorter', () => {
  it('replays the same decisions for the same seed and still hands out every agent', () => {
    const decide = (seed: number): string[] => {
      const rng = createRng(seed);
      const h = new AllocatorHarness({ sorterFactory: () => new RandomSorter(rng) });
      for (const f of ['f1', 'f2', 'f3']) h.framework(f, f === 'f3' ? 'b' : 'a');
      for (let i = 0; i < 6; i++) h.agent(`s${i}`, 'cpus:1;mem:64');
      return h.runShown();
    };
    expect(decide(4)).toEqual(decide(4));
    expect(decide(4)).toHaveLength(6);
    const spread = new Set([1, 2, 3, 4, 5, 6].map((seed) => decide(seed).join()));
    expect(spread.size).toBeGreaterThan(1);
  });
});

describe('roles: determinism', () => {
  it('breaks ties by allocation count, then name, at both levels', () => {
    const h = new AllocatorHarness().framework('x', 'b').framework('y', 'a').agent('s1', 'cpus:1;mem:64');
    // roles a and b both 0, no allocations → a (name) → y
    expect(shown(h.run())).toEqual(['y@s1(a) cpus:1;mem:64']);
  });
});
