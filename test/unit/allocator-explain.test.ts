import { describe, expect, it } from 'vitest';
import { NotOfferedReason } from '../../actors/allocator/explain.js';
import { UnknownFrameworkError } from '../../actors/allocator/errors.js';
import { AllocatorHarness } from '../harness/allocator-harness.js';

describe('explain: why a framework is not offered resources', () => {
  it('says OFFERABLE when the next run may offer, and how many agents qualify', () => {
    const h = new AllocatorHarness().agent('s1', 'cpus:2;mem:256').agent('s2', 'cpus:1;mem:16').framework('f');
    const why = h.explain('f');
    expect(why).toMatchObject({ frameworkId: 'f', role: '*', offerable: true, reasons: [] });
    // s2's cpus:1 meets the minimum (cpus:0.01) too
    expect(why.agents).toEqual({ OFFERABLE: 2, NOT_ENOUGH: 0, QUOTA_LIMIT: 0, HEADROOM: 0, FILTERED: 0 });
  });

  it('names an inactive framework, a suppressed role and a role it did not subscribe to', () => {
    const h = new AllocatorHarness().agent('s1', 'cpus:2;mem:256').framework('f', ['a', 'b']);
    h.core.deactivateFramework('f');
    h.core.suppress('f', ['b']);
    expect(h.explain('f', 'a').reasons).toEqual([NotOfferedReason.FRAMEWORK_INACTIVE]);
    expect(h.explain('f', 'b').reasons).toEqual([NotOfferedReason.FRAMEWORK_INACTIVE, NotOfferedReason.ROLE_SUPPRESSED]);
    expect(h.explain('f', 'c').reasons).toEqual([NotOfferedReason.FRAMEWORK_INACTIVE, NotOfferedReason.ROLE_NOT_SUBSCRIBED]);
    // one explanation per role without a role given
    expect(h.core.explain('f', h.now).map((e) => e.role)).toEqual(['a', 'b']);
  });

  it('says NO_ACTIVE_AGENTS and NO_AGENT_WITH_ENOUGH (for a task`s request, ports counted)', () => {
    const h = new AllocatorHarness().framework('f');
    expect(h.explain('f').reasons).toEqual([NotOfferedReason.NO_ACTIVE_AGENTS]);
    h.agent('s1', 'cpus:2;mem:256;ports:[31000-31001]').agent('s2', 'cpus:8;mem:64');
    // a task of cpus:4;mem:128: s1 has too few cpus, s2 too little mem
    expect(h.explain('f', '*', 'cpus:4;mem:128').reasons).toEqual([NotOfferedReason.NO_AGENT_WITH_ENOUGH]);
    // three ports: s1 has two
    expect(h.explain('f', '*', 'cpus:1;ports:[1-3]').reasons).toEqual([NotOfferedReason.NO_AGENT_WITH_ENOUGH]);
    expect(h.explain('f', '*', 'cpus:1;ports:[1-2]').offerable).toBe(true);
  });

  it('says FILTERED when every agent with enough is refused, and shows what is on offer', () => {
    const h = new AllocatorHarness().agent('s1', 'cpus:2;mem:256').agent('s2', 'cpus:1;mem:16').framework('f');
    const offers = h.run();
    expect(h.explain('f').offered).toEqual({ cpus: 3, mem: 272 });
    h.declineAll(offers, 60);
    const why = h.explain('f');
    expect(why.reasons).toEqual([NotOfferedReason.FILTERED]);
    expect(why.agents).toMatchObject({ FILTERED: 2 });
    expect(why.offered).toEqual({});
    // a request only s1 can meet: still FILTERED, s2 NOT_ENOUGH
    expect(h.explain('f', '*', 'cpus:2').agents).toMatchObject({ FILTERED: 1, NOT_ENOUGH: 1 });
  });

  it('throws for unknown frameworks', () => {
    const h = new AllocatorHarness();
    expect(() => h.core.explain('ghost', 0)).toThrow(UnknownFrameworkError);
  });
});

describe('views: roles and frameworks', () => {
  it('lists roles with frameworks, reservations, quota or weights, their ancestors, and subtree figures', () => {
    const h = new AllocatorHarness()
      .agent('s1', 'cpus:8;mem:800;cpus(eng/db):2')
      .framework('web', 'eng/web')
      .framework('ops', 'ops');
    h.core.setWeight('ops', 2);
    h.core.setQuota('research', { guarantees: { cpus: 1 } });
    h.run();
    expect(h.core.roles().map((v) => v.role)).toEqual(['eng', 'eng/db', 'eng/web', 'ops', 'research']);
    // s1 went to eng/web (name order at equal shares: eng < ops), but not all of it:
    // cpus(eng/db) is not eng/web's, and research's guarantee holds 1 unreserved cpu back → 8 − 1 = 7
    expect(h.role('eng')).toMatchObject({ allocated: { cpus: 7, mem: 800 }, offered: { cpus: 7, mem: 800 }, reserved: { cpus: 2 } });
    expect(h.free('s1')).toBe('cpus:1;cpus(eng/db):2');
    expect(h.role('eng/db')).toMatchObject({ allocated: {}, reserved: { cpus: 2 }, share: 0, frameworks: [] });
    expect(h.role('eng/web').frameworks).toEqual(['web']);
    // eng's share: max(7/10 cpus, 800/800 mem) = 1 (mem dominates)
    expect(h.role('eng').share).toBe(1);
    expect(h.role('ops')).toMatchObject({ weight: 2, share: 0 });
    expect(h.role('research')).toMatchObject({ quota: { guarantees: { cpus: 1 }, limits: {} }, consumed: {} });
  });

  it('shows each framework`s share overall and per role', () => {
    const h = new AllocatorHarness().framework('m', ['a', 'b']);
    for (const s of ['s1', 's2', 's3']) h.agent(s, 'cpus:10;mem:1000');
    h.core.deactivateAgent('s3');
    h.run();
    // first agent → a (a = b = 0, name), second → b (a = 10/30 > b = 0)
    const view = h.core.framework('m');
    // overall: 20 of 30 cpus → .667; per role: 10/30 each
    expect(view.share).toBeCloseTo(20 / 30, 12);
    expect(h.core.frameworkShare('m')).toBeCloseTo(20 / 30, 12);
    expect(view.shares.a).toBeCloseTo(1 / 3, 12);
    expect(view.shares.b).toBeCloseTo(1 / 3, 12);
    expect(view).toMatchObject({ roles: ['a', 'b'], active: true, suppressedRoles: [], allocated: { cpus: 20, mem: 2000 } });
  });
});
