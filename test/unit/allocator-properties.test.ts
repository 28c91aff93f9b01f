// Invariants of the allocator under random operations (fast-check): roles, MULTI_ROLE,
// quota, reservations, suppression, filters and operations mixed. After every step the books
// must add up, and every run's decisions must respect what the allocator promises.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AllocatorCore, type OfferDecision } from '../../actors/allocator/core.js';
import { isAllocatorError } from '../../actors/allocator/errors.js';
import { meetsAnyMinimum } from '../../actors/allocator/quantities.js';
import { RandomSorter } from '../../actors/allocator/random-sorter.js';
import { isWithin } from '../../actors/allocator/roles.js';
import { createRng } from '../../actors/runtime/rng.js';
import { Resources } from '../../protocol/resources.js';

const AGENTS = ['s1', 's2', 's3', 's4'] as const;
const FRAMEWORKS = ['f1', 'f2', 'f3'] as const;
const ROLES = ['*', 'a', 'a/x', 'b'] as const;
const TOPS = ['a', 'b'] as const;
const MINS = [Resources.fromScalars({ cpus: 0.01 }), Resources.fromScalars({ mem: 32 })];

type Op =
  | { kind: 'addAgent'; agent: string; cpus: number; mem: number; ports: number; reservedCpus: number; reservedRole: string; usedBy: string; usedCpus: number }
  | { kind: 'removeAgent' | 'toggleAgent'; agent: string }
  | { kind: 'addFramework'; fw: string; roles: string[] }
  | { kind: 'removeFramework' | 'toggleFramework'; fw: string }
  | { kind: 'suppress' | 'revive'; fw: string; roles: string[] }
  | { kind: 'recover'; fw: string; agent: string; part: number; refuse: number }
  | { kind: 'accept'; fw: string; agent: string }
  | { kind: 'quota'; top: string; guarantee: number; extra: number }
  | { kind: 'removeQuota'; top: string }
  | { kind: 'weight'; role: string; weight: number }
  | { kind: 'reserve'; agent: string; role: string; cpus: number; labelled: boolean }
  | { kind: 'unreserve'; agent: string }
  | { kind: 'allocate'; dt: number; seed: number };

const agent = fc.constantFrom(...AGENTS);
const fw = fc.constantFrom(...FRAMEWORKS);
const roles = fc.subarray([...ROLES], { minLength: 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant('addAgent' as const),
      agent,
      cpus: fc.integer({ min: 0, max: 8000 }),
      mem: fc.integer({ min: 0, max: 4096 }),
      ports: fc.integer({ min: 0, max: 8 }),
      reservedCpus: fc.integer({ min: 0, max: 2000 }),
      reservedRole: fc.constantFrom('a', 'a/x', 'b'),
      usedBy: fc.constantFrom('', ...FRAMEWORKS),
      usedCpus: fc.integer({ min: 0, max: 3000 }),
    }),
    weight: 3,
  },
  fc.record({ kind: fc.constantFrom('removeAgent' as const, 'toggleAgent' as const), agent }),
  { arbitrary: fc.record({ kind: fc.constant('addFramework' as const), fw, roles }), weight: 3 },
  fc.record({ kind: fc.constantFrom('removeFramework' as const, 'toggleFramework' as const), fw }),
  fc.record({ kind: fc.constantFrom('suppress' as const, 'revive' as const), fw, roles }),
  { arbitrary: fc.record({ kind: fc.constant('recover' as const), fw, agent, part: fc.integer({ min: 0, max: 2 }), refuse: fc.integer({ min: 0, max: 20 }) }), weight: 3 },
  fc.record({ kind: fc.constant('accept' as const), fw, agent }),
  fc.record({ kind: fc.constant('quota' as const), top: fc.constantFrom(...TOPS), guarantee: fc.integer({ min: 0, max: 6000 }), extra: fc.integer({ min: 0, max: 4000 }) }),
  fc.record({ kind: fc.constant('removeQuota' as const), top: fc.constantFrom(...TOPS) }),
  fc.record({ kind: fc.constant('weight' as const), role: fc.constantFrom(...ROLES), weight: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant('reserve' as const), agent, role: fc.constantFrom('a', 'a/x', 'b'), cpus: fc.integer({ min: 1, max: 3000 }), labelled: fc.boolean() }),
  fc.record({ kind: fc.constant('unreserve' as const), agent }),
  { arbitrary: fc.record({ kind: fc.constant('allocate' as const), dt: fc.integer({ min: 0, max: 15_000 }), seed: fc.integer() }), weight: 5 },
);

/** What the test knows independently of the core. */
interface Model {
  now: number;
  agents: Map<string, { active: boolean }>;
  frameworks: Map<string, { active: boolean; roles: string[]; suppressed: Set<string> }>;
  limits: Map<string, number>;
}

/** Runs one op; allocator errors (bad operations) are allowed and must leave the books straight. */
function step(core: AllocatorCore, model: Model, op: Op): void {
  try {
    apply(core, model, op);
  } catch (e) {
    if (!isAllocatorError(e)) throw e;
  }
}

function apply(core: AllocatorCore, model: Model, op: Op): void {
  switch (op.kind) {
    case 'addAgent': {
      if (model.agents.has(op.agent)) return;
      const ports = op.ports > 0 ? `;ports:[31000-${31000 + op.ports - 1}]` : '';
      const reserved = op.reservedCpus > 0 ? `;cpus(${op.reservedRole}):${op.reservedCpus / 1000}` : '';
      // a reregistering agent may report use by a framework, known or not yet (failover)
      const used = op.usedBy === '' ? new Map<string, Resources>() : new Map([[op.usedBy, Resources.parse(`cpus:${op.usedCpus / 1000};ports:[31000-31001]`)]]);
      core.addAgent(op.agent, Resources.parse(`cpus:${op.cpus / 1000};mem:${op.mem}${ports}${reserved}`), used);
      model.agents.set(op.agent, { active: true });
      return;
    }
    case 'removeAgent':
      if (!model.agents.delete(op.agent)) return;
      core.removeAgent(op.agent);
      return;
    case 'toggleAgent': {
      const a = model.agents.get(op.agent);
      if (a === undefined) return;
      a.active = !a.active;
      if (a.active) core.activateAgent(op.agent);
      else core.deactivateAgent(op.agent);
      return;
    }
    case 'addFramework':
      if (model.frameworks.has(op.fw)) return;
      core.addFramework(op.fw, { roles: op.roles });
      model.frameworks.set(op.fw, { active: true, roles: op.roles, suppressed: new Set() });
      return;
    case 'removeFramework':
      if (!model.frameworks.delete(op.fw)) return;
      core.removeFramework(op.fw);
      return;
    case 'toggleFramework': {
      const f = model.frameworks.get(op.fw);
      if (f === undefined) return;
      f.active = !f.active;
      if (f.active) core.activateFramework(op.fw);
      else core.deactivateFramework(op.fw);
      return;
    }
    case 'suppress':
    case 'revive': {
      const f = model.frameworks.get(op.fw);
      if (f === undefined) return;
      core[op.kind](op.fw, op.roles);
      for (const role of op.roles) {
        if (op.kind === 'revive') f.suppressed.delete(role);
        else if (f.roles.includes(role)) f.suppressed.add(role);
      }
      return;
    }
    case 'recover': {
      if (!model.agents.has(op.agent)) return;
      for (const [, held] of core.holdingsOn(op.agent, op.fw)) {
        const back = op.part === 2 ? held : held.scalars().subtract(Resources.fromScalars({ cpus: 0.5 * op.part + 0.1, mem: 16 }));
        core.recoverResources(op.fw, op.agent, back, op.refuse, model.now);
      }
      return;
    }
    case 'accept':
      if (!model.agents.has(op.agent)) return;
      for (const [role, held] of core.holdingsOn(op.agent, op.fw)) core.offerAccepted(op.fw, op.agent, held, role);
      return;
    case 'quota': {
      const guarantee = op.guarantee / 1000;
      const limit = (op.guarantee + op.extra) / 1000;
      core.setQuota(op.top, { guarantees: { cpus: guarantee }, limits: { cpus: limit } });
      model.limits.set(op.top, Math.round(limit * 1000));
      return;
    }
    case 'removeQuota':
      core.removeQuota(op.top);
      model.limits.delete(op.top);
      return;
    case 'weight':
      core.setWeight(op.role, op.weight);
      return;
    case 'reserve': {
      if (!model.agents.has(op.agent)) return;
      const labels = op.labelled ? ',dynamic,team=t' : ',dynamic';
      core.applyOperation(op.agent, { type: 'RESERVE', resources: Resources.parse(`cpus(${op.role}${labels}):${op.cpus / 1000}`) });
      return;
    }
    case 'unreserve': {
      if (!model.agents.has(op.agent)) return;
      const free = core.available(op.agent).dynamicallyReserved();
      if (!free.isEmpty()) core.applyOperation(op.agent, { type: 'UNRESERVE', resources: free });
      return;
    }
    case 'allocate': {
      model.now += op.dt;
      const before = new Map(core.agentIds().map((id) => [id, core.available(id)]));
      const consumed = consumedCpus(core);
      const decisions = core.allocate(model.now, createRng(op.seed));
      checkDecisions(core, model, decisions, before);
      // quota limits are never exceeded by a run (reservations alone may exceed them)
      const after = consumedCpus(core);
      for (const [top, limit] of model.limits) {
        expect(after.get(top) ?? 0).toBeLessThanOrEqual(Math.max(limit, consumed.get(top) ?? 0));
      }
      return;
    }
  }
}

function consumedCpus(core: AllocatorCore): Map<string, number> {
  return new Map(core.roles().flatMap((v) => (v.consumed === undefined ? [] : [[v.role, Math.round((v.consumed.cpus ?? 0) * 1000)]])));
}

/** Every decision of a run: eligible receiver, reserved parts to their role only, no resource twice. */
function checkDecisions(core: AllocatorCore, model: Model, decisions: readonly OfferDecision[], before: ReadonlyMap<string, Resources>): void {
  const perAgent = new Map<string, Resources[]>();
  for (const d of decisions) {
    const f = model.frameworks.get(d.frameworkId);
    // a suppressed role gets no offers; nor inactive frameworks, roles not subscribed, inactive agents
    expect(f?.active).toBe(true);
    expect(f?.roles).toContain(d.role);
    expect(f?.suppressed.has(d.role)).toBe(false);
    expect(model.agents.get(d.agentId)?.active).toBe(true);
    // reserved resources reach only their role (or a descendant)
    for (const reservation of d.resources.reserved().roles()) expect(isWithin(d.role, reservation)).toBe(true);
    expect(meetsAnyMinimum(d.resources, MINS)).toBe(true);
    perAgent.set(d.agentId, [...(perAgent.get(d.agentId) ?? []), d.resources]);
  }
  for (const [agentId, parts] of perAgent) {
    // what a run offers on an agent was free before it, and no part is offered twice
    expect(disjointWithin(parts, before.get(agentId) ?? Resources.empty())).toBe(true);
  }
}

/** True when `parts` do not overlap and together fit in `whole` (scalars summed, range counts summed). */
function disjointWithin(parts: readonly Resources[], whole: Resources): boolean {
  let sum = Resources.empty();
  let ports = 0;
  for (const p of parts) {
    sum = sum.add(p);
    ports += p.rangeCount('ports');
  }
  return whole.contains(sum) && sum.rangeCount('ports') === ports;
}

/** The books add up: per agent, free + every holding = total, with nothing counted twice. */
function checkBooks(core: AllocatorCore, model: Model): void {
  for (const agentId of core.agentIds()) {
    const total = core.totalOf(agentId);
    const parts = [core.available(agentId)];
    for (const frameworkId of FRAMEWORKS) {
      for (const [role, held] of core.holdingsOn(agentId, frameworkId)) {
        parts.push(held);
        // held reserved resources belong to the holding's role
        for (const reservation of held.reserved().roles()) expect(isWithin(role, reservation)).toBe(true);
      }
    }
    // allocations never exceed agent totals, and nothing is held twice
    expect(disjointWithin(parts, total)).toBe(true);
    let sum = Resources.empty();
    for (const p of parts) sum = sum.add(p);
    expect(sum.toString()).toBe(total.toString());
  }
  expect(new Set(core.frameworkIds())).toEqual(new Set(model.frameworks.keys()));
  // a framework's own account agrees with the agents' accounts of it
  for (const frameworkId of core.frameworkIds()) {
    let sum = Resources.empty();
    for (const agentId of core.agentIds()) for (const held of core.holdingsOn(agentId, frameworkId).values()) sum = sum.add(held);
    expect(core.allocationOf(frameworkId).toString()).toBe(sum.toString());
  }
}

describe('allocator invariants under random operations', () => {
  it.each([
    ['DRF', undefined],
    ['random', (seed: number) => () => new RandomSorter(createRng(seed))],
  ] as const)('%s: never offers or holds a resource twice, never exceeds totals or limits, keeps reservations and suppression', (_name, random) => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 10, maxLength: 60, size: 'max' }), fc.integer(), (ops, seed) => {
        const core = new AllocatorCore(random === undefined ? {} : { sorterFactory: random(seed) });
        const model: Model = { now: 0, agents: new Map(), frameworks: new Map(), limits: new Map() };
        for (const op of ops) {
          step(core, model, op);
          checkBooks(core, model);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('hands out everything allocatable when nothing stands in the way', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ cpus: fc.integer({ min: 10, max: 8000 }), mem: fc.integer({ min: 32, max: 4096 }), role: fc.constantFrom(...ROLES) }), { minLength: 1, maxLength: 6 }),
        fc.integer(),
        (agents, seed) => {
          const core = new AllocatorCore();
          // one framework in every role: every reservation has a taker
          ROLES.forEach((role, i) => core.addFramework(`f${i}`, { roles: [role] }));
          agents.forEach((a, i) => core.addAgent(`s${i}`, Resources.fromScalars({ cpus: a.cpus / 1000, mem: a.mem }, a.role)));
          core.allocate(0, createRng(seed));
          for (const id of core.agentIds()) expect(core.available(id).toString()).toBe('');
        },
      ),
      { numRuns: 200 },
    );
  });
});
