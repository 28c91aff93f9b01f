/**
 * The workload (pure): which kind of task to launch next, drawn from a seeded generator,
 * and what each kind runs. Short ones come and go, long ones live through faults, failing
 * ones exit 3, killed ones are killed by the framework once running, health-checked ones
 * pass (and finish) or fail their check (and are killed by their executor).
 */
import type { Rng } from '../../actors/runtime/rng.js';
import type { TaskSpec } from '../../actors/scheduler/index.js';
import type { TaskKind } from './types.js';

/** What one task of the workload uses. */
export const TASK_RESOURCES = 'cpus:0.1;mem:32';

/** How often each kind is drawn (relative weights). */
export const TASK_WEIGHTS: Readonly<Record<TaskKind, number>> = {
  true: 3,
  short: 3,
  long: 2,
  failing: 2,
  killed: 2,
  healthy: 1,
  unhealthy: 1,
};

/** Draws the next kind of task. */
export function nextTaskKind(rng: Rng): TaskKind {
  const kinds = Object.keys(TASK_WEIGHTS) as TaskKind[];
  const total = kinds.reduce((n, k) => n + TASK_WEIGHTS[k], 0);
  let x = rng() * total;
  for (const k of kinds) {
    x -= TASK_WEIGHTS[k];
    if (x < 0) return k;
  }
  return 'true';
}

/** The task a kind runs, under `taskId`. */
export function taskSpec(kind: TaskKind, taskId: string): TaskSpec {
  const base = { taskId, name: `chaos-${kind}`, resources: TASK_RESOURCES, killPolicy: { gracePeriodMs: 500 }, labels: { 'chaos.kind': kind } };
  switch (kind) {
    case 'true':
      return { ...base, command: 'true' };
    case 'short':
      return { ...base, command: 'sleep 0.2' };
    case 'long':
      return { ...base, command: 'sleep 5' };
    case 'failing':
      return { ...base, command: 'exit 3' };
    case 'killed':
      return { ...base, command: 'sleep 30' };
    case 'healthy':
      return { ...base, command: 'sleep 4', healthCheck: { type: 'COMMAND', command: { value: 'true' }, delaySeconds: 0.5, intervalSeconds: 1, gracePeriodSeconds: 0, timeoutSeconds: 2 } };
    case 'unhealthy':
      return { ...base, command: 'sleep 30', healthCheck: { type: 'COMMAND', command: { value: 'exit 1' }, delaySeconds: 0.5, intervalSeconds: 0.5, gracePeriodSeconds: 0, timeoutSeconds: 2, consecutiveFailures: 2 } };
  }
}
