/**
 * Cluster figures derived from the state: resources total/allocated/offered/idle per kind and
 * per role, task counts by state, agents by status, frameworks. Pure (no Node imports), so the
 * web UI bundles this same code; resource texts are parsed once each and cached, since most
 * tasks share a handful of distinct texts.
 *
 * Quantities per resource name: scalars as their value, ranges as the number of values they
 * hold (ports), sets as their size. Totals count active agents only; allocated counts
 * non-terminal tasks; idle = total − allocated − offered, never below zero.
 */
import { Resources } from '../../protocol/resources.js';
import { ALL_TASK_STATES, isTerminal, type TaskState } from '../../protocol/task-state.js';

/** Quantities by resource name (cpus, mem, disk, ports, ...). */
export type Quantities = Record<string, number>;

/** Quantities by resource name, one entry per role (`*` for unreserved). */
export type QuantitiesByRole = Record<string, Quantities>;

/** The smallest view of a task the summary needs. */
export interface SummaryTask {
  frameworkId: string;
  state: TaskState | string;
  resources: string;
  role?: string | undefined;
}

/** The smallest view of the state the summary needs (a `ClusterState` is one). */
export interface SummaryInput {
  agents: ReadonlyArray<{ status: string; resources: string }>;
  frameworks: ReadonlyArray<{ id: string; roles: readonly string[]; connected: boolean }>;
  tasks: ReadonlyArray<SummaryTask>;
  completedTasks: ReadonlyArray<SummaryTask>;
  offers: ReadonlyArray<{ frameworkId: string; resources: string }>;
}

/** What `summarize` computes. */
export interface ClusterSummary {
  /** Per resource name, over active agents. */
  resources: { total: Quantities; allocated: Quantities; offered: Quantities; idle: Quantities };
  /** Per role: total is what is reserved for the role (`*`: unreserved); allocated and offered by the frameworks' roles. */
  roles: { total: QuantitiesByRole; allocated: QuantitiesByRole; offered: QuantitiesByRole };
  /** Every task state with its count (0 included), running and completed tasks together. */
  tasksByState: Record<string, number>;
  /** Agents by status (active, unreachable, ...). */
  agentsByStatus: Record<string, number>;
  /** Frameworks, and how many are connected. */
  frameworks: { total: number; connected: number };
  /** Outstanding offers. */
  offers: number;
}

/** One parsed resource entry reduced to what the summary adds up. */
interface Amount {
  name: string;
  role: string;
  quantity: number;
}

/** Parses resource texts into amounts, remembering each distinct text. */
export class ResourceAmounts {
  private readonly cache = new Map<string, readonly Amount[]>();
  private readonly limit: number;

  /** Keeps at most `limit` distinct texts (default 10,000); beyond that the cache starts over. */
  constructor(limit = 10_000) {
    this.limit = limit;
  }

  /** The amounts of `text`; an unparsable text counts as nothing. */
  of(text: string): readonly Amount[] {
    let amounts = this.cache.get(text);
    if (amounts === undefined) {
      amounts = parseAmounts(text);
      if (this.cache.size >= this.limit) this.cache.clear();
      this.cache.set(text, amounts);
    }
    return amounts;
  }
}

function parseAmounts(text: string): Amount[] {
  const parsed = Resources.tryParse(text);
  if (!parsed.ok) return [];
  return parsed.value.entries().map((e) => {
    let quantity: number;
    if (e.kind === 'scalar') quantity = e.value;
    else if (e.kind === 'ranges') quantity = e.value.reduce((n, [b, end]) => n + (end - b + 1), 0);
    else quantity = e.value.length;
    return { name: e.name, role: e.role, quantity };
  });
}

function add(into: Quantities, name: string, quantity: number): void {
  into[name] = round3((into[name] ?? 0) + quantity);
}

function addToRole(into: QuantitiesByRole, role: string, name: string, quantity: number): void {
  add((into[role] ??= {}), name, quantity);
}

/** Rounds to thousandths, as resource scalars are (so 0.1 + 0.2 shows as 0.3). */
export function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** Computes the cluster's figures from its state. Pass one `amounts` across calls to reuse parses. */
export function summarize(state: SummaryInput, amounts: ResourceAmounts = new ResourceAmounts()): ClusterSummary {
  const total: Quantities = {};
  const allocated: Quantities = {};
  const offered: Quantities = {};
  const roles: ClusterSummary['roles'] = { total: {}, allocated: {}, offered: {} };
  const agentsByStatus: Record<string, number> = { active: 0, unreachable: 0 };
  for (const agent of state.agents) {
    agentsByStatus[agent.status] = (agentsByStatus[agent.status] ?? 0) + 1;
    if (agent.status !== 'active') continue;
    for (const a of amounts.of(agent.resources)) {
      add(total, a.name, a.quantity);
      addToRole(roles.total, a.role, a.name, a.quantity);
    }
  }
  const frameworkRole = new Map(state.frameworks.map((f) => [f.id, f.roles[0] ?? '*']));
  const roleOf = (entryRole: string, frameworkId: string, taskRole?: string) =>
    entryRole !== '*' ? entryRole : (taskRole ?? frameworkRole.get(frameworkId) ?? '*');

  const tasksByState: Record<string, number> = Object.fromEntries(ALL_TASK_STATES.map((s) => [s, 0]));
  for (const list of [state.tasks, state.completedTasks]) {
    for (const task of list) {
      tasksByState[task.state] = (tasksByState[task.state] ?? 0) + 1;
      if (list === state.completedTasks || isTerminal(task.state as TaskState)) continue;
      for (const a of amounts.of(task.resources)) {
        add(allocated, a.name, a.quantity);
        addToRole(roles.allocated, roleOf(a.role, task.frameworkId, task.role), a.name, a.quantity);
      }
    }
  }
  for (const offer of state.offers) {
    for (const a of amounts.of(offer.resources)) {
      add(offered, a.name, a.quantity);
      addToRole(roles.offered, roleOf(a.role, offer.frameworkId), a.name, a.quantity);
    }
  }
  const idle: Quantities = {};
  for (const [name, t] of Object.entries(total)) idle[name] = Math.max(0, round3(t - (allocated[name] ?? 0) - (offered[name] ?? 0)));
  return {
    resources: { total, allocated, offered, idle },
    roles,
    tasksByState,
    agentsByStatus,
    frameworks: { total: state.frameworks.length, connected: state.frameworks.filter((f) => f.connected).length },
    offers: state.offers.length,
  };
}
