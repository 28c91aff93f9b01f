// "Why am I not being offered resources?" — the allocator's answer, as named reasons (shown
// to frameworks and operators, never parsed from text). The answer is computed against the
// current state, as the next allocation run would see it: for each active agent, what the role
// would be offered there, then whether quota, headroom or refusal filters stand in the way.
import { Resources } from '../../protocol/resources.js';
import { offerFor, type RunContext } from './allocation.js';
import { meetsAnyMinimum, shrinkScalars, toUnits } from './quantities.js';
import { QuotaRun } from './quota.js';
import { topLevel } from './roles.js';
import type { AgentState, FrameworkState } from './state.js';

/** Why a framework is not offered resources for a role. */
export const NotOfferedReason = {
  /** The framework is disconnected or deactivated. */
  FRAMEWORK_INACTIVE: 'FRAMEWORK_INACTIVE',
  /** The framework did not subscribe with this role. */
  ROLE_NOT_SUBSCRIBED: 'ROLE_NOT_SUBSCRIBED',
  /** The framework suppressed offers for this role (SUPPRESS); REVIVE to get them again. */
  ROLE_SUPPRESSED: 'ROLE_SUPPRESSED',
  /** No agent is active. */
  NO_ACTIVE_AGENTS: 'NO_ACTIVE_AGENTS',
  /** No active agent has enough free resources that this role may use (the request, or the minimum offer). */
  NO_AGENT_WITH_ENOUGH: 'NO_AGENT_WITH_ENOUGH',
  /** Agents with enough are covered by the framework's refusal filters (DECLINE refuse_seconds). */
  FILTERED: 'FILTERED',
  /** The role's top-level quota limit leaves too little on agents that have enough. */
  QUOTA_LIMIT_REACHED: 'QUOTA_LIMIT_REACHED',
  /** Unreserved resources on agents that have enough are held back for other roles' unmet quota guarantees. */
  HELD_FOR_QUOTA_HEADROOM: 'HELD_FOR_QUOTA_HEADROOM',
} as const;
/** A reason a framework is not offered resources. */
export type NotOfferedReason = (typeof NotOfferedReason)[keyof typeof NotOfferedReason];

/** What one active agent would do for the framework and role, checked in this order. */
export const AgentVerdict = {
  /** Too little free there that the role may use. */
  NOT_ENOUGH: 'NOT_ENOUGH',
  /** Enough, but the quota limit cuts it below what is needed. */
  QUOTA_LIMIT: 'QUOTA_LIMIT',
  /** Enough within the limit, but headroom for others' guarantees cuts it below what is needed. */
  HEADROOM: 'HEADROOM',
  /** Would be offered, but the framework's refusal filter covers it. */
  FILTERED: 'FILTERED',
  /** Would be offered in the next run, unless frameworks with a lower share take it first. */
  OFFERABLE: 'OFFERABLE',
} as const;
/** A per-agent verdict. */
export type AgentVerdict = (typeof AgentVerdict)[keyof typeof AgentVerdict];

/** The answer for one framework and role. */
export interface Explanation {
  readonly frameworkId: string;
  readonly role: string;
  /** True when the next run may offer this framework something for this role. */
  readonly offerable: boolean;
  /** Why not, most fundamental first; empty when offerable. */
  readonly reasons: NotOfferedReason[];
  /** How many active agents got each verdict. */
  readonly agents: Record<AgentVerdict, number>;
  /** What the framework already has in outstanding offers for this role, in units. */
  readonly offered: Record<string, number>;
}

/** Explains for one role of a framework; `request` is what a task needs (default: the minimum offer). */
export function explainRole(ctx: RunContext, framework: FrameworkState, role: string, request: Resources | undefined, now: number): Explanation {
  const reasons: NotOfferedReason[] = [];
  if (!framework.active) reasons.push(NotOfferedReason.FRAMEWORK_INACTIVE);
  if (!framework.roles.includes(role)) reasons.push(NotOfferedReason.ROLE_NOT_SUBSCRIBED);
  if (framework.suppressed.has(role)) reasons.push(NotOfferedReason.ROLE_SUPPRESSED);
  const agents: Record<AgentVerdict, number> = { NOT_ENOUGH: 0, QUOTA_LIMIT: 0, HEADROOM: 0, FILTERED: 0, OFFERABLE: 0 };
  const quota = ctx.quotas.size === 0 ? undefined : new QuotaRun(ctx.books, ctx.quotas);
  const fits = (x: Resources): boolean => (request === undefined ? meetsAnyMinimum(x, ctx.minAllocatable) : covers(x, request));
  let active = 0;
  for (const agent of ctx.books.agents.values()) {
    if (!agent.active) continue;
    active += 1;
    agents[verdictOn(ctx, quota, framework.id, agent, role, fits, now)] += 1;
  }
  if (active === 0) reasons.push(NotOfferedReason.NO_ACTIVE_AGENTS);
  else if (agents.OFFERABLE === 0) {
    if (agents.NOT_ENOUGH === active) reasons.push(NotOfferedReason.NO_AGENT_WITH_ENOUGH);
    if (agents.QUOTA_LIMIT > 0) reasons.push(NotOfferedReason.QUOTA_LIMIT_REACHED);
    if (agents.HEADROOM > 0) reasons.push(NotOfferedReason.HELD_FOR_QUOTA_HEADROOM);
    if (agents.FILTERED > 0) reasons.push(NotOfferedReason.FILTERED);
  }
  const offered = ctx.books.roles.get(role) === undefined ? {} : offeredTo(framework, role);
  return { frameworkId: framework.id, role, offerable: reasons.length === 0, reasons, agents, offered };
}

function verdictOn(
  ctx: RunContext,
  quota: QuotaRun | undefined,
  frameworkId: string,
  agent: AgentState,
  role: string,
  fits: (x: Resources) => boolean,
  now: number,
): AgentVerdict {
  const raw = agent.available.allocatableBy(role);
  if (!fits(raw)) return AgentVerdict.NOT_ENOUGH;
  let offer = raw;
  if (quota !== undefined) {
    const room = quota.limitRoom(topLevel(role));
    if (room !== undefined) {
      const unreserved = raw.unreserved().scalars();
      if (!fits(raw.subtract(unreserved).add(shrinkScalars(unreserved, room, true)))) return AgentVerdict.QUOTA_LIMIT;
    }
    // The run's own view: stage 1 if the role's guarantee is unmet, else stage 2.
    const stage = quota.unsatisfied(topLevel(role)).size > 0 ? 1 : 2;
    offer = offerFor(ctx, quota, agent, role, stage) ?? offerFor(ctx, quota, agent, role, 2) ?? Resources.empty();
    if (!fits(offer)) return AgentVerdict.HEADROOM;
  }
  return ctx.filters.filters(frameworkId, agent.id, offer, now) ? AgentVerdict.FILTERED : AgentVerdict.OFFERABLE;
}

/** True when `x` has at least the scalar quantities and range counts of `need`. */
function covers(x: Resources, need: Resources): boolean {
  const have = x.scalarMilli();
  for (const [name, milli] of need.scalarMilli()) if ((have.get(name) ?? 0) < milli) return false;
  for (const entry of need.entries()) {
    if (entry.kind === 'ranges' && x.rangeCount(entry.name) < need.rangeCount(entry.name)) return false;
  }
  return true;
}

function offeredTo(framework: FrameworkState, role: string): Record<string, number> {
  const sum = new Map<string, number>();
  for (const list of framework.holdings.values()) {
    for (const h of list) {
      if (h.role !== role) continue;
      for (const [name, milli] of h.offered.scalarMilli()) sum.set(name, (sum.get(name) ?? 0) + milli);
    }
  }
  return toUnits(sum);
}
