// The allocator's books: agents, frameworks, roles and holdings, and the one place where a
// holding changes, so that an agent's free resources, both levels of sorters (roles, then
// frameworks within a role) and the per-role tallies (allocated, offered, reserved) always
// move together. Pure bookkeeping: no fairness decisions are made here.
import { Resources } from '../../protocol/resources.js';
import { UnknownAgentError, UnknownFrameworkError } from './errors.js';
import { HierarchicalSorter } from './hierarchical-sorter.js';
import { addInto, intersect, subtractFrom, type Quantities } from './quantities.js';
import { isWithin } from './roles.js';
import type { SorterFactory } from './sorter.js';
import { PENDING_ROLE, type AgentState, type FrameworkState, type Holding, type RoleState } from './state.js';

/** Orders agents by id (code-unit order). */
export function byAgentId(a: AgentState, b: AgentState): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Everything the allocator knows, kept consistent by its methods. */
export class Books {
  /** Agents by id. */
  readonly agents = new Map<string, AgentState>();
  /** Every agent in id order, kept until an agent comes or goes (sorting 40,000 ids on every run was most of a run). */
  private agentOrder: AgentState[] | undefined;
  /** Frameworks by id. */
  readonly frameworks = new Map<string, FrameworkState>();
  /** Roles that have frameworks, by name. */
  readonly roles = new Map<string, RoleState>();
  /** Orders roles (hierarchically); a role is a client while it has frameworks. */
  readonly roleSorter: HierarchicalSorter;
  /** Weights set by the operator, by role (kept when the role has no frameworks). */
  readonly weights = new Map<string, number>();
  /** Reserved scalar quantities on all agents, by the exact role reserved to. */
  readonly reserved = new Map<string, Quantities>();
  /** Scalar quantities of every agent's total. */
  readonly clusterMilli: Quantities = new Map();
  /** Holdings with an outstanding offered part (for offer timeouts). */
  readonly offeredHoldings = new Set<Holding>();
  /** Agents holding use of frameworks not known yet, by framework id. */
  readonly pending = new Map<string, Set<string>>();
  private clusterVersion = 0;
  private clusterTotal: { version: number; total: Resources } = { version: 0, total: Resources.empty() };
  private readonly roleTotals = new Map<string, { version: number; total: Resources }>();

  constructor(
    /** Makes the flat sorters (role tree levels, roles' framework sorters). */
    readonly makeSorter: SorterFactory,
  ) {
    this.roleSorter = new HierarchicalSorter(makeSorter);
  }

  // ---- lookups ------------------------------------------------------------------------------

  /** The agent, or `UnknownAgentError`. */
  agent(agentId: string): AgentState {
    const agent = this.agents.get(agentId);
    if (agent === undefined) throw new UnknownAgentError(agentId);
    return agent;
  }

  /** The framework, or `UnknownFrameworkError`. */
  framework(frameworkId: string): FrameworkState {
    const framework = this.frameworks.get(frameworkId);
    if (framework === undefined) throw new UnknownFrameworkError(frameworkId);
    return framework;
  }

  /** The role's framework sorter, its cluster total brought up to date first. */
  frameworkSorter(role: RoleState): RoleState['sorter'] {
    const seen = this.roleTotals.get(role.name);
    if (seen?.version !== this.clusterVersion) {
      const total = this.clusterTotalResources();
      if (seen !== undefined) role.sorter.removeTotal('', seen.total);
      role.sorter.addTotal('', total);
      this.roleTotals.set(role.name, { version: this.clusterVersion, total });
    }
    return role.sorter;
  }

  // ---- agents -------------------------------------------------------------------------------

  /** Adds an agent with nothing held yet. */
  addAgent(agentId: string, total: Resources): AgentState {
    const agent: AgentState = { id: agentId, total, available: total, active: true, holdings: new Map() };
    this.agents.set(agentId, agent);
    this.agentOrder = undefined;
    this.addTotal(agentId, total);
    return agent;
  }

  /** Every agent, in id order (code-unit order of the ids). */
  agentsInIdOrder(): readonly AgentState[] {
    this.agentOrder ??= [...this.agents.values()].sort(byAgentId);
    return this.agentOrder;
  }

  /** Removes an agent: every holding on it is released and its total leaves the cluster. */
  removeAgent(agent: AgentState): void {
    for (const list of [...agent.holdings.values()]) for (const h of [...list]) this.release(h, h.held);
    this.removeTotal(agent.id, agent.total);
    this.agents.delete(agent.id);
    this.agentOrder = undefined;
  }

  /** Replaces an agent's total by `next` (an operation converted some of it), same quantities. */
  retotal(agent: AgentState, next: Resources): void {
    this.unreserve(agent.total);
    agent.total = next;
    this.reserve(next);
  }

  // ---- frameworks and roles -----------------------------------------------------------------

  /** Subscribes a framework to a role, creating the role if needed. */
  joinRole(framework: FrameworkState, roleName: string): void {
    const role = this.ensureRole(roleName);
    role.subscribed.add(framework.id);
    if (role.subscribed.size === 1) this.roleSorter.activate(roleName);
    this.ensureClient(role, framework.id);
    this.refreshActivity(framework, roleName);
  }

  /** Unsubscribes a framework from a role; it stays a client there while it holds resources in it. */
  leaveRole(framework: FrameworkState, roleName: string): void {
    const role = this.roles.get(roleName);
    if (role === undefined) return;
    role.subscribed.delete(framework.id);
    if (role.subscribed.size === 0) this.roleSorter.deactivate(roleName);
    this.refreshActivity(framework, roleName);
    this.dropClientIfIdle(role, framework.id);
  }

  /** Makes the framework's entry in the role's sorter active exactly when it may be offered. */
  refreshActivity(framework: FrameworkState, roleName: string): void {
    const role = this.roles.get(roleName);
    if (role === undefined || !role.clients.has(framework.id)) return;
    const eligible = framework.active && role.subscribed.has(framework.id) && !framework.suppressed.has(roleName);
    if (eligible) role.sorter.activate(framework.id);
    else role.sorter.deactivate(framework.id);
  }

  /** Sets a role's weight (kept for roles with no frameworks yet); throws `InvalidWeightError`. */
  setWeight(roleName: string, weight: number): void {
    this.roleSorter.setPathWeight(roleName, weight);
    if (weight === 1) this.weights.delete(roleName);
    else this.weights.set(roleName, weight);
  }

  // ---- holdings -----------------------------------------------------------------------------

  /**
   * Adds `resources` (free on the agent) to what `frameworkId` holds there for `role`; as
   * offered unless `inUse`. `role` may be `PENDING_ROLE` for a framework not yet added.
   */
  hold(agent: AgentState, frameworkId: string, role: string, resources: Resources, now: number, inUse = false): Holding {
    let list = agent.holdings.get(frameworkId);
    let h = list?.find((x) => x.role === role);
    if (h === undefined) {
      h = { frameworkId, role, agentId: agent.id, held: Resources.empty(), offered: Resources.empty(), offeredAt: now, timeoutReported: false, run: -1, decision: -1 };
      if (list === undefined) {
        list = [h];
        agent.holdings.set(frameworkId, list);
        this.frameworks.get(frameworkId)?.holdings.set(agent.id, list);
      } else list.push(h);
    }
    if (role === PENDING_ROLE) {
      const agents = this.pending.get(frameworkId) ?? new Set<string>();
      agents.add(agent.id);
      this.pending.set(frameworkId, agents);
    }
    h.held = h.held.add(resources);
    agent.available = agent.available.subtract(resources);
    if (!inUse) this.markOffered(h, resources, now);
    this.account(h, resources, +1);
    return h;
  }

  /**
   * Returns up to `resources` of a holding to the agent's free pool; returns what came back.
   * An emptied holding is dropped.
   */
  release(h: Holding, resources: Resources): Resources {
    const back = intersect(h.held, resources);
    if (back.isEmpty()) return back;
    const agent = this.agent(h.agentId);
    h.held = h.held.subtract(back);
    if (!h.offered.isEmpty()) this.unmarkOffered(h, intersect(h.offered, back));
    agent.available = agent.available.add(back);
    this.account(h, back, -1);
    if (h.held.isEmpty()) this.drop(agent, h);
    return back;
  }

  /**
   * Records `resources` (free on the agent) as in use by a framework, split by role: reserved
   * parts to the framework's role within their reservation (or the reservation role itself),
   * the rest to its first role; pending if the framework is not known yet.
   */
  holdInUse(agent: AgentState, frameworkId: string, resources: Resources, now: number): void {
    if (resources.isEmpty()) return;
    const framework = this.frameworks.get(frameworkId);
    if (framework === undefined) {
      this.hold(agent, frameworkId, PENDING_ROLE, resources, now, true);
      return;
    }
    const first = framework.roles[0] ?? '*';
    for (const reservation of resources.roles()) {
      const part = resources.forRole(reservation);
      const role = reservation === '*' ? first : (framework.roles.find((r) => isWithin(r, reservation)) ?? reservation);
      this.hold(agent, frameworkId, role, part, now, true);
    }
  }

  /** Moves `resources` of a holding from offered to in use (the framework accepted them). */
  markUsed(h: Holding, resources: Resources): void {
    const used = intersect(h.offered, resources);
    if (!used.isEmpty()) this.unmarkOffered(h, used);
  }

  /**
   * Replaces `from` by `to` inside a holding (RESERVE, UNRESERVE, CREATE, DESTROY on offered
   * resources): same quantities, other reservation or volume. The caller checked `from` is held.
   */
  convertHeld(h: Holding, from: Resources, to: Resources): void {
    const wasOffered = intersect(h.offered, from);
    this.account(h, from, -1, false);
    h.held = h.held.subtract(from).add(to);
    // Converted offered resources stay offered (same quantities, so the role's tally holds);
    // a conversion that also touches resources in use leaves the result in use.
    if (wasOffered.equals(from)) h.offered = h.offered.subtract(from).add(to);
    else if (!wasOffered.isEmpty()) this.unmarkOffered(h, wasOffered);
    this.account(h, to, +1, false);
  }

  /** Every holding of a framework, over agents and roles. */
  holdingsOf(framework: FrameworkState): Holding[] {
    return [...framework.holdings.values()].flat();
  }

  /** True when the framework holds anything for `roleName`. */
  holdsIn(framework: FrameworkState, roleName: string): boolean {
    for (const list of framework.holdings.values()) if (list.some((h) => h.role === roleName)) return true;
    return false;
  }

  /** The cluster's scalar totals as unreserved Resources (for the framework sorters' totals). */
  clusterTotalResources(): Resources {
    if (this.clusterTotal.version !== this.clusterVersion) {
      const units = Object.fromEntries([...this.clusterMilli].map(([name, milli]) => [name, milli / 1000]));
      this.clusterTotal = { version: this.clusterVersion, total: Resources.fromScalars(units) };
    }
    return this.clusterTotal.total;
  }

  // ---- internals ----------------------------------------------------------------------------

  private ensureRole(name: string): RoleState {
    let role = this.roles.get(name);
    if (role !== undefined) return role;
    role = {
      name,
      sorter: this.makeSorter(),
      subscribed: new Set(),
      clients: new Set(),
      allocated: new Map(),
      allocatedReserved: new Map(),
      offered: new Map(),
      blocked: false,
    };
    this.roles.set(name, role);
    this.roleSorter.add(name);
    return role;
  }

  private ensureClient(role: RoleState, frameworkId: string): void {
    if (role.clients.has(frameworkId)) return;
    role.clients.add(frameworkId);
    role.sorter.add(frameworkId);
  }

  /** Removes a framework from a role's sorter once it neither subscribes nor holds there; drops an empty role. */
  private dropClientIfIdle(role: RoleState, frameworkId: string): void {
    const framework = this.frameworks.get(frameworkId);
    if (role.subscribed.has(frameworkId) || (framework !== undefined && this.holdsIn(framework, role.name))) return;
    if (role.clients.delete(frameworkId)) role.sorter.remove(frameworkId);
    if (role.clients.size === 0) {
      this.roles.delete(role.name);
      this.roleTotals.delete(role.name);
      this.roleSorter.remove(role.name);
    }
  }

  private drop(agent: AgentState, h: Holding): void {
    const list = agent.holdings.get(h.frameworkId);
    if (list === undefined) return;
    list.splice(list.indexOf(h), 1);
    this.offeredHoldings.delete(h);
    if (h.role === PENDING_ROLE) {
      const agents = this.pending.get(h.frameworkId);
      agents?.delete(agent.id);
      if (agents?.size === 0) this.pending.delete(h.frameworkId);
    }
    if (list.length === 0) {
      agent.holdings.delete(h.frameworkId);
      this.frameworks.get(h.frameworkId)?.holdings.delete(agent.id);
    }
    const role = this.roles.get(h.role);
    if (role !== undefined) this.dropClientIfIdle(role, h.frameworkId);
  }

  private markOffered(h: Holding, resources: Resources, now: number): void {
    if (h.offered.isEmpty()) {
      h.offeredAt = now;
      h.timeoutReported = false;
      this.offeredHoldings.add(h);
    }
    h.offered = h.offered.add(resources);
    const role = this.roles.get(h.role);
    if (role !== undefined) addInto(role.offered, resources);
  }

  private unmarkOffered(h: Holding, resources: Resources): void {
    h.offered = h.offered.subtract(resources);
    if (h.offered.isEmpty()) this.offeredHoldings.delete(h);
    const role = this.roles.get(h.role);
    if (role !== undefined) subtractFrom(role.offered, resources);
  }

  /** Tells sorters and tallies that a holding grew (+1) or shrank (−1) by `resources`. */
  private account(h: Holding, resources: Resources, sign: 1 | -1, sorters = true): void {
    if (h.role === PENDING_ROLE) return;
    const framework = this.frameworks.get(h.frameworkId);
    if (framework === undefined) return;
    // A holding in a role nobody subscribes to yet (reserved resources a reregistering agent
    // reports for a framework outside their role) creates the role, so that what is added
    // here is also what is taken away later, once someone else has created the role.
    const role = sign > 0 ? this.ensureRole(h.role) : this.roles.get(h.role);
    if (role === undefined) return;
    const reserved = resources.reserved();
    if (sign > 0) {
      this.ensureClient(role, h.frameworkId);
      if (sorters) {
        role.sorter.allocated(h.frameworkId, h.agentId, resources);
        this.roleSorter.allocated(h.role, h.agentId, resources);
      }
      addInto(role.allocated, resources);
      addInto(framework.heldMilli, resources);
      if (!reserved.isEmpty()) addInto(role.allocatedReserved, reserved);
    } else {
      if (sorters) {
        role.sorter.unallocated(h.frameworkId, h.agentId, resources);
        this.roleSorter.unallocated(h.role, h.agentId, resources);
      }
      subtractFrom(role.allocated, resources);
      subtractFrom(framework.heldMilli, resources);
      if (!reserved.isEmpty()) subtractFrom(role.allocatedReserved, reserved);
    }
  }

  private addTotal(agentId: string, total: Resources): void {
    addInto(this.clusterMilli, total);
    this.clusterVersion += 1;
    this.roleSorter.addTotal(agentId, total);
    this.reserve(total);
  }

  private removeTotal(agentId: string, total: Resources): void {
    subtractFrom(this.clusterMilli, total);
    this.clusterVersion += 1;
    this.roleSorter.removeTotal(agentId, total);
    this.unreserve(total);
  }

  /** Counts the reserved part of `resources` in `reserved`, by exact role. */
  private reserve(resources: Resources): void {
    for (const role of resources.reserved().roles()) {
      const q = this.reserved.get(role) ?? new Map<string, number>();
      addInto(q, resources.forRole(role));
      this.reserved.set(role, q);
    }
  }

  private unreserve(resources: Resources): void {
    for (const role of resources.reserved().roles()) {
      const q = this.reserved.get(role);
      if (q === undefined) continue;
      subtractFrom(q, resources.forRole(role));
      if (q.size === 0) this.reserved.delete(role);
    }
  }
}
