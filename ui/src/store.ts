/**
 * The UI's copy of the cluster: maps of agents, frameworks, tasks and offers, filled by the
 * event stream's SUBSCRIBED and kept current by every later event. Components read the maps
 * and subscribe to `version`, which is bumped at most once per animation frame however many
 * events arrive, so a busy cluster costs one render per frame, not one per event.
 */
import { signal } from '@preact/signals';
import type { ClusterAgentView, ClusterState, ClusterTaskView, FrameworkView, LeaderView, OfferView } from '../../protocol/operator-api.js';
import type { OperatorEvent } from '../../protocol/operator-events.js';
import type { TaskStatus } from '../../protocol/schema.js';
import { isTerminalState } from './format.js';


/** A task in the UI: the master's view plus the statuses seen while the page was open. */
export type Task = ClusterTaskView & { key: string };

/** The parts of the state that are not lists. */
export type Meta = Omit<ClusterState, 'agents' | 'frameworks' | 'tasks' | 'completedTasks' | 'offers'>;

/** Most tasks the page keeps; past it, the oldest terminal ones are forgotten (the master bounds its own list too). */
export const MAX_TASKS = 50_000;

/** The key of a task: task ids are unique within a framework. */
export function taskKey(frameworkId: string, taskId: string): string {
  return `${frameworkId}/${taskId}`;
}

/** The cluster as the UI knows it. */
export class ClusterStore {
  /** Everything but the lists; null until the first SUBSCRIBED. */
  readonly meta = signal<Meta | null>(null);
  /** Bumped (once per frame at most) whenever a map below changed. */
  readonly version = signal(0);
  /** Agents by id. */
  readonly agents = new Map<string, ClusterAgentView>();
  /** Frameworks by id. */
  readonly frameworks = new Map<string, FrameworkView>();
  /** Tasks (running and completed) by `taskKey`. */
  readonly tasks = new Map<string, Task>();
  /** Outstanding offers by id. */
  readonly offers = new Map<string, OfferView>();
  /** When the last event arrived (ms). */
  lastEventAt = 0;
  private pending = false;

  /** Applies one operator event. */
  apply(event: OperatorEvent): void {
    this.lastEventAt = Date.now();
    switch (event.type) {
      case 'SUBSCRIBED':
        this.reset(event.state);
        break;
      case 'TASK_ADDED':
      case 'TASK_UPDATED':
        this.putTask(event.task);
        break;
      case 'AGENT_ADDED':
      case 'AGENT_UPDATED':
        this.agents.set(event.agent.id, event.agent);
        break;
      case 'AGENT_REMOVED':
        this.agents.delete(event.agentId);
        break;
      case 'FRAMEWORK_ADDED':
      case 'FRAMEWORK_UPDATED':
        this.frameworks.set(event.framework.id, event.framework);
        break;
      case 'FRAMEWORK_REMOVED':
        this.frameworks.delete(event.frameworkId);
        break;
      case 'OFFER_ADDED':
        this.offers.set(event.offer.id, event.offer);
        break;
      case 'OFFER_REMOVED':
        this.offers.delete(event.offerId);
        break;
      case 'MAINTENANCE_UPDATED': {
        const meta = this.meta.value;
        if (meta !== null) this.meta.value = { ...meta, maintenance: event.maintenance };
        break;
      }
      case 'LEADER_CHANGED': {
        const meta = this.meta.value;
        if (meta !== null) this.meta.value = withLeader(meta, event.leader);
        return;
      }
      case 'HEARTBEAT':
        return;
    }
    this.changed();
  }

  /** The tasks as a list (in the order they were first seen). */
  taskList(): Task[] {
    return [...this.tasks.values()];
  }

  private reset(state: ClusterState): void {
    const { agents, frameworks, tasks, completedTasks, offers, ...meta } = state;
    this.meta.value = meta;
    this.agents.clear();
    this.frameworks.clear();
    this.offers.clear();
    const history = new Map([...this.tasks].map(([k, t]) => [k, t.statuses]));
    this.tasks.clear();
    for (const a of agents) this.agents.set(a.id, a);
    for (const f of frameworks) this.frameworks.set(f.id, f);
    for (const o of offers) this.offers.set(o.id, o);
    for (const t of [...completedTasks, ...tasks]) this.putTask(t, history.get(taskKey(t.frameworkId, t.taskId)));
  }

  private putTask(view: ClusterTaskView, earlier?: TaskStatus[]): void {
    const key = taskKey(view.frameworkId, view.taskId);
    const before = this.tasks.get(key);
    let statuses = view.statuses;
    if (statuses === undefined || statuses.length === 0) {
      // The master sent no history: keep what this page has seen.
      statuses = [...(before?.statuses ?? earlier ?? [])];
      const last = statuses.at(-1);
      if (view.status !== undefined && (last === undefined || last.timestamp !== view.status.timestamp || last.state !== view.status.state)) {
        statuses.push(view.status);
      }
    }
    this.tasks.set(key, { ...view, key, statuses });
    if (before === undefined && this.tasks.size > MAX_TASKS) this.forgetOldTerminal(MAX_TASKS - MAX_TASKS / 10);
  }

  private forgetOldTerminal(target: number): void {
    for (const [key, task] of this.tasks) {
      if (this.tasks.size <= target) return;
      if (isTerminalState(task.state)) this.tasks.delete(key);
    }
  }

  private changed(): void {
    if (this.pending) return;
    this.pending = true;
    const bump = () => {
      this.pending = false;
      this.version.value += 1;
    };
    if (typeof requestAnimationFrame === 'function' && document.visibilityState === 'visible') requestAnimationFrame(bump);
    else setTimeout(bump, 50);
  }
}

function withLeader(meta: Meta, leader: LeaderView | undefined): Meta {
  const { leader: _old, ...rest } = meta;
  return leader === undefined ? rest : { ...rest, leader };
}

/** The one store of the page. */
export const store = new ClusterStore();
