/**
 * Task states, as Mesos's `TaskState`. The set and its meaning are part of the protocol;
 * which moves between them are legal is decided by `task-lifecycle.ts`.
 */

/** Every task state. */
export const TaskState = {
  /** Accepted by the master, on its way to the agent; not yet started. */
  STAGING: 'TASK_STAGING',
  /** The executor is starting the task. */
  STARTING: 'TASK_STARTING',
  /** The task is running. Repeated RUNNING updates carry health changes. */
  RUNNING: 'TASK_RUNNING',
  /** A kill was asked for; the executor is stopping the task (grace period). */
  KILLING: 'TASK_KILLING',
  /** Terminal: the task ended with exit code 0. */
  FINISHED: 'TASK_FINISHED',
  /** Terminal: the task ended with a non-zero exit code, a signal, or a resource limit. */
  FAILED: 'TASK_FAILED',
  /** Terminal: the task was killed on request. */
  KILLED: 'TASK_KILLED',
  /** Terminal: the task description was invalid; it was never launched. */
  ERROR: 'TASK_ERROR',
  /** Terminal: the task was lost (agent gone) — for frameworks that are not partition-aware. */
  LOST: 'TASK_LOST',
  /** Terminal: the task could not be launched for a transient reason (e.g. a stale offer). */
  DROPPED: 'TASK_DROPPED',
  /** The task's agent is unreachable; the task may still be running (partition-aware). */
  UNREACHABLE: 'TASK_UNREACHABLE',
  /** Terminal: the task's agent was removed; the task is known not to run. */
  GONE: 'TASK_GONE',
  /** Terminal: an operator marked the task's agent gone. */
  GONE_BY_OPERATOR: 'TASK_GONE_BY_OPERATOR',
  /** Reconciliation answer: the master does not know the task. Never held by a task. */
  UNKNOWN: 'TASK_UNKNOWN',
} as const;
/** One task state. */
export type TaskState = (typeof TaskState)[keyof typeof TaskState];

/** All task states, in declaration order. */
export const ALL_TASK_STATES: readonly TaskState[] = Object.values(TaskState);

const TERMINAL: ReadonlySet<TaskState> = new Set<TaskState>([
  TaskState.FINISHED,
  TaskState.FAILED,
  TaskState.KILLED,
  TaskState.ERROR,
  TaskState.LOST,
  TaskState.DROPPED,
  TaskState.GONE,
  TaskState.GONE_BY_OPERATOR,
]);

/** True for states a task never leaves (its resources are free again). */
export function isTerminal(state: TaskState): boolean {
  return TERMINAL.has(state);
}

/** True when `value` is one of the task states. */
export function isTaskState(value: unknown): value is TaskState {
  return typeof value === 'string' && (ALL_TASK_STATES as readonly string[]).includes(value);
}

/** Why a status update was sent, as Mesos's `TaskStatus.Reason` (the subset Nesos emits). */
export const TaskReason = {
  COMMAND_EXITED: 'REASON_COMMAND_EXECUTOR_FAILED',
  EXECUTOR_TERMINATED: 'REASON_EXECUTOR_TERMINATED',
  TASK_KILLED_DURING_LAUNCH: 'REASON_TASK_KILLED_DURING_LAUNCH',
  TASK_INVALID: 'REASON_TASK_INVALID',
  INVALID_OFFERS: 'REASON_INVALID_OFFERS',
  AGENT_REMOVED: 'REASON_AGENT_REMOVED',
  AGENT_UNKNOWN: 'REASON_AGENT_UNKNOWN',
  AGENT_UNREACHABLE: 'REASON_AGENT_UNREACHABLE',
  AGENT_DISCONNECTED: 'REASON_AGENT_DISCONNECTED',
  FRAMEWORK_REMOVED: 'REASON_FRAMEWORK_REMOVED',
  RECONCILIATION: 'REASON_RECONCILIATION',
  MEMORY_LIMIT: 'REASON_CONTAINER_LIMITATION_MEMORY',
  TASK_UNKNOWN: 'REASON_TASK_UNKNOWN',
  KILL_REQUESTED: 'REASON_TASK_KILLED',
  EXECUTOR_REGISTRATION_TIMEOUT: 'REASON_EXECUTOR_REGISTRATION_TIMEOUT',
  EXECUTOR_REREGISTRATION_TIMEOUT: 'REASON_EXECUTOR_REREGISTRATION_TIMEOUT',
  HEALTH_CHECK: 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED',
  AGENT_DRAINING: 'REASON_AGENT_DRAINING',
} as const;
/** One status-update reason. */
export type TaskReason = (typeof TaskReason)[keyof typeof TaskReason];

/** Which actor produced a status update, as Mesos's `TaskStatus.Source`. */
export const TaskSource = {
  MASTER: 'SOURCE_MASTER',
  AGENT: 'SOURCE_AGENT',
  EXECUTOR: 'SOURCE_EXECUTOR',
} as const;
/** One status-update source. */
export type TaskSource = (typeof TaskSource)[keyof typeof TaskSource];
