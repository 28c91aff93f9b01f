import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AllocatorCore, MAX_REFUSE_MS, type OfferDecision } from '../../actors/allocator/core.js';
import { DrfSorter } from '../../actors/allocator/drf-sorter.js';
import { DuplicateIdError, UnknownAgentError, UnknownFrameworkError } from '../../actors/allocator/errors.js';
import { createRng, shuffle } from '../../actors/runtime/rng.js';
import { Resources } from '../../protocol/resources.js';

const r = (text: string): Resources => Resources.parse(text);
const rng = (): (() => number) => createRng(1);

/** Decisions as plain text triples, easy to compare. */
function plain(decisions: OfferDecision[]): [string, string, string][] {
  return decisions.map((d) => [d.frameworkId, d.agentId, d.resources.toString()]);
}

/** A core with frameworks (role `*`) and agents already added. */
function coreWith(frameworks: string[], agents: Record<string, string>): AllocatorCore {
  const core = new AllocatorCore();
  for (const id of frameworks) core.addFramework(id, { roles: ['*'] });
  for (const [id, total] of Object.entries(agents)) core.addAgent(id, r(total));
  return core;
}

describe('AllocatorCore: DRF decides who is offered an agent', () => {
  it('offers a free agent, whole, to the framework with the lowest dominant share', () => {
    const core = coreWith(['f1', 'f2'], {});
    core.addAgent('s1', r('cpus:2;mem:256'), new Map([['f1', r('cpus:2;mem:256')]]));
    core.addAgent('s2', r('cpus:1;mem:1024'), new Map([['f2', r('cpus:1;mem:1024')]]));
    core.addAgent('s3', r('cpus:4;mem:1024'));
    // totals: cpus = 7, mem = 2304
    // shares: f1 = max(2/7, 256/2304) = .286 (cpus), f2 = max(1/7, 1024/2304) = .444 (mem)
    expect(core.frameworkShare('f1')).toBeCloseTo(2 / 7, 12);
    expect(core.frameworkShare('f2')).toBeCloseTo(1024 / 2304, 12);
    // f2 holds fewer cpus, but f1's dominant share is lower → f1 gets s3
    expect(plain(core.allocate(0, rng()))).toEqual([['f1', 's3', 'cpus:4;mem:1024']]);
    // f1 = max(6/7, 1280/2304) = .857
    expect(core.frameworkShare('f1')).toBeCloseTo(6 / 7, 12);
    expect(core.available('s3').isEmpty()).toBe(true);
  });

  it('re-sorts after every allocation: three equal agents go f1, f2, f1', () => {
    const agents = { s1: 'cpus:1;mem:512', s2: 'cpus:1;mem:512', s3: 'cpus:1;mem:512' };
    const core = coreWith(['f1', 'f2'], agents);
    const decisions = core.allocate(0, createRng(9));
    // 1st agent: shares f1 = f2 = 0, counts 0 → name → f1
    // 2nd agent: f1 = 1/3, f2 = 0 → f2
    // 3rd agent: f1 = f2 = 1/3, counts 1 and 1 → name → f1
    expect(decisions.map((d) => d.frameworkId)).toEqual(['f1', 'f2', 'f1']);
    // agents are visited in the seeded shuffle of their sorted ids
    expect(decisions.map((d) => d.agentId)).toEqual(shuffle(['s1', 's2', 's3'], createRng(9)));
    expect(core.allocationOf('f1').toString()).toBe('cpus:2;mem:1024');
    expect(core.allocationOf('f2').toString()).toBe('cpus:1;mem:512');
  });

  it('gives an agent to one framework per run, even when it could feed two', () => {
    const core = coreWith(['f1', 'f2'], { s1: 'cpus:32;mem:65536' });
    expect(plain(core.allocate(0, rng()))).toEqual([['f1', 's1', 'cpus:32;mem:65536']]);
    // nothing is left for f2 in a second run
    expect(core.allocate(1, rng())).toEqual([]);
  });

  it('visits agents in the order the seed gives, the same order for the same seed', () => {
    const agents = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`s${i}`, 'cpus:1;mem:64']));
    const order = (seed: number): string[] =>
      coreWith(['f1'], agents)
        .allocate(0, createRng(seed))
        .map((d) => d.agentId);
    expect(order(5)).toEqual(order(5));
    expect(order(5)).toEqual(shuffle(Object.keys(agents).sort(), createRng(5)));
    expect([order(1), order(2), order(3)].some((o) => o.join() !== order(5).join())).toBe(true);
  });

  it('offers a framework in role * only unreserved resources', () => {
    const core = coreWith(['f1'], { s1: 'cpus:4;cpus(web):2;mem:1024;ports:[31000-31009]' });
    expect(plain(core.allocate(0, rng()))).toEqual([['f1', 's1', 'cpus:4;mem:1024;ports:[31000-31009]']]);
    expect(core.available('s1').toString()).toBe('cpus(web):2');
  });
});

describe('AllocatorCore: filters', () => {
  it('keeps a refused agent from the framework until now + refuseSeconds, others still get it', () => {
    const core = coreWith(['f1', 'f2'], { s1: 'cpus:4;mem:1024' });
    expect(plain(core.allocate(0, rng()))).toEqual([['f1', 's1', 'cpus:4;mem:1024']]);
    core.recoverResources('f1', 's1', r('cpus:4;mem:1024'), 10, 1000);
    // filter: f1 on s1 until 1000 + 10 000 = 11 000; take f2 out to see the filter alone
    core.deactivateFramework('f2');
    expect(core.allocate(5000, rng())).toEqual([]);
    expect(core.allocate(10_999, rng())).toEqual([]);
    core.activateFramework('f2');
    // f1 is filtered, f2 is not → f2 gets s1 at 10 999
    expect(plain(core.allocate(10_999, rng()))).toEqual([['f2', 's1', 'cpus:4;mem:1024']]);
    core.recoverResources('f2', 's1', r('cpus:4;mem:1024'), undefined, 10_999);
    core.deactivateFramework('f2');
    // 11 000 is not < 11 000: the filter has expired
    expect(plain(core.allocate(11_000, rng()))).toEqual([['f1', 's1', 'cpus:4;mem:1024']]);
    expect(core.filterCount()).toBe(0);
  });

  it('sets no filter when refuseSeconds is undefined, 0 or negative', () => {
    const core = coreWith(['f1'], { s1: 'cpus:1;mem:128' });
    for (const refuse of [undefined, 0, -5]) {
      expect(core.allocate(0, rng())).toHaveLength(1);
      core.recoverResources('f1', 's1', r('cpus:1;mem:128'), refuse, 0);
      expect(core.filterCount()).toBe(0);
    }
    expect(plain(core.allocate(0, rng()))).toEqual([['f1', 's1', 'cpus:1;mem:128']]);
  });

  it('caps a filter at one year', () => {
    const core = coreWith(['f1'], { s1: 'cpus:1;mem:128' });
    core.allocate(0, rng());
    // ten years asked, one year (365 days) given
    core.recoverResources('f1', 's1', r('cpus:1;mem:128'), 10 * 365 * 24 * 3600, 0);
    expect(MAX_REFUSE_MS).toBe(31_536_000_000);
    expect(core.allocate(MAX_REFUSE_MS - 1, rng())).toEqual([]);
    expect(core.allocate(MAX_REFUSE_MS, rng())).toHaveLength(1);
  });

  it('is cleared by revive', () => {
    const core = coreWith(['f1'], { s1: 'cpus:1;mem:128' });
    core.allocate(0, rng());
    core.recoverResources('f1', 's1', r('cpus:1;mem:128'), 100, 0);
    expect(core.allocate(1, rng())).toEqual([]);
    core.revive('f1');
    expect(core.filterCount()).toBe(0);
    expect(plain(core.allocate(2, rng()))).toEqual([['f1', 's1', 'cpus:1;mem:128']]);
  });

  it('covers only what was refused: a larger offer goes through (as Mesos)', () => {
    const core = coreWith(['f1'], { s1: 'cpus:4;mem:1024' });
    core.allocate(0, rng());
    // f1 uses cpus:3;mem:768 and hands back the rest, refusing it for 60 s
    core.recoverResources('f1', 's1', r('cpus:1;mem:256'), 60, 0);
    expect(core.available('s1').toString()).toBe('cpus:1;mem:256');
    expect(core.allocate(1000, rng())).toEqual([]);
    // its task ends: cpus:3;mem:768 come back, no filter → s1 has cpus:4;mem:1024 free,
    // more than the refused cpus:1;mem:256 → offered
    core.recoverResources('f1', 's1', r('cpus:3;mem:768'), undefined, 2000);
    expect(plain(core.allocate(3000, rng()))).toEqual([['f1', 's1', 'cpus:4;mem:1024']]);
  });

  it('is per agent: other agents are still offered', () => {
    const core = coreWith(['f1'], { s1: 'cpus:1;mem:128' });
    core.allocate(0, rng());
    core.recoverResources('f1', 's1', r('cpus:1;mem:128'), 30, 0);
    core.addAgent('s2', r('cpus:2;mem:256'));
    expect(plain(core.allocate(1, rng()))).toEqual([['f1', 's2', 'cpus:2;mem:256']]);
  });
});

describe('AllocatorCore: who is not offered', () => {
  it('suppressed frameworks get nothing until revived', () => {
    const core = new AllocatorCore();
    core.addFramework('f1', { roles: ['*'], suppressed: true });
    core.addAgent('s1', r('cpus:1;mem:128'));
    expect(core.allocate(0, rng())).toEqual([]);
    core.revive('f1');
    expect(plain(core.allocate(0, rng()))).toEqual([['f1', 's1', 'cpus:1;mem:128']]);

    core.addFramework('f2', { roles: ['*'] });
    core.addAgent('s2', r('cpus:1;mem:128'));
    core.suppress('f2');
    // shares: f1 = 1/2 = .5, f2 = 0, but f2 is suppressed → s2 goes to f1
    expect(plain(core.allocate(1, rng()))).toEqual([['f1', 's2', 'cpus:1;mem:128']]);
  });

  it('deactivated frameworks get nothing; reactivated ones do', () => {
    const core = coreWith(['f1', 'f2'], {});
    core.deactivateFramework('f1');
    core.addAgent('s1', r('cpus:1;mem:128'));
    // f1 (name first) is inactive → f2
    expect(plain(core.allocate(0, rng()))).toEqual([['f2', 's1', 'cpus:1;mem:128']]);
    core.deactivateFramework('f2');
    core.addAgent('s2', r('cpus:1;mem:128'));
    expect(core.allocate(1, rng())).toEqual([]);
    core.activateFramework('f1');
    expect(plain(core.allocate(2, rng()))).toEqual([['f1', 's2', 'cpus:1;mem:128']]);
  });

  it('frameworks added inactive wait for activateFramework', () => {
    const core = new AllocatorCore();
    core.addFramework('f1', { roles: ['*'], active: false });
    core.addAgent('s1', r('cpus:1;mem:128'));
    expect(core.allocate(0, rng())).toEqual([]);
    core.activateFramework('f1');
    expect(core.allocate(0, rng())).toHaveLength(1);
  });

  it('deactivated agents are not offered; what is held there stays held', () => {
    const core = coreWith(['f1'], { s1: 'cpus:2;mem:256', s2: 'cpus:1;mem:128' });
    core.deactivateAgent('s1');
    expect(plain(core.allocate(0, rng()))).toEqual([['f1', 's2', 'cpus:1;mem:128']]);
    core.deactivateAgent('s2');
    core.recoverResources('f1', 's2', r('cpus:1;mem:128'), undefined, 0);
    expect(core.allocate(1, rng())).toEqual([]);
    core.activateAgent('s1');
    expect(plain(core.allocate(2, rng()))).toEqual([['f1', 's1', 'cpus:2;mem:256']]);
  });

  it('does not offer less than the default minimum (cpus:0.01 or mem:32)', () => {
    const core = coreWith(['f1'], { tiny: 'cpus:0.009;mem:31.999' });
    // cpus .009 < .01 and mem 31.999 < 32 → not allocatable
    expect(core.allocate(0, rng())).toEqual([]);
    core.addAgent('cpu-only', r('cpus:0.01'));
    core.addAgent('mem-only', r('mem:32'));
    // either minimum alone suffices
    const got = core.allocate(0, rng()).map((d) => d.agentId).sort();
    expect(got).toEqual(['cpu-only', 'mem-only']);
  });

  it('does not offer leftovers below the minimum', () => {
    const core = coreWith(['f1', 'f2'], {});
    core.addAgent('s1', r('cpus:4;mem:1024'), new Map([['f1', r('cpus:3.995;mem:1000')]]));
    // available: cpus 4 − 3.995 = .005, mem 1024 − 1000 = 24 → below both minimums
    expect(core.available('s1').toString()).toBe('cpus:0.005;mem:24');
    expect(core.allocate(0, rng())).toEqual([]);
  });

  it('honours a custom minAllocatable (any one of the list, in full)', () => {
    const core = new AllocatorCore({ minAllocatable: [r('cpus:1;mem:64'), r('gpus:1')] });
    core.addFramework('f1', { roles: ['*'] });
    core.addAgent('s1', r('cpus:1;mem:32'));
    // cpus:1;mem:32 lacks mem:64, and has no gpus → nothing
    expect(core.allocate(0, rng())).toEqual([]);
    core.addAgent('s2', r('cpus:1;mem:64'));
    core.addAgent('s3', r('gpus:1'));
    expect(core.allocate(0, rng()).map((d) => d.agentId).sort()).toEqual(['s2', 's3']);
  });
});

describe('AllocatorCore: bookkeeping', () => {
  it('removeFramework returns what it held to the pool', () => {
    const core = coreWith(['f1'], { s1: 'cpus:4;mem:1024' });
    core.allocate(0, rng());
    expect(core.available('s1').isEmpty()).toBe(true);
    core.removeFramework('f1');
    expect(core.available('s1').toString()).toBe('cpus:4;mem:1024');
    expect(core.frameworkIds()).toEqual([]);
    core.addFramework('f2', { roles: ['*'] });
    expect(plain(core.allocate(1, rng()))).toEqual([['f2', 's1', 'cpus:4;mem:1024']]);
  });

  it('removeAgent takes its resources out of allocations and shares', () => {
    const core = coreWith(['f1'], { s1: 'cpus:4;mem:1024', s2: 'cpus:4;mem:1024' });
    core.allocate(0, rng());
    core.recoverResources('f1', 's2', r('cpus:4;mem:1024'), undefined, 0);
    // f1 holds s1 whole: cpus 4/8 = .5
    expect(core.frameworkShare('f1')).toBeCloseTo(0.5, 12);
    core.removeAgent('s1');
    expect(core.allocationOf('f1').isEmpty()).toBe(true);
    expect(core.frameworkShare('f1')).toBe(0);
    expect(core.agentIds()).toEqual(['s2']);
    // recovering on the removed agent is a no-op (a late decline)
    core.recoverResources('f1', 's1', r('cpus:4;mem:1024'), 5, 0);
    expect(core.filterCount()).toBe(0);
  });

  it('recovers only what the framework held on that agent', () => {
    const core = coreWith(['f1', 'f2'], { s1: 'cpus:4;mem:1024' });
    core.allocate(0, rng());
    // f2 holds nothing on s1: giving "back" cpus:4 changes nothing
    core.recoverResources('f2', 's1', r('cpus:4'), undefined, 0);
    expect(core.available('s1').isEmpty()).toBe(true);
    // f1 returns more than it holds: clamped to cpus:4;mem:1024
    core.recoverResources('f1', 's1', r('cpus:10;mem:1024;disk:5'), undefined, 0);
    expect(core.available('s1').toString()).toBe('cpus:4;mem:1024');
    expect(core.allocationOf('f1').isEmpty()).toBe(true);
  });

  it('accounts agent-reported use of frameworks added later, and clamps it to the total', () => {
    const core = new AllocatorCore();
    // f9 is not known yet: its use still takes s1's resources
    core.addAgent('s1', r('cpus:4;mem:1024'), new Map([['f9', r('cpus:3;mem:512')], ['f8', r('cpus:3;mem:100')]]));
    // f9 takes cpus:3;mem:512, f8 only the cpus:1 left (and its mem:100) → cpus 0 free, mem 412
    expect(core.available('s1').toString()).toBe('mem:412');
    expect(core.allocatedOn('s1').get('f8')?.toString()).toBe('cpus:1;mem:100');
    core.addFramework('f9', { roles: ['*'] }, new Map([['s1', r('cpus:1')], ['s7', r('cpus:1')]]));
    // the agent's account wins: cpus 3/4 = .75 (mem 512/1024 = .5)
    expect(core.frameworkShare('f9')).toBeCloseTo(0.75, 12);
    expect(core.allocationOf('f9').toString()).toBe('cpus:3;mem:512');
    // f7 brings use on s1 that the agent did not report: it is taken from what is free
    core.addFramework('f7', { roles: ['*'] }, new Map([['s1', r('mem:500')]]));
    // f7 asks for mem:500 on s1, only 412 free → 412
    expect(core.allocationOf('f7').toString()).toBe('mem:412');
    expect(core.available('s1').isEmpty()).toBe(true);
  });

  it('throws typed errors for unknown and duplicate ids', () => {
    const core = coreWith(['f1'], { s1: 'cpus:1' });
    expect(() => core.addAgent('s1', r('cpus:1'))).toThrow(DuplicateIdError);
    expect(() => core.addFramework('f1', { roles: ['*'] })).toThrow(DuplicateIdError);
    expect(() => core.removeAgent('nope')).toThrow(UnknownAgentError);
    expect(() => core.deactivateAgent('nope')).toThrow(UnknownAgentError);
    expect(() => core.available('nope')).toThrow(UnknownAgentError);
    expect(() => core.removeFramework('nope')).toThrow(UnknownFrameworkError);
    expect(() => core.suppress('nope')).toThrow(UnknownFrameworkError);
    expect(() => core.revive('nope')).toThrow(UnknownFrameworkError);
    expect(() => core.frameworkShare('nope')).toThrow(UnknownFrameworkError);
    try {
      core.activateFramework('ghost');
    } catch (e) {
      expect((e as UnknownFrameworkError).name).toBe('UnknownFrameworkError');
      expect((e as UnknownFrameworkError).frameworkId).toBe('ghost');
    }
    // recovering for unknown ids is tolerated (races with removal)
    expect(() => core.recoverResources('nope', 's1', r('cpus:1'), 5, 0)).not.toThrow();
  });

  it('uses the injected sorter factory for its sorters', () => {
    const made: DrfSorter[] = [];
    const core = new AllocatorCore({
      sorterFactory: () => {
        const sorter = new DrfSorter();
        made.push(sorter);
        return sorter;
      },
    });
    core.addFramework('f1', { roles: ['*'] });
    core.addAgent('s1', r('cpus:2;mem:100'));
    core.allocate(0, rng());
    // one sorter for the role tree's root, one for role '*'
    expect(made).toHaveLength(2);
    expect(made[1]?.allocation('f1')).toEqual(new Map([['cpus', 2], ['mem', 100]]));
    expect(made[1]?.sort()).toEqual(['f1']);
    expect(made[0]?.sort()).toEqual(['*']);
  });
});

// ---- properties ------------------------------------------------------------------------------

type Op =
  | { kind: 'addAgent'; agent: string; cpus: number; mem: number; ports: number }
  | { kind: 'removeAgent'; agent: string }
  | { kind: 'toggleAgent'; agent: string }
  | { kind: 'addFramework'; fw: string }
  | { kind: 'removeFramework'; fw: string }
  | { kind: 'toggleFramework'; fw: string }
  | { kind: 'suppress' | 'revive'; fw: string }
  | { kind: 'recoverAll'; fw: string; agent: string; refuse: number }
  | { kind: 'recoverSome'; fw: string; agent: string; cpus: number; mem: number; refuse: number }
  | { kind: 'allocate'; dt: number; seed: number };

const agentIdArb = fc.constantFrom('s1', 's2', 's3', 's4');
const fwIdArb = fc.constantFrom('f1', 'f2', 'f3');
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('addAgent' as const), agent: agentIdArb, cpus: fc.integer({ min: 0, max: 8000 }), mem: fc.integer({ min: 0, max: 4096 }), ports: fc.integer({ min: 0, max: 20 }) }),
  fc.record({ kind: fc.constant('removeAgent' as const), agent: agentIdArb }),
  fc.record({ kind: fc.constant('toggleAgent' as const), agent: agentIdArb }),
  fc.record({ kind: fc.constant('addFramework' as const), fw: fwIdArb }),
  fc.record({ kind: fc.constant('removeFramework' as const), fw: fwIdArb }),
  fc.record({ kind: fc.constant('toggleFramework' as const), fw: fwIdArb }),
  fc.record({ kind: fc.constantFrom('suppress' as const, 'revive' as const), fw: fwIdArb }),
  fc.record({ kind: fc.constant('recoverAll' as const), fw: fwIdArb, agent: agentIdArb, refuse: fc.integer({ min: 0, max: 20 }) }),
  fc.record({ kind: fc.constant('recoverSome' as const), fw: fwIdArb, agent: agentIdArb, cpus: fc.integer({ min: 0, max: 4000 }), mem: fc.integer({ min: 0, max: 2048 }), refuse: fc.integer({ min: 0, max: 20 }) }),
  fc.record({ kind: fc.constant('allocate' as const), dt: fc.integer({ min: 0, max: 15_000 }), seed: fc.integer() }),
);

/** What the test believes is outstanding: decisions minus what came back, per agent per framework. */
class Model {
  readonly totals = new Map<string, Resources>();
  readonly activeAgents = new Set<string>();
  readonly frameworks = new Map<string, { active: boolean; suppressed: boolean }>();
  readonly held = new Map<string, Map<string, Resources>>();

  heldOn(agent: string, fw: string): Resources {
    return this.held.get(agent)?.get(fw) ?? Resources.empty();
  }
}

/** Applies one op to both the core and the model; checks each run's decisions as it goes. */
function step(core: AllocatorCore, model: Model, op: Op, clock: { now: number }): void {
  switch (op.kind) {
    case 'addAgent': {
      if (model.totals.has(op.agent)) return expect(() => core.addAgent(op.agent, r('cpus:1'))).toThrow(DuplicateIdError);
      const ports = op.ports > 0 ? `;ports:[31000-${31000 + op.ports - 1}]` : '';
      const total = r(`cpus:${op.cpus / 1000};mem:${op.mem}${ports}`);
      core.addAgent(op.agent, total);
      model.totals.set(op.agent, total);
      model.activeAgents.add(op.agent);
      model.held.set(op.agent, new Map());
      return;
    }
    case 'removeAgent':
      if (!model.totals.has(op.agent)) return expect(() => core.removeAgent(op.agent)).toThrow(UnknownAgentError);
      core.removeAgent(op.agent);
      model.totals.delete(op.agent);
      model.activeAgents.delete(op.agent);
      model.held.delete(op.agent);
      return;
    case 'toggleAgent':
      if (!model.totals.has(op.agent)) return;
      if (model.activeAgents.delete(op.agent)) core.deactivateAgent(op.agent);
      else {
        model.activeAgents.add(op.agent);
        core.activateAgent(op.agent);
      }
      return;
    case 'addFramework':
      if (model.frameworks.has(op.fw)) return;
      core.addFramework(op.fw, { roles: ['*'] });
      model.frameworks.set(op.fw, { active: true, suppressed: false });
      return;
    case 'removeFramework':
      if (!model.frameworks.has(op.fw)) return expect(() => core.removeFramework(op.fw)).toThrow(UnknownFrameworkError);
      core.removeFramework(op.fw);
      model.frameworks.delete(op.fw);
      for (const byFw of model.held.values()) byFw.delete(op.fw);
      return;
    case 'toggleFramework': {
      const fw = model.frameworks.get(op.fw);
      if (fw === undefined) return;
      fw.active = !fw.active;
      if (fw.active) core.activateFramework(op.fw);
      else core.deactivateFramework(op.fw);
      return;
    }
    case 'suppress':
    case 'revive': {
      const fw = model.frameworks.get(op.fw);
      if (fw === undefined) return;
      fw.suppressed = op.kind === 'suppress';
      core[op.kind](op.fw);
      return;
    }
    case 'recoverAll':
    case 'recoverSome': {
      const held = model.heldOn(op.agent, op.fw);
      const back = op.kind === 'recoverAll' ? held : Resources.fromScalars({ cpus: op.cpus / 1000, mem: op.mem });
      core.recoverResources(op.fw, op.agent, back, op.refuse, clock.now);
      if (model.totals.has(op.agent)) model.held.get(op.agent)?.set(op.fw, held.subtract(back));
      return;
    }
    case 'allocate': {
      clock.now += op.dt;
      const decisions = core.allocate(clock.now, createRng(op.seed));
      const seen = new Set<string>();
      for (const d of decisions) {
        // one framework per agent per run, only active agents, only eligible frameworks
        expect(seen.has(d.agentId)).toBe(false);
        seen.add(d.agentId);
        expect(model.activeAgents.has(d.agentId)).toBe(true);
        expect(model.frameworks.get(d.frameworkId)).toEqual({ active: true, suppressed: false });
        expect(d.resources.isEmpty()).toBe(false);
        model.held.get(d.agentId)?.set(d.frameworkId, model.heldOn(d.agentId, d.frameworkId).add(d.resources));
      }
      return;
    }
  }
}

/** The invariants: nothing offered twice, and the core's books agree with the model's. */
function checkInvariants(core: AllocatorCore, model: Model): void {
  for (const [agent, total] of model.totals) {
    let sum = Resources.empty();
    for (const res of model.held.get(agent)?.values() ?? []) sum = sum.add(res);
    // outstanding on the agent ⊆ its total: no resource is offered twice
    expect(total.contains(sum)).toBe(true);
    expect(core.available(agent).toString()).toBe(total.subtract(sum).toString());
  }
  for (const fw of model.frameworks.keys()) {
    let sum = Resources.empty();
    for (const byFw of model.held.values()) sum = sum.add(byFw.get(fw) ?? Resources.empty());
    expect(core.allocationOf(fw).toString()).toBe(sum.toString());
  }
}

describe('AllocatorCore properties', () => {
  it('never offers a resource twice and keeps its books straight over random operations', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 10, maxLength: 60, size: 'max' }), (ops) => {
        const core = new AllocatorCore();
        const model = new Model();
        const clock = { now: 0 };
        for (const op of ops) {
          step(core, model, op, clock);
          checkInvariants(core, model);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('allocates everything allocatable when nothing is filtered or suppressed', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ cpus: fc.integer({ min: 10, max: 8000 }), mem: fc.integer({ min: 32, max: 4096 }) }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer(),
        (agents, frameworks, seed) => {
          const core = new AllocatorCore();
          for (let i = 0; i < frameworks; i++) core.addFramework(`f${i}`, { roles: ['*'] });
          agents.forEach((a, i) => core.addAgent(`s${i}`, Resources.fromScalars({ cpus: a.cpus / 1000, mem: a.mem })));
          const decisions = core.allocate(0, createRng(seed));
          // every agent is above the minimum → each is offered exactly once
          expect(decisions).toHaveLength(agents.length);
          for (const id of core.agentIds()) expect(core.available(id).isEmpty()).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});
