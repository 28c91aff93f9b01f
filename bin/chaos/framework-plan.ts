/**
 * What the workload framework does next (pure), from its task views and the time: which
 * tasks to reconcile (unsettled ones not heard of lately), which to kill (the `killed`
 * kind once running; every unsettled one while draining; again if a kill brought nothing),
 * and how many it may still launch.
 */
import { TaskState } from '../../protocol/task-state.js';
import { vanished, type TaskView } from './task-views.js';

/** Timings of the framework's loop, ms. */
export interface PlanTimings {
  /** Reconcile a task not heard of for this long (default 3000). */
  reconcileAfterMs: number;
  /** Ask to kill again when a kill brought no terminal state within this (default 3000). */
  killAgainAfterMs: number;
  /** Unsettled tasks at most (default 12). */
  maxInFlight: number;
}

/** Default timings. */
export const DEFAULT_PLAN_TIMINGS: PlanTimings = { reconcileAfterMs: 3000, killAgainAfterMs: 3000, maxInFlight: 12 };

/** What to do now. */
export interface FrameworkPlan {
  reconcile: Array<{ taskId: string; agentId: string }>;
  kill: Array<{ taskId: string; agentId: string }>;
  /** How many more tasks may be launched now (0 while draining). */
  launchRoom: number;
  /** Tasks not settled yet. */
  unsettled: number;
}

/** True once the framework is done with a task: it saw a terminal state, or the master only ever said TASK_UNKNOWN. */
export function settled(v: TaskView): boolean {
  return v.terminal !== undefined || vanished(v);
}

/** The last time the framework heard of a task (or launched it). */
function lastHeard(v: TaskView): number {
  return Math.max(v.launchedAt, v.stream.at(-1)?.at ?? 0, v.answers.at(-1)?.at ?? 0);
}

/**
 * The plan at `now`. `asked` and `killed` hold when each task was last reconciled and last
 * asked to be killed by this process (the shell's memory; a new process starts afresh).
 */
export function planStep(
  views: readonly TaskView[],
  now: number,
  draining: boolean,
  asked: ReadonlyMap<string, number>,
  killed: ReadonlyMap<string, number>,
  t: PlanTimings = DEFAULT_PLAN_TIMINGS,
): FrameworkPlan {
  const open = views.filter((v) => !settled(v));
  const reconcile = open
    .filter((v) => now - Math.max(lastHeard(v), asked.get(v.taskId) ?? 0) >= t.reconcileAfterMs)
    .map((v) => ({ taskId: v.taskId, agentId: v.agentId }));
  const kill = open
    .filter((v) => draining || (v.kind === 'killed' && v.stream.some((u) => u.state === TaskState.RUNNING)))
    .filter((v) => now - (killed.get(v.taskId) ?? Number.NEGATIVE_INFINITY) >= t.killAgainAfterMs)
    .map((v) => ({ taskId: v.taskId, agentId: v.agentId }));
  return { reconcile, kill, launchRoom: draining ? 0 : Math.max(0, t.maxInFlight - open.length), unsettled: open.length };
}
