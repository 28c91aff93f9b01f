// The allocator's pure core, after Mesos's hierarchical allocator: agents, frameworks with one
// or more roles (MULTI_ROLE), hierarchical roles with weights and quota, static and dynamic
// reservations, persistent volumes, refusal filters and SUPPRESS/REVIVE per role. `allocate`
// returns who is offered what as data. It never reads the clock, never draws random numbers of
// its own, and never does I/O: `now` and `rng` come from the caller.
//
// Calls are grouped as Mesos's allocator interface: agents, frameworks, resources coming back,
// flow control, roles (weights, quota), operations, the run itself, and what it shows.
import { Resources } from '../../protocol/resources.js';
import type { Rng } from '../runtime/rng.js';
import { runAllocation, type RunContext } from './allocation.js';
import { Books } from './books.js';
import { DrfSorter } from './drf-sorter.js';
import { DuplicateIdError, InsufficientResourcesError } from './errors.js';
import { explainRole, type Explanation } from './explain.js';
import { OfferFilters } from './filters.js';
import { intersect } from './quantities.js';
import { validateQuota, type Quota, type QuotaMilli } from './quota.js';
import { checkNewVolumes, checkWithinLimits, conversionOf, type ResourceOperation } from './operations.js';
import { DEFAULT_ROLE, isWithin, validateRole } from './roles.js';
import type { SorterFactory } from './sorter.js';
import { PENDING_ROLE, type FrameworkState, type OfferDecision } from './state.js';
import { dominantShare, frameworkView, roleViews, type FrameworkView, type RoleView } from './views.js';

export type { OfferDecision } from './state.js';

/** How a framework is registered with the allocator. */
export interface FrameworkOptions {
  /** Roles it may be offered resources for (MULTI_ROLE: several); default `['*']`. */
  roles: string[];
  /** Starts suppressed: `true` for all its roles, or the roles to suppress. Default none. */
  suppressed?: boolean | string[];
  /** Starts active (connected). Default true; a master recovering from failover may pass false. */
  active?: boolean;
}

/** Options of `AllocatorCore`. */
export interface AllocatorCoreOptions {
  /** Makes the flat sorters (one per role, one per level of the role tree); default DRF. */
  sorterFactory?: SorterFactory;
  /** An offer must hold at least one of these in full; default `DEFAULT_MIN_ALLOCATABLE`. */
  minAllocatable?: readonly Resources[];
  /** Offers outstanding this long are reported by `expiredOffers`; default never. */
  offerTimeoutMs?: number;
}

/** An outstanding offer older than the offer timeout: the master should rescind it. */
export interface ExpiredOffer {
  readonly frameworkId: string;
  readonly agentId: string;
  readonly role: string;
  /** What is still outstanding (offered, not accepted nor returned). */
  readonly resources: Resources;
  /** When it was offered (ms). */
  readonly offeredAt: number;
}

/** Mesos's default minimum offer: `cpus:0.01` or `mem:32`. */
export const DEFAULT_MIN_ALLOCATABLE: readonly Resources[] = [Resources.fromScalars({ cpus: 0.01 }), Resources.fromScalars({ mem: 32 })];

/** Mesos's default `refuse_seconds` of DECLINE and ACCEPT: what the master passes when the call gives none. */
export const DEFAULT_REFUSE_SECONDS = 5;

/** The longest a refusal filter lasts (Mesos caps `refuse_seconds` at one year). */
export const MAX_REFUSE_MS = 365 * 24 * 60 * 60 * 1000;

/** The pure allocator: operations change state, `allocate` returns offers as data. */
export class AllocatorCore {
  private readonly books: Books;
  private readonly filters = new OfferFilters();
  private readonly quotas = new Map<string, QuotaMilli>();
  private readonly minAllocatable: readonly Resources[];
  private readonly offerTimeoutMs: number | undefined;
  private runs = 0;

  constructor(options: AllocatorCoreOptions = {}) {
    this.books = new Books(options.sorterFactory ?? (() => new DrfSorter()));
    this.minAllocatable = options.minAllocatable ?? DEFAULT_MIN_ALLOCATABLE;
    this.offerTimeoutMs = options.offerTimeoutMs;
  }

  // ---- agents -------------------------------------------------------------------------------

  /**
   * Adds an active agent with `total` resources (static reservations included), of which
   * `used` are already held by frameworks (tasks found on a reregistering agent). Use by
   * frameworks not yet added is kept aside and given a role when they are added.
   */
  addAgent(agentId: string, total: Resources, used: ReadonlyMap<string, Resources> = new Map(), now = 0): void {
    if (this.books.agents.has(agentId)) throw new DuplicateIdError('agent', agentId);
    const agent = this.books.addAgent(agentId, total);
    for (const [frameworkId, resources] of used) {
      // Never let reported use exceed what the agent has.
      this.books.holdInUse(agent, frameworkId, intersect(resources, agent.available), now);
    }
  }

  /** Removes an agent: its total leaves the cluster and frameworks stop holding anything on it. */
  removeAgent(agentId: string): void {
    this.books.removeAgent(this.books.agent(agentId));
    this.filters.clearAgent(agentId);
  }

  /** Lets an agent be offered again. */
  activateAgent(agentId: string): void {
    this.books.agent(agentId).active = true;
  }

  /** Stops offering an agent's resources; what is held there stays held. */
  deactivateAgent(agentId: string): void {
    this.books.agent(agentId).active = false;
  }

  // ---- frameworks ---------------------------------------------------------------------------

  /**
   * Adds a framework in its roles. `used` is what it already holds per agent (tasks found
   * after a failover); agents that already reported it keep their own account.
   */
  addFramework(frameworkId: string, options: FrameworkOptions, used: ReadonlyMap<string, Resources> = new Map(), now = 0): void {
    if (this.books.frameworks.has(frameworkId)) throw new DuplicateIdError('framework', frameworkId);
    const roles = options.roles.length === 0 ? [DEFAULT_ROLE] : [...new Set(options.roles)];
    roles.forEach(validateRole);
    const suppressed = options.suppressed === true ? roles : Array.isArray(options.suppressed) ? options.suppressed.filter((r) => roles.includes(r)) : [];
    const framework: FrameworkState = { id: frameworkId, roles, active: options.active ?? true, suppressed: new Set(suppressed), holdings: new Map(), heldMilli: new Map() };
    this.books.frameworks.set(frameworkId, framework);
    for (const role of roles) this.books.joinRole(framework, role);
    // Use reported before the framework was known: give it its roles now.
    for (const agentId of [...(this.books.pending.get(frameworkId) ?? [])]) {
      const agent = this.books.agent(agentId);
      const list = agent.holdings.get(frameworkId) ?? [];
      framework.holdings.set(agentId, list);
      for (const h of list.filter((x) => x.role === PENDING_ROLE)) this.books.holdInUse(agent, frameworkId, this.books.release(h, h.held), now);
    }
    for (const [agentId, resources] of used) {
      const agent = this.books.agents.get(agentId);
      // Unknown agents bring their account when they are added; known ones already have it.
      if (agent === undefined || agent.holdings.has(frameworkId)) continue;
      this.books.holdInUse(agent, frameworkId, intersect(resources, agent.available), now);
    }
  }

  /** Changes a framework's roles (MULTI_ROLE) and, if given, which of them are suppressed. */
  updateFramework(frameworkId: string, options: { roles?: string[]; suppressed?: string[] }): void {
    const framework = this.books.framework(frameworkId);
    if (options.roles !== undefined) {
      const next = options.roles.length === 0 ? [DEFAULT_ROLE] : [...new Set(options.roles)];
      next.forEach(validateRole);
      const before = framework.roles;
      framework.roles = next;
      for (const role of before.filter((r) => !next.includes(r))) {
        framework.suppressed.delete(role);
        this.books.leaveRole(framework, role);
      }
      for (const role of next.filter((r) => !before.includes(r))) this.books.joinRole(framework, role);
    }
    if (options.suppressed !== undefined) {
      framework.suppressed.clear();
      for (const role of options.suppressed) if (framework.roles.includes(role)) framework.suppressed.add(role);
      for (const role of framework.roles) this.books.refreshActivity(framework, role);
    }
  }

  /** Removes a framework: everything it holds goes back to the pool and its filters go. */
  removeFramework(frameworkId: string): void {
    const framework = this.books.framework(frameworkId);
    for (const h of this.books.holdingsOf(framework)) this.books.release(h, h.held);
    for (const role of framework.roles) this.books.leaveRole(framework, role);
    this.filters.clearFramework(frameworkId);
    this.books.frameworks.delete(frameworkId);
  }

  /** Makes a framework eligible for offers again (reconnected). */
  activateFramework(frameworkId: string): void {
    this.setActive(this.books.framework(frameworkId), true);
  }

  /** Stops offering to a framework (disconnected); what it holds stays held. */
  deactivateFramework(frameworkId: string): void {
    this.setActive(this.books.framework(frameworkId), false);
  }

  // ---- resources coming back ----------------------------------------------------------------

  /**
   * Returns `resources` that `frameworkId` held on `agentId` to the pool (offer declined or
   * rescinded, unused part of an accept, task ended), from `role`'s holding or, without a
   * role, from whichever of its roles holds them. Only what was held comes back. When
   * `refuseSeconds` > 0 the framework is not offered them on that agent until
   * `now + refuseSeconds` (at most one year). As Mesos, recovering on a removed agent is a
   * no-op (removal already returned everything), and so is the filter for a removed framework.
   */
  recoverResources(frameworkId: string, agentId: string, resources: Resources, refuseSeconds: number | undefined, now: number, role?: string): void {
    const agent = this.books.agents.get(agentId);
    if (agent === undefined) return;
    let left = resources;
    for (const h of [...(agent.holdings.get(frameworkId) ?? [])]) {
      if (left.isEmpty()) break;
      if (role !== undefined && h.role !== role) continue;
      left = left.subtract(this.books.release(h, left));
    }
    if (!this.books.frameworks.has(frameworkId)) return;
    if (refuseSeconds !== undefined && refuseSeconds > 0 && !resources.isEmpty()) {
      this.filters.add(frameworkId, agentId, resources, now + Math.min(refuseSeconds * 1000, MAX_REFUSE_MS));
    }
  }

  /**
   * Tells the allocator that offered `resources` were accepted (tasks launched on them): they
   * stay held but are no longer outstanding offers (for the offered tallies and offer timeouts).
   */
  offerAccepted(frameworkId: string, agentId: string, resources: Resources, role?: string): void {
    for (const h of this.books.agents.get(agentId)?.holdings.get(frameworkId) ?? []) {
      if (role === undefined || h.role === role) this.books.markUsed(h, resources);
    }
  }

  // ---- flow control -------------------------------------------------------------------------

  /** Stops offering to a framework for `roles` (default: all its roles) until `revive`. */
  suppress(frameworkId: string, roles?: string[]): void {
    const framework = this.books.framework(frameworkId);
    for (const role of roles ?? framework.roles) {
      if (!framework.roles.includes(role)) continue;
      framework.suppressed.add(role);
      this.books.refreshActivity(framework, role);
    }
  }

  /** Resumes offers to a framework for `roles` (default: all) and drops all its refusal filters. */
  revive(frameworkId: string, roles?: string[]): void {
    const framework = this.books.framework(frameworkId);
    for (const role of roles ?? framework.roles) {
      framework.suppressed.delete(role);
      this.books.refreshActivity(framework, role);
    }
    this.filters.clearFramework(frameworkId);
  }

  // ---- roles: weights and quota -------------------------------------------------------------

  /** Sets a role's weight (> 0; 1 is the default): its share is divided by it among its siblings. */
  setWeight(role: string, weight: number): void {
    validateRole(role);
    this.books.setWeight(role, weight);
  }

  /** Sets (replaces) the quota of a top-level role; throws `InvalidQuotaError`. */
  setQuota(role: string, quota: Quota): void {
    this.quotas.set(role, validateQuota(role, quota));
  }

  /** Removes a role's quota (no guarantees, no limits). */
  removeQuota(role: string): void {
    this.quotas.delete(role);
  }

  // ---- operations ---------------------------------------------------------------------------

  /**
   * Applies RESERVE, UNRESERVE, CREATE or DESTROY on an agent: to resources the framework
   * holds there (for `role`, or any of its roles) when `frameworkId` is given, else to free
   * resources (an operator's call). Throws `InvalidOperationError`, `InsufficientResourcesError`
   * or `QuotaExceededError`; nothing changes then.
   */
  applyOperation(agentId: string, op: ResourceOperation, by: { frameworkId?: string; role?: string } = {}): void {
    const agent = this.books.agent(agentId);
    const { from, to } = conversionOf(op);
    to.roles().forEach(validateRole);
    if (op.type === 'CREATE') checkNewVolumes(agent, to);
    if (by.frameworkId !== undefined) {
      this.books.framework(by.frameworkId);
      const h = (agent.holdings.get(by.frameworkId) ?? []).find(
        (x) => (by.role === undefined || x.role === by.role) && x.held.contains(from) && to.roles().every((r) => r === DEFAULT_ROLE || isWithin(x.role, r)),
      );
      if (h === undefined) throw new InsufficientResourcesError(agentId, from.toString());
      this.books.convertHeld(h, from, to);
    } else {
      if (!agent.available.contains(from)) throw new InsufficientResourcesError(agentId, from.toString());
      if (op.type === 'RESERVE') checkWithinLimits(this.books, this.quotas, to);
      agent.available = agent.available.subtract(from).add(to);
    }
    this.books.retotal(agent, agent.total.subtract(from).add(to));
  }

  // ---- the run ------------------------------------------------------------------------------

  /**
   * One allocation run (see allocation.ts): agents in an order shuffled by `rng`, quota
   * guarantees first, then everyone in sorter order. Returns the offers as data. With
   * `candidates`, only those agents are visited (unknown ids are skipped).
   */
  allocate(now: number, rng: Rng, candidates?: ReadonlySet<string>): OfferDecision[] {
    this.runs += 1;
    return runAllocation(this.context(), this.runs, now, rng, candidates);
  }

  /** Outstanding offers older than the offer timeout, each reported once (none without a timeout). */
  expiredOffers(now: number): ExpiredOffer[] {
    const timeout = this.offerTimeoutMs;
    if (timeout === undefined) return [];
    const out: ExpiredOffer[] = [];
    for (const h of this.books.offeredHoldings) {
      if (h.timeoutReported || now - h.offeredAt < timeout) continue;
      h.timeoutReported = true;
      out.push({ frameworkId: h.frameworkId, agentId: h.agentId, role: h.role, resources: h.offered, offeredAt: h.offeredAt });
    }
    return out.sort((a, b) => a.offeredAt - b.offeredAt || compare(a.frameworkId, b.frameworkId) || compare(a.agentId, b.agentId));
  }

  // ---- what it shows ------------------------------------------------------------------------

  /** A framework's dominant share of the cluster over all its roles. */
  frameworkShare(frameworkId: string): number {
    return dominantShare(this.books, this.books.framework(frameworkId).heldMilli);
  }

  /** What a framework holds over all agents and roles (offered or in use). */
  allocationOf(frameworkId: string): Resources {
    return sum(this.books.holdingsOf(this.books.framework(frameworkId)).map((h) => h.held));
  }

  /** An agent's free resources: total minus what frameworks hold there. */
  available(agentId: string): Resources {
    return this.books.agent(agentId).available;
  }

  /** What each framework holds on an agent, over its roles (a copy). */
  allocatedOn(agentId: string): Map<string, Resources> {
    const out = new Map<string, Resources>();
    for (const [frameworkId, list] of this.books.agent(agentId).holdings) out.set(frameworkId, sum(list.map((h) => h.held)));
    return out;
  }

  /** What a framework holds on an agent for each role (a copy). */
  holdingsOn(agentId: string, frameworkId: string): Map<string, Resources> {
    return new Map((this.books.agent(agentId).holdings.get(frameworkId) ?? []).map((h) => [h.role, h.held]));
  }

  /** An agent's total, reservations and volumes included. */
  totalOf(agentId: string): Resources {
    return this.books.agent(agentId).total;
  }

  /** Ids of every agent, active or not, in insertion order. */
  agentIds(): string[] {
    return [...this.books.agents.keys()];
  }

  /** Ids of every framework, active or not, in insertion order. */
  frameworkIds(): string[] {
    return [...this.books.frameworks.keys()];
  }

  /** Number of refusal filters held (for the master's metrics). */
  filterCount(): number {
    return this.filters.count();
  }

  /** Every known role's weight, quota, consumption, allocated, offered, reserved and share. */
  roles(): RoleView[] {
    return roleViews(this.books, this.quotas);
  }

  /** A framework's roles, suppression and shares. */
  framework(frameworkId: string): FrameworkView {
    return frameworkView(this.books, this.books.framework(frameworkId));
  }

  /**
   * Why a framework is (not) offered resources, per role (`role` only, if given), judged as
   * the next run at `now` would; `request` is what a task needs (default: the minimum offer).
   */
  explain(frameworkId: string, now: number, options: { role?: string; request?: Resources } = {}): Explanation[] {
    const framework = this.books.framework(frameworkId);
    const roles = options.role === undefined ? framework.roles : [options.role];
    return roles.map((role) => explainRole(this.context(), framework, role, options.request, now));
  }

  // ---- internals ----------------------------------------------------------------------------

  private context(): RunContext {
    return { books: this.books, filters: this.filters, quotas: this.quotas, minAllocatable: this.minAllocatable };
  }

  private setActive(framework: FrameworkState, active: boolean): void {
    framework.active = active;
    for (const role of this.books.roles.values()) if (role.clients.has(framework.id)) this.books.refreshActivity(framework, role.name);
  }
}

function sum(bags: readonly Resources[]): Resources {
  let total = Resources.empty();
  for (const bag of bags) total = total.add(bag);
  return total;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
