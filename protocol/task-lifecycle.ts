/**
 * The task lifecycle: one xstate v5 machine, shared by master, agent, executor and SDK,
 * so that an illegal transition is refused everywhere at once.
 *
 * Events are the target state (`{ type: 'TASK_RUNNING' }`). The machine holds no I/O and
 * no context; actors keep a task's state as a plain `TaskState` and ask
 * `nextTaskState(from, to)`, which consults the machine through its pure snapshots.
 */
import { setup, type AnyMachineSnapshot } from 'xstate';
import { IllegalTransitionError } from './errors.js';
import { ALL_TASK_STATES, TaskState, isTerminal } from './task-state.js';

const S = TaskState;
const TERMINAL_ENDINGS: TaskState[] = [S.FINISHED, S.FAILED, S.KILLED, S.LOST, S.GONE, S.GONE_BY_OPERATOR];

/**
 * Legal moves, by state. Terminal states have none. UNKNOWN is only a reconciliation
 * answer and is never entered. RUNNING → RUNNING is allowed: it carries health changes.
 * UNREACHABLE → UNREACHABLE is allowed as a repeat: a new leader that rebuilt a task from
 * its agent cannot know that an earlier leader already said so (found by `nesos chaos`).
 */
export const TASK_TRANSITIONS: Readonly<Record<TaskState, readonly TaskState[]>> = {
  [S.STAGING]: [S.STARTING, S.RUNNING, S.KILLING, S.ERROR, S.DROPPED, S.UNREACHABLE, ...TERMINAL_ENDINGS],
  [S.STARTING]: [S.RUNNING, S.KILLING, S.DROPPED, S.UNREACHABLE, ...TERMINAL_ENDINGS],
  [S.RUNNING]: [S.RUNNING, S.KILLING, S.UNREACHABLE, ...TERMINAL_ENDINGS],
  [S.KILLING]: [S.UNREACHABLE, ...TERMINAL_ENDINGS],
  [S.UNREACHABLE]: [S.UNREACHABLE, S.STARTING, S.RUNNING, S.KILLING, ...TERMINAL_ENDINGS],
  [S.FINISHED]: [],
  [S.FAILED]: [],
  [S.KILLED]: [],
  [S.ERROR]: [],
  [S.LOST]: [],
  [S.DROPPED]: [],
  [S.GONE]: [],
  [S.GONE_BY_OPERATOR]: [],
  [S.UNKNOWN]: [],
};

/** An event of the task lifecycle machine: "the task is now in state `type`". */
export type TaskLifecycleEvent = { type: TaskState };

function stateNodes(): Record<string, { type?: 'final'; on: Record<string, string> }> {
  const nodes: Record<string, { type?: 'final'; on: Record<string, string> }> = {};
  for (const from of ALL_TASK_STATES) {
    const on: Record<string, string> = {};
    for (const to of TASK_TRANSITIONS[from]) on[to] = to;
    nodes[from] = isTerminal(from) ? { type: 'final', on } : { on };
  }
  return nodes;
}

/** The task lifecycle machine (xstate v5). Starts in TASK_STAGING. */
export const taskLifecycleMachine = setup({
  types: { events: {} as TaskLifecycleEvent },
}).createMachine({
  id: 'task',
  initial: S.STAGING,
  states: stateNodes(),
});

const snapshots = new Map<TaskState, AnyMachineSnapshot>(
  ALL_TASK_STATES.map((s) => [s, taskLifecycleMachine.resolveState({ value: s })]),
);

/** True when a task in state `from` may move to `to`. */
export function canTransition(from: TaskState, to: TaskState): boolean {
  const snapshot = snapshots.get(from);
  return snapshot !== undefined && snapshot.can({ type: to });
}

/** The state after moving `from` → `to`; throws IllegalTransitionError when illegal. */
export function nextTaskState(from: TaskState, to: TaskState): TaskState {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to);
  return to;
}
