/**
 * The invariant checker: everything a run recorded in, every broken invariant out
 * (pure). Each check lives with its kind: task-invariants.ts (what the framework saw),
 * cluster-invariants.ts (processes, allocations, convergence).
 */
import { checkAllocation, checkConverged, checkNoDoubleRun } from './cluster-invariants.js';
import { checkLifecycleOrder, checkTerminalSeen } from './task-invariants.js';
import { taskViews } from './task-views.js';
import type { ChaosHistory, Violation } from './types.js';

/** Every violation of every invariant in `history`, in invariant order. */
export function checkInvariants(history: ChaosHistory): Violation[] {
  const views = taskViews(history.journal);
  return [
    ...checkTerminalSeen(views, history.faults),
    ...checkLifecycleOrder(views),
    ...checkNoDoubleRun(history.processSamples, history.sandboxRuns),
    ...checkAllocation(history.masterSamples),
    ...checkConverged(history.convergence),
  ];
}
