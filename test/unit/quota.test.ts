import { describe, expect, it } from 'vitest';
import { InvalidQuotaError, QuotaExceededError } from '../../actors/allocator/errors.js';
import { NotOfferedReason } from '../../actors/allocator/explain.js';
import { quotaFromText } from '../../actors/allocator/quota.js';
import { quantitiesText } from '../../actors/allocator/views.js';
import { AllocatorHarness, r } from '../harness/allocator-harness.js';

/** `n` agents of `cpus:2;mem:200` named s1..sn. */
function cluster(n: number, h = new AllocatorHarness()): AllocatorHarness {
  for (let i = 1; i <= n; i++) h.agent(`s${i}`, 'cpus:2;mem:200');
  return h;
}

/** Sum of a scalar over a run's decisions for one role. */
function given(h: AllocatorHarness, run: number, role: string, name: string): number {
  return (h.runs[run] ?? []).filter((d) => d.role === role).reduce((n, d) => n + d.resources.scalar(name), 0);
}

describe('quota: validation', () => {
  it.each([
    ['*', { guarantees: { cpus: 1 } }, 'the default role "*" cannot have quota'],
    ['eng/web', { guarantees: { cpus: 1 } }, 'top-level roles only'],
    ['eng', { guarantees: { cpus: -1 } }, 'must be a finite number >= 0'],
    ['eng', { limits: { cpus: Number.POSITIVE_INFINITY } }, 'must be a finite number >= 0'],
    ['eng', { guarantees: { cpus: 4 }, limits: { cpus: 2 } }, 'guarantee of cpus (4) is above its limit (2)'],
  ])('rejects quota on %s: %j', (role, quota, reason) => {
    const h = new AllocatorHarness();
    expect(() => h.core.setQuota(role, quota)).toThrow(InvalidQuotaError);
    expect(() => h.core.setQuota(role, quota)).toThrow(reason);
  });
});

describe('quota: guarantees', () => {
  it('serves a role below its guarantee first, ahead of roles with a lower share', () => {
    const h = cluster(4).framework('o', 'other').framework('g', 'q');
    h.core.setQuota('q', { guarantees: { cpus: 6, mem: 600 } });
    h.run();
    // stage 1: q misses cpus:6;mem:600 → three agents of cpus:2;mem:200 go to q first
    // stage 2: the last agent; other = 0 < q = 6/8 → other
    expect(given(h, 0, 'q', 'cpus')).toBe(6);
    expect(given(h, 0, 'other', 'cpus')).toBe(2);
    // without quota DRF would alternate: 4 and 4 cpus; shown: q consumed cpus 6 of its 6
    expect(h.role('q')).toMatchObject({ quota: { guarantees: { cpus: 6, mem: 600 }, limits: {} }, consumed: { cpus: 6, mem: 600 } });
  });

  it('holds back headroom for an unmet guarantee, and gives it when the role can take it', () => {
    const h = cluster(4).framework('o', 'other').framework('g', 'q', { suppressed: true });
    h.core.setQuota('q', { guarantees: { cpus: 4 } });
    // required headroom: cpus 4 − 0 = 4; available: cpus 8 → surplus cpus 4
    // other takes two agents (cpus 4); the third would eat the headroom: its cpus are held back,
    // and mem alone (200 ≥ 32) is still offered
    const offered = h.runShown();
    expect(offered.filter((s) => s.endsWith('cpus:2;mem:200'))).toHaveLength(2);
    expect(offered.filter((s) => s.endsWith(' mem:200'))).toHaveLength(2);
    expect(given(h, 0, 'other', 'cpus')).toBe(4);
    const why = h.explain('o', 'other', 'cpus:1');
    // two agents have cpus:2 free but it is held back for q
    expect(why.reasons).toEqual([NotOfferedReason.HELD_FOR_QUOTA_HEADROOM]);
    expect(why.agents).toMatchObject({ HEADROOM: 2, NOT_ENOUGH: 2 });
    h.core.revive('g');
    // stage 1: q takes the held-back cpus (mem was offered to other already)
    const back = h.run();
    expect(back.map((d) => `${d.frameworkId}(${d.role}) ${d.resources.toString()}`)).toEqual(['g(q) cpus:2', 'g(q) cpus:2']);
    expect(h.role('q').consumed).toEqual({ cpus: 4 });
  });

  it('lets a role with quota burst above its guarantee only within surplus headroom', () => {
    const h = cluster(4).framework('a', 'qa').framework('b', 'qb', { suppressed: true });
    h.core.setQuota('qa', { guarantees: { cpus: 2 } });
    h.core.setQuota('qb', { guarantees: { cpus: 4 } });
    h.run();
    // cpus: qa's guarantee 2 (stage 1), then a burst up to the surplus:
    //   available 8 − 2 = 6, required = qb's unmet 4 → surplus 2 → qa ends at 4, qb's 4 stay free
    // mem: nobody is guaranteed mem, so no mem is held back: qa gets all 800
    expect(given(h, 0, 'qa', 'cpus')).toBe(4);
    expect(h.role('qa').consumed).toEqual({ cpus: 4, mem: 800 });
  });

  it('serves a top-level guarantee to frameworks in its sub-roles, in DRF order inside the subtree', () => {
    const h = cluster(4).framework('o', 'aaa').framework('web', 'eng/web').framework('batch', 'eng/batch');
    h.core.setQuota('eng', { guarantees: { cpus: 4, mem: 400 } });
    h.run();
    // stage 1: eng misses cpus:4;mem:400 → two agents go to eng's subtree before aaa (which sorts first by name):
    //   eng/batch then eng/web (equal shares, name order), one agent each
    // stage 2: the two other agents; aaa = 0 < eng = 4/8 → aaa, then aaa = 2/8 < eng → aaa
    expect(given(h, 0, 'eng/batch', 'cpus')).toBe(2);
    expect(given(h, 0, 'eng/web', 'cpus')).toBe(2);
    expect(given(h, 0, 'aaa', 'cpus')).toBe(4);
    expect(h.role('eng').consumed).toEqual({ cpus: 4, mem: 400 });
  });

  it('offers a role its reservations together with its guarantee in stage 1', () => {
    const h = new AllocatorHarness().agent('s1', 'cpus:4;mem:400;disk(q):100;ports:[1-10]').framework('f', 'q').framework('g', 'a');
    h.core.setQuota('q', { guarantees: { cpus: 1 } });
    h.run();
    // stage 1: q's gap cpus:1 → cpus:1, plus its reservation disk(q) and the ports (always),
    // plus the rest within the surplus: cpus 4 − required 1 = 3, mem 400 (nobody is guaranteed mem)
    expect(h.runs[0]?.map((d) => `${d.frameworkId} ${d.resources.toString()}`)).toEqual(['f cpus:4;disk(q):100;mem:400;ports:[1-10]']);
  });

  it('satisfies small and large guarantees in one run and has nothing left for the next (LargeAndSmallQuota)', () => {
    const h = new AllocatorHarness();
    // 10 small roles of half an agent, 2 large of two agents → 10/5 + 2*5 = 12 agents
    for (let i = 0; i < 12; i++) h.agent(`s${i}`, 'cpus:2;mem:2048;disk:2048');
    const small = { cpus: 1, mem: 1024, disk: 1024 };
    const large = { cpus: 4, mem: 4096, disk: 4096 };
    for (let i = 0; i < 10; i++) h.framework(`fs${i}`, `small${i}`).core.setQuota(`small${i}`, { guarantees: small, limits: small });
    for (let i = 0; i < 2; i++) h.framework(`fl${i}`, `large${i}`).core.setQuota(`large${i}`, { guarantees: large, limits: large });
    h.run();
    // 10 × 1 + 2 × 4 = 18 cpus of 24 go to guarantees; every role is at its limit
    for (let i = 0; i < 10; i++) expect(h.role(`small${i}`).consumed).toEqual({ cpus: 1, disk: 1024, mem: 1024 });
    for (let i = 0; i < 2; i++) expect(h.role(`large${i}`).consumed).toEqual({ cpus: 4, disk: 4096, mem: 4096 });
    // no role may take more (limits = guarantees): the 6 cpus left stay free
    expect(h.run()).toEqual([]);
    expect(h.explain('fs0').reasons).toEqual([NotOfferedReason.QUOTA_LIMIT_REACHED]);
  });
});

describe('quota: limits', () => {
  it('chops offers at the limit and never exceeds it', () => {
    const h = cluster(3).framework('f', 'q');
    h.core.setQuota('q', { limits: { cpus: 3 } });
    h.run();
    // cpus: one agent whole (2) + 1 chopped from another = 3; mem is not limited: all of it
    expect(given(h, 0, 'q', 'cpus')).toBe(3);
    expect(given(h, 0, 'q', 'mem')).toBe(600);
    expect(h.explain('f', 'q', 'cpus:0.5').reasons).toEqual([NotOfferedReason.QUOTA_LIMIT_REACHED]);
  });

  it('limits a top-level role over its whole subtree', () => {
    const h = cluster(4).framework('w', 'eng/web').framework('b', 'eng/batch');
    h.core.setQuota('eng', { limits: { cpus: 5, mem: 10000 } });
    h.run();
    // eng/web + eng/batch together: cpus ≤ 5
    expect(given(h, 0, 'eng/web', 'cpus') + given(h, 0, 'eng/batch', 'cpus')).toBe(5);
    expect(h.role('eng').consumed).toMatchObject({ cpus: 5 });
  });

  it('counts reservations towards consumption, allocated or not, and still offers them', () => {
    const h = new AllocatorHarness().agent('s1', 'cpus:4;mem:400;cpus(q):3').framework('f', 'q');
    h.core.setQuota('q', { limits: { cpus: 4 } });
    // consumed: reserved cpus(q) 3 → room for 1 unreserved cpu
    expect(h.runShown()).toEqual(['f@s1(q) cpus:1;cpus(q):3;mem:400']);
    expect(h.role('q').consumed).toEqual({ cpus: 4, mem: 400 });
  });

  it('refuses an operator reservation that would exceed the limit', () => {
    const h = new AllocatorHarness().agent('s1', 'cpus:4;mem:400');
    h.core.setQuota('q', { limits: { cpus: 2 } });
    expect(() => h.operate('s1', { type: 'RESERVE', resources: r('cpus(q,dynamic):3') })).toThrow(QuotaExceededError);
    h.operate('s1', { type: 'RESERVE', resources: r('cpus(q,dynamic):2') });
    expect(h.core.totalOf('s1').toString()).toBe('cpus:2;cpus(q,dynamic):2;mem:400');
  });

  it('offers again after the quota of a role at its limit on every resource is removed', () => {
    const h = cluster(2).framework('f', 'q');
    h.core.setQuota('q', { limits: { cpus: 2, mem: 200 } });
    // one agent whole: q is at its limit on cpus and mem, every scalar of the cluster
    expect(h.run()).toHaveLength(1);
    expect(h.run()).toEqual([]);
    h.core.removeQuota('q');
    expect(h.runShown()).toEqual([expect.stringMatching(/^f@s\d\(q\) cpus:2;mem:200$/)]);
  });

  it('stops limiting once the quota is removed', () => {
    const h = cluster(2).framework('f', 'q');
    h.core.setQuota('q', { limits: { cpus: 1 } });
    h.run();
    expect(given(h, 0, 'q', 'cpus')).toBe(1);
    h.core.removeQuota('q');
    h.run();
    // the 3 cpus held back by the limit are offered now
    expect(given(h, 1, 'q', 'cpus')).toBe(3);
    expect(h.role('q').quota).toBeUndefined();
  });
});

describe('quota: from the operator API`s text form', () => {
  it('reads guarantee and limit text, and prints quantities back', () => {
    expect(quotaFromText('q', 'cpus:2;mem:1024', 'cpus:4;cpus(q):1')).toEqual({ guarantees: { cpus: 2, mem: 1024 }, limits: { cpus: 5 } });
    expect(quotaFromText('q')).toEqual({});
    expect(() => quotaFromText('q', 'cpus:x')).toThrow(InvalidQuotaError);
    const h = cluster(1).framework('f', 'q');
    h.core.setQuota('q', quotaFromText('q', undefined, 'cpus:1'));
    h.run();
    expect(quantitiesText(h.role('q').allocated)).toBe('cpus:1;mem:200');
    expect(quantitiesText({})).toBe('');
  });
});
