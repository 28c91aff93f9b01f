// One allocation run, after Mesos's `HierarchicalAllocatorProcess::__allocate`. Active
// agents are visited in an order shuffled by the caller's Rng, in two stages:
//
//   1. Quota guarantees: for roles whose top-level role misses part of its guarantee, each
//      agent offers (in role order — a per-run sorter of just these roles, see
//      guarantee-sorter.ts — then framework sorter order) the unreserved
//      scalars the gap asks for, plus reservations and non-scalars, plus — within limits and
//      surplus headroom — the rest. Skipped entirely when no guarantee is unmet.
//   2. Everyone: each agent offers, in role then framework order, what each role may use:
//      reservations and non-scalars whole, unreserved scalars cut to the role's quota limit
//      and to the surplus headroom (so unmet guarantees of others can still be met).
//
// An offer goes to a framework unless its refusal filters cover it; it must meet the minimum
// allocatable size. The role and framework orders are walked once per agent (Mesos sorts once
// per agent; changes made during the walk apply to the next agent), stopping at the first
// framework that takes the offer, and the sorters keep their orders incrementally: a run costs
// about one sorter update per allocation, not a sort per agent.
import type { Resources } from '../../protocol/resources.js';
import { shuffle, type Rng } from '../runtime/rng.js';
import { byAgentId, type Books } from './books.js';
import { GuaranteeSorter } from './guarantee-sorter.js';
import type { OfferFilters } from './filters.js';
import { meetsAnyMinimum, shrinkScalars } from './quantities.js';
import { QuotaRun, type QuotaMilli } from './quota.js';
import { topLevel } from './roles.js';
import type { AgentState, OfferDecision, RoleState } from './state.js';

/** What a run reads and changes. */
export interface RunContext {
  readonly books: Books;
  readonly filters: OfferFilters;
  readonly quotas: ReadonlyMap<string, QuotaMilli>;
  readonly minAllocatable: readonly Resources[];
}

type Stage = 1 | 2;

/**
 * Runs one allocation over the active agents, or only over `candidates` (Mesos's allocation
 * candidates: the agents whose resources changed); returns the decisions, one per
 * (framework, role, agent).
 */
export function runAllocation(ctx: RunContext, runId: number, now: number, rng: Rng, candidates?: ReadonlySet<string>): OfferDecision[] {
  const { books, filters } = ctx;
  filters.expire(now);
  const decisions: OfferDecision[] = [];
  // In id order first, so that the shuffle depends on the seed only, not on insertion order.
  const pool = candidates === undefined ? books.agentsInIdOrder() : [...candidates].flatMap((id) => books.agents.get(id) ?? []).sort(byAgentId);
  const agents = pool.filter((a) => a.active);
  const quota = ctx.quotas.size === 0 ? undefined : new QuotaRun(books, ctx.quotas);
  const stage1 = quota?.anyUnsatisfied() ? new GuaranteeSorter(books, quota) : undefined;

  const record = (agent: AgentState, frameworkId: string, role: string, offer: Resources): void => {
    const h = books.hold(agent, frameworkId, role, offer, now);
    if (h.run === runId) {
      const d = decisions[h.decision] as OfferDecision;
      decisions[h.decision] = { ...d, resources: d.resources.add(offer) };
    } else {
      h.run = runId;
      h.decision = decisions.length;
      decisions.push({ frameworkId, agentId: agent.id, role, resources: offer });
    }
    if (quota === undefined) return;
    const top = topLevel(role);
    const wasUnmet = quota.isUnmet(top);
    quota.charge(top, offer.unreserved().scalars());
    stage1?.allocated(role, offer);
    if (wasUnmet && !quota.isUnmet(top)) stage1?.satisfied(top);
  };

  const visit = (agent: AgentState, stage: Stage): void => {
    const roles = stage === 1 && stage1 !== undefined ? stage1.sorter : books.roleSorter;
    roles.walk((roleName) => {
      if (agent.available.isEmpty()) return false;
      const role = books.roles.get(roleName);
      if (role === undefined) return true;
      if (stage === 1 && !(quota?.isUnmet(topLevel(roleName)) ?? false)) return true;
      if (stage === 2 && quota !== undefined && role.blocked && agent.available.reserved().isEmpty()) return true;
      offerToRole(agent, role, stage);
      return true;
    });
  };

  const offerToRole = (agent: AgentState, role: RoleState, stage: Stage): void => {
    let offer = offerFor(ctx, quota, agent, role.name, stage);
    if (offer === undefined) return;
    books.frameworkSorter(role).walk((frameworkId) => {
      if (offer === undefined) return false;
      if (filters.filters(frameworkId, agent.id, offer, now)) return true;
      record(agent, frameworkId, role.name, offer);
      if (stage === 2 && quota !== undefined) role.blocked = blockedFor(quota, books, role.name);
      offer = offerFor(ctx, quota, agent, role.name, stage);
      return offer !== undefined;
    });
  };

  if (stage1 !== undefined) for (const agent of shuffle(agents, rng)) if (quota?.anyUnsatisfied()) visit(agent, 1);
  const order = shuffle(agents, rng);
  if (quota !== undefined) {
    let open = 0;
    for (const role of books.roles.values()) {
      role.blocked = blockedFor(quota, books, role.name);
      if (!role.blocked) open++;
    }
    // Every role at its limit and nothing reserved free: stage 2 cannot offer anything.
    if (open === 0 && !order.some((a) => !a.available.reserved().isEmpty())) return decisions;
  }
  for (const agent of order) visit(agent, 2);
  return decisions;
}

/**
 * What `role` would be offered on `agent` in `stage` now (the same for each of its
 * frameworks), or undefined when it is nothing or below the minimum.
 */
export function offerFor(ctx: RunContext, quota: QuotaRun | undefined, agent: AgentState, role: string, stage: Stage): Resources | undefined {
  const available = agent.available.allocatableBy(role);
  if (!meetsAnyMinimum(available, ctx.minAllocatable)) return undefined;
  if (quota === undefined) return available;
  const top = topLevel(role);
  const unreserved = available.unreserved().scalars();
  // Reservations and non-scalars (ports) always go with the offer.
  let offer = available.subtract(unreserved);
  let additional = unreserved;
  if (stage === 1) {
    const guaranteed = shrinkScalars(unreserved, quota.unsatisfied(top), false);
    // Stage 1 offers only to roles it moves towards their guarantee.
    if (guaranteed.isEmpty()) return undefined;
    offer = offer.add(guaranteed);
    additional = unreserved.subtract(guaranteed);
    const room = quota.limitRoom(top);
    if (room !== undefined) additional = shrinkScalars(additional, subtractQuantities(room, guaranteed), true);
  } else {
    const room = quota.limitRoom(top);
    if (room !== undefined) additional = shrinkScalars(additional, room, true);
  }
  if (quota.anyUnsatisfied() && !additional.isEmpty()) additional = shrinkScalars(additional, quota.surplus(), false);
  offer = offer.add(additional);
  return meetsAnyMinimum(offer, ctx.minAllocatable) ? offer : undefined;
}

/** True when the role's top-level role is at its limit for every scalar of the cluster. */
function blockedFor(quota: QuotaRun, books: Books, role: string): boolean {
  return quota.atLimit(topLevel(role), books.clusterMilli.keys());
}

function subtractQuantities(room: ReadonlyMap<string, number>, taken: Resources): Map<string, number> {
  const out = new Map(room);
  for (const [name, milli] of taken.scalarMilli()) {
    const left = out.get(name);
    if (left !== undefined) out.set(name, Math.max(0, left - milli));
  }
  return out;
}
