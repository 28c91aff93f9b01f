// The allocator's pure core, after Mesos's hierarchical allocator with a single role: it
// holds agents, frameworks, what each framework holds on each agent, and offer filters, and
// `allocate` returns who is offered what as data. It never reads the clock, never draws
// random numbers of its own, and never does I/O: `now` and `rng` come from the caller.
//
// Seams for the next issue (hierarchical roles, quota, reservations): `offerable` decides
// which of an agent's free resources a framework may use, and the `Sorter` is injected.
import { Resources } from '../../protocol/resources.js';
import { shuffle, type Rng } from '../runtime/rng.js';
import { DrfSorter } from './drf-sorter.js';
import { DuplicateIdError, UnknownAgentError, UnknownFrameworkError } from './errors.js';
import { OfferFilters } from './filters.js';
import { intersect, meetsAnyMinimum } from './quantities.js';
import type { Sorter } from './sorter.js';

/** One decision of an allocation run: all of `resources` on `agentId` are offered to `frameworkId`. */
export interface OfferDecision {
  readonly frameworkId: string;
  readonly agentId: string;
  readonly resources: Resources;
}

/** How a framework is registered with the allocator. */
export interface FrameworkOptions {
  /** Roles the framework may be offered resources for (only `*` is honoured so far). */
  roles: string[];
  /** Starts suppressed: no offers until `revive`. Default false. */
  suppressed?: boolean;
  /** Starts active (connected). Default true; a master recovering from failover may pass false. */
  active?: boolean;
}

/** Options of `AllocatorCore`. */
export interface AllocatorCoreOptions {
  /** The fairness policy; default a fresh `DrfSorter`. */
  sorter?: Sorter;
  /** An offer must hold at least one of these in full; default `DEFAULT_MIN_ALLOCATABLE`. */
  minAllocatable?: Resources[];
}

/** Mesos's default minimum offer: `cpus:0.01` or `mem:32`. */
export const DEFAULT_MIN_ALLOCATABLE: readonly Resources[] = [
  Resources.fromScalars({ cpus: 0.01 }),
  Resources.fromScalars({ mem: 32 }),
];

/** The longest a refusal filter lasts (Mesos caps `refuse_seconds` at one year). */
export const MAX_REFUSE_MS = 365 * 24 * 60 * 60 * 1000;

interface AgentState {
  total: Resources;
  active: boolean;
  /** What each framework holds here; may name frameworks not (yet) added after a failover. */
  allocated: Map<string, Resources>;
}

interface FrameworkState {
  roles: string[];
  active: boolean;
  suppressed: boolean;
}

/** The pure allocator: operations change state, `allocate` returns offers as data. */
export class AllocatorCore {
  private readonly sorter: Sorter;
  private readonly minAllocatable: readonly Resources[];
  private readonly agents = new Map<string, AgentState>();
  private readonly frameworks = new Map<string, FrameworkState>();
  private readonly filters = new OfferFilters();

  constructor(options: AllocatorCoreOptions = {}) {
    this.sorter = options.sorter ?? new DrfSorter();
    this.minAllocatable = options.minAllocatable ?? DEFAULT_MIN_ALLOCATABLE;
  }

  /**
   * Adds an active agent with `total` resources, of which `used` are already held by
   * frameworks (tasks found on a reregistering agent). Frameworks not yet added still hold
   * their part of the agent; the sorter learns of it when they are added.
   */
  addAgent(agentId: string, total: Resources, used: ReadonlyMap<string, Resources> = new Map()): void {
    if (this.agents.has(agentId)) throw new DuplicateIdError('agent', agentId);
    const agent: AgentState = { total, active: true, allocated: new Map() };
    this.agents.set(agentId, agent);
    this.sorter.addTotal(agentId, total);
    for (const [frameworkId, resources] of used) {
      // Never let reported use exceed what the agent has.
      this.track(agentId, agent, frameworkId, intersect(resources, this.availableOn(agent)));
    }
  }

  /** Removes an agent: its total leaves the cluster and frameworks stop holding anything on it. */
  removeAgent(agentId: string): void {
    const agent = this.agent(agentId);
    for (const [frameworkId, held] of agent.allocated) {
      if (this.frameworks.has(frameworkId)) this.sorter.unallocated(frameworkId, agentId, held);
    }
    this.sorter.removeTotal(agentId, agent.total);
    this.filters.clearAgent(agentId);
    this.agents.delete(agentId);
  }

  /** Lets an agent be offered again. */
  activateAgent(agentId: string): void {
    this.agent(agentId).active = true;
  }

  /** Stops offering an agent's resources; what is held there stays held. */
  deactivateAgent(agentId: string): void {
    this.agent(agentId).active = false;
  }

  /**
   * Adds a framework. `used` is what it already holds per agent (tasks found after a
   * failover); agents that already reported it keep their own account.
   */
  addFramework(
    frameworkId: string,
    options: FrameworkOptions,
    used: ReadonlyMap<string, Resources> = new Map(),
  ): void {
    if (this.frameworks.has(frameworkId)) throw new DuplicateIdError('framework', frameworkId);
    this.frameworks.set(frameworkId, {
      roles: [...options.roles],
      active: options.active ?? true,
      suppressed: options.suppressed ?? false,
    });
    this.sorter.add(frameworkId);
    if (options.active ?? true) this.sorter.activate(frameworkId);
    for (const [agentId, agent] of this.agents) {
      const held = agent.allocated.get(frameworkId);
      if (held !== undefined) this.sorter.allocated(frameworkId, agentId, held);
    }
    for (const [agentId, resources] of used) {
      const agent = this.agents.get(agentId);
      // Unknown agents bring their account when they are added; known ones already have it.
      if (agent === undefined || agent.allocated.has(frameworkId)) continue;
      this.track(agentId, agent, frameworkId, intersect(resources, this.availableOn(agent)));
    }
  }

  /** Removes a framework: everything it holds goes back to the pool and its filters go. */
  removeFramework(frameworkId: string): void {
    this.framework(frameworkId);
    for (const agent of this.agents.values()) agent.allocated.delete(frameworkId);
    this.sorter.remove(frameworkId);
    this.filters.clearFramework(frameworkId);
    this.frameworks.delete(frameworkId);
  }

  /** Makes a framework eligible for offers again (reconnected). */
  activateFramework(frameworkId: string): void {
    this.framework(frameworkId).active = true;
    this.sorter.activate(frameworkId);
  }

  /** Stops offering to a framework (disconnected); what it holds stays held. */
  deactivateFramework(frameworkId: string): void {
    this.framework(frameworkId).active = false;
    this.sorter.deactivate(frameworkId);
  }

  /**
   * Returns `resources` that `frameworkId` held on `agentId` to the pool (offer declined or
   * rescinded, unused part of an accept, task ended). Only what was held comes back. When
   * `refuseSeconds` > 0 the framework is not offered them on that agent until
   * `now + refuseSeconds` (at most one year). As Mesos, recovering on a removed agent is a
   * no-op (removal already returned everything), and so is the filter for a removed framework.
   */
  recoverResources(
    frameworkId: string,
    agentId: string,
    resources: Resources,
    refuseSeconds: number | undefined,
    now: number,
  ): void {
    const agent = this.agents.get(agentId);
    if (agent === undefined) return;
    const held = agent.allocated.get(frameworkId);
    if (held !== undefined) {
      const back = intersect(held, resources);
      const left = held.subtract(back);
      if (left.isEmpty()) agent.allocated.delete(frameworkId);
      else agent.allocated.set(frameworkId, left);
      if (this.frameworks.has(frameworkId)) this.sorter.unallocated(frameworkId, agentId, back);
    }
    if (!this.frameworks.has(frameworkId)) return;
    if (refuseSeconds !== undefined && refuseSeconds > 0 && !resources.isEmpty()) {
      const expiresAt = now + Math.min(refuseSeconds * 1000, MAX_REFUSE_MS);
      this.filters.add(frameworkId, agentId, resources, expiresAt);
    }
  }

  /** Stops offering to a framework until `revive`. */
  suppress(frameworkId: string): void {
    this.framework(frameworkId).suppressed = true;
  }

  /** Resumes offers to a framework and drops all its filters. */
  revive(frameworkId: string): void {
    this.framework(frameworkId).suppressed = false;
    this.filters.clearFramework(frameworkId);
  }

  /**
   * One allocation run. Active agents are visited in an order shuffled by `rng`; each
   * agent's free resources go, whole, to the first framework in sorter order that is active,
   * not suppressed, not filtered for them on that agent, and for which they meet the minimum.
   * The sorter is asked again for every agent, so each allocation moves the order.
   */
  allocate(now: number, rng: Rng): OfferDecision[] {
    this.filters.expire(now);
    const decisions: OfferDecision[] = [];
    // Sort first so that the shuffle depends on the seed only, not on insertion order.
    const agentIds = [...this.agents.keys()].filter((id) => this.agents.get(id)?.active).sort();
    for (const agentId of shuffle(agentIds, rng)) {
      const agent = this.agent(agentId);
      const available = this.availableOn(agent);
      if (available.isEmpty()) continue;
      for (const frameworkId of this.sorter.sort()) {
        const framework = this.frameworks.get(frameworkId);
        if (framework === undefined || !framework.active || framework.suppressed) continue;
        const candidate = this.offerable(framework, available);
        if (!meetsAnyMinimum(candidate, this.minAllocatable)) continue;
        if (this.filters.filters(frameworkId, agentId, candidate, now)) continue;
        this.track(agentId, agent, frameworkId, candidate);
        decisions.push({ frameworkId, agentId, resources: candidate });
        break;
      }
    }
    return decisions;
  }

  /** A framework's weighted dominant share, as the sorter computes it. */
  frameworkShare(frameworkId: string): number {
    this.framework(frameworkId);
    return this.sorter.share(frameworkId);
  }

  /** What a framework holds over all agents (offered or in use). */
  allocationOf(frameworkId: string): Resources {
    this.framework(frameworkId);
    return this.sorter.allocation(frameworkId);
  }

  /** An agent's free resources: total minus what frameworks hold there. */
  available(agentId: string): Resources {
    return this.availableOn(this.agent(agentId));
  }

  /** What each framework holds on an agent (a copy). */
  allocatedOn(agentId: string): Map<string, Resources> {
    return new Map(this.agent(agentId).allocated);
  }

  /** Ids of every agent, active or not, in insertion order. */
  agentIds(): string[] {
    return [...this.agents.keys()];
  }

  /** Ids of every framework, active or not, in insertion order. */
  frameworkIds(): string[] {
    return [...this.frameworks.keys()];
  }

  /** Number of refusal filters held (for the master's metrics). */
  filterCount(): number {
    return this.filters.count();
  }

  /**
   * What of `available` a framework may be offered. Until hierarchical roles arrive,
   * only unreserved resources (role `*`) are offered, whatever the framework's roles.
   */
  private offerable(_framework: FrameworkState, available: Resources): Resources {
    return available.allocatableBy('*');
  }

  private track(agentId: string, agent: AgentState, frameworkId: string, resources: Resources): void {
    if (resources.isEmpty()) return;
    agent.allocated.set(frameworkId, (agent.allocated.get(frameworkId) ?? Resources.empty()).add(resources));
    if (this.frameworks.has(frameworkId)) this.sorter.allocated(frameworkId, agentId, resources);
  }

  private availableOn(agent: AgentState): Resources {
    let used = Resources.empty();
    for (const held of agent.allocated.values()) used = used.add(held);
    return agent.total.subtract(used);
  }

  private agent(agentId: string): AgentState {
    const agent = this.agents.get(agentId);
    if (agent === undefined) throw new UnknownAgentError(agentId);
    return agent;
  }

  private framework(frameworkId: string): FrameworkState {
    const framework = this.frameworks.get(frameworkId);
    if (framework === undefined) throw new UnknownFrameworkError(frameworkId);
    return framework;
  }
}
