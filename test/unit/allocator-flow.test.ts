import { describe, expect, it } from 'vitest';
import { DEFAULT_REFUSE_SECONDS } from '../../actors/allocator/core.js';
import { InvalidMinAllocatableError } from '../../actors/allocator/errors.js';
import { parseMinAllocatable } from '../../actors/allocator/quantities.js';
import { AllocatorHarness, r } from '../harness/allocator-harness.js';

describe('flow: refusal filters', () => {
  it('returns the unused part of an ACCEPT with the same filter', () => {
    const h = new AllocatorHarness().agent('s1', 'cpus:4;mem:1024').framework('f').framework('g');
    const [offer] = h.run();
    expect(offer?.frameworkId).toBe('f');
    h.core.deactivateFramework('g');
    // f launches cpus:1;mem:256 and refuses the rest for 10 s (at t = 1 000 → until 11 000)
    h.accept(offer as NonNullable<typeof offer>, 'cpus:1;mem:256', 10);
    expect(h.free('s1')).toBe('cpus:3;mem:768');
    expect(h.run(5000)).toEqual([]); // t = 6 000 < 11 000
    h.core.activateFramework('g');
    // g is not filtered: it gets the rest
    expect(h.runShown()).toEqual(['g@s1(*) cpus:3;mem:768']);
    h.declineAll(h.runs[2] ?? []);
    h.core.deactivateFramework('g');
    // t = 12 000 ≥ 11 000: the filter has expired; shares f = 1/4, so f again
    expect(h.runShown(5000)).toEqual(['f@s1(*) cpus:3;mem:768']);
    expect(h.core.filterCount()).toBe(0);
  });

  it('uses the default of 5 s that the master passes when a call names none', () => {
    const h = new AllocatorHarness().agent('s1', 'cpus:1;mem:64').framework('f');
    const [offer] = h.run();
    h.decline(offer as NonNullable<typeof offer>, DEFAULT_REFUSE_SECONDS);
    // declined at t = 1 000: filtered until 6 000
    expect(h.run(4999)).toEqual([]);
    expect(h.run(1)).toHaveLength(1);
  });

  it('is per framework and agent: the same framework still gets other agents', () => {
    const h = new AllocatorHarness().agent('s1', 'cpus:1;mem:64').framework('f');
    h.declineAll(h.run(), 3600);
    h.agent('s2', 'cpus:1;mem:64');
    expect(h.runShown()).toEqual(['f@s2(*) cpus:1;mem:64']);
  });
});

describe('flow: SUPPRESS and REVIVE per role', () => {
  it('suppresses one role of a MULTI_ROLE framework and keeps offering the other', () => {
    const h = new AllocatorHarness().framework('m', ['a', 'b']).agent('s1', 'cpus:1;mem:64;cpus(a):1');
    h.core.suppress('m', ['a']);
    // a is suppressed: only b is offered, and b may not use cpus(a)
    expect(h.runShown()).toEqual(['m@s1(b) cpus:1;mem:64']);
    expect(h.core.framework('m').suppressedRoles).toEqual(['a']);
    h.core.revive('m', ['a']);
    expect(h.runShown()).toEqual(['m@s1(a) cpus(a):1']);
  });

  it('revive clears the framework`s filters', () => {
    const h = new AllocatorHarness().agent('s1', 'cpus:1;mem:64').framework('f');
    h.declineAll(h.run(), 3600);
    expect(h.run()).toEqual([]);
    h.core.revive('f');
    expect(h.run()).toHaveLength(1);
  });

  it('updateFramework replaces the set of suppressed roles', () => {
    const h = new AllocatorHarness().framework('m', ['a', 'b'], { suppressed: true }).agent('s1', 'cpus:1;mem:64');
    expect(h.run()).toEqual([]);
    h.core.updateFramework('m', { suppressed: ['a'] });
    expect(h.runShown()).toEqual(['m@s1(b) cpus:1;mem:64']);
  });
});

describe('flow: min_allocatable_resources', () => {
  it('parses Mesos`s syntax and applies any one alternative in full', () => {
    const mins = parseMinAllocatable('cpus:1;mem:64|gpus:1');
    expect(mins.map((m) => m.toString())).toEqual(['cpus:1;mem:64', 'gpus:1']);
    const h = new AllocatorHarness({ minAllocatable: mins }).framework('f');
    h.agent('small', 'cpus:1;mem:63').agent('gpu', 'gpus:1').agent('big', 'cpus:1;mem:64');
    // small lacks 1 mem for the first alternative and has no gpus
    expect(h.runShown()).toEqual(['f@big(*) cpus:1;mem:64', 'f@gpu(*) gpus:1']);
  });

  it('rejects malformed or non-scalar minimums', () => {
    expect(() => parseMinAllocatable('cpus:x')).toThrow(InvalidMinAllocatableError);
    expect(() => parseMinAllocatable('cpus:1|ports:[1-2]')).toThrow(InvalidMinAllocatableError);
  });
});

describe('flow: offer timeouts', () => {
  it('reports offers outstanding longer than the timeout, once, as data', () => {
    const h = new AllocatorHarness({ offerTimeoutMs: 10_000 }).agent('s1', 'cpus:2;mem:128').agent('s2', 'cpus:2;mem:128').framework('f');
    const offers = h.run(); // t = 1 000
    expect(h.core.expiredOffers(10_999)).toEqual([]);
    // f accepts s1's offer in full: no longer outstanding
    const s1 = offers.find((d) => d.agentId === 's1');
    h.core.offerAccepted('f', 's1', s1?.resources ?? r(''));
    const expired = h.core.expiredOffers(11_000);
    expect(expired.map((e) => `${e.frameworkId}@${e.agentId}(${e.role}) ${e.resources.toString()} since ${e.offeredAt}`)).toEqual([
      'f@s2(*) cpus:2;mem:128 since 1000',
    ]);
    // reported once only
    expect(h.core.expiredOffers(20_000)).toEqual([]);
    // the master rescinds it and recovers it: offered again later, with a new clock
    h.core.recoverResources('f', 's2', r('cpus:2;mem:128'), undefined, h.now);
    h.run(20_000); // t = 21 000
    expect(h.core.expiredOffers(31_000).map((e) => e.agentId)).toEqual(['s2']);
  });

  it('is off without a timeout, and tracks offered separately from used', () => {
    const h = new AllocatorHarness().agent('s1', 'cpus:2;mem:128').framework('f');
    const [offer] = h.run();
    expect(h.core.expiredOffers(1e12)).toEqual([]);
    expect(h.role('*').offered).toEqual({ cpus: 2, mem: 128 });
    h.accept(offer as NonNullable<typeof offer>, 'cpus:1;mem:64');
    // cpus:1;mem:64 in use, the rest declined: nothing outstanding
    expect(h.role('*')).toMatchObject({ offered: {}, allocated: { cpus: 1, mem: 64 } });
  });
});
