/**
 * Tasks in the master: state changes through the shared lifecycle, status updates read from
 * the updates stream, the master's own updates published to it, kills, reconciliation, and
 * the bookkeeping of resources when a task ends.
 */
import type { KillCall, ReconcileCall } from '../../protocol/scheduler.js';
import type { TaskStatus } from '../../protocol/schema.js';
import type { StoredStatus } from '../../protocol/updates.js';
import { canTransition } from '../../protocol/task-lifecycle.js';
import { TaskReason, TaskSource, TaskState, isTerminal } from '../../protocol/task-state.js';
import type { z } from 'zod';
import type { Step } from './context.js';
import { onExecutorTaskEnded } from './executors.js';
import { recordStatus } from './task-history.js';
import { inAllocator, taskKey, type FrameworkRecord, type TaskRecord } from './state.js';

/** True when the framework declared PARTITION_AWARE. */
export function isPartitionAware(framework: FrameworkRecord | undefined): boolean {
  return framework?.info.capabilities.includes('PARTITION_AWARE') ?? false;
}

/** A status produced by the master itself (with no uuid: `Step.withUuid` adds one to publish it). */
export function masterStatus(step: Step, task: { taskId: string; agentId?: string }, state: TaskState, reason: TaskReason, message: string): TaskStatus {
  return {
    taskId: task.taskId,
    state,
    ...(task.agentId !== undefined && { agentId: task.agentId }),
    source: TaskSource.MASTER,
    reason,
    message,
    timestamp: step.timestamp,
  };
}

/**
 * Moves a task to `status.state` if the lifecycle allows it, records the status, and, when
 * the task becomes terminal, gives its resources back to the allocator. Returns false for
 * an illegal move (the task keeps its state).
 */
export function applyStatus(step: Step, task: TaskRecord, status: TaskStatus): boolean {
  if (task.state !== status.state && !canTransition(task.state, status.state)) return false;
  task.state = status.state;
  recordStatus(task, status);
  if (isTerminal(task.state)) {
    recoverTaskResources(step, task);
    onExecutorTaskEnded(step, task);
  }
  return true;
}

/** Gives a task's resources back to the allocator, once. */
export function recoverTaskResources(step: Step, task: TaskRecord): void {
  if (task.resourcesRecovered) return;
  task.resourcesRecovered = true;
  const agent = step.state.agents.get(task.agentId);
  if (!inAllocator(agent)) return; // the allocator no longer counts this agent
  step.allocator({
    op: 'recoverResources',
    frameworkId: task.frameworkId,
    agentId: task.agentId,
    resources: task.resources,
    refuseSeconds: undefined,
    ...(task.role !== undefined && { role: task.role }),
  });
}

/** Moves a task out of the live table into the bounded list of ended tasks. */
export function completeTask(step: Step, task: TaskRecord): void {
  const key = taskKey(task.frameworkId, task.info.taskId);
  step.state.tasks.delete(key);
  step.state.agents.get(task.agentId)?.tasks.delete(key);
  step.state.frameworks.get(task.frameworkId)?.tasks.delete(key);
  const done = step.state.completedTasks;
  done.delete(key);
  done.set(key, task);
  while (done.size > step.config.maxCompletedTasks) {
    const oldest = done.keys().next().value;
    if (oldest === undefined) break;
    done.delete(oldest);
  }
}

/**
 * Moves a task to a state of the master's making (TASK_LOST, TASK_UNREACHABLE, TASK_GONE,
 * ...), publishes the update to the updates stream for its framework, and ends the task if
 * the state is terminal.
 */
export function setTaskState(step: Step, task: TaskRecord, state: TaskState, reason: TaskReason, message: string): void {
  const status = step.withUuid(masterStatus(step, { taskId: task.info.taskId, agentId: task.agentId }, state, reason, message));
  const heard = task.status?.state;
  if (!applyStatus(step, task, status)) return;
  // A repeat of what the framework heard last (UNREACHABLE again, say, for a task that came
  // back silently STAGING) says nothing, and the lifecycle has no such move: not published.
  if (heard !== state || isTerminal(state)) step.publishUpdate(task.frameworkId, status, task.lastUpdateSeq ?? 0);
  if (isTerminal(state)) completeTask(step, task);
}

/**
 * A status update read from the updates stream (stream sequence `seq`): applied to the task
 * if the master tracks it, it comes from the task's agent, it is newer than the last one
 * applied, and the lifecycle allows it. A terminal update ends the task at once: it moves to
 * the completed tasks and its resources return; the framework reads the update from the
 * stream whether or not it has acknowledged it yet. The master's own updates were applied
 * when it made them and are skipped (also those of an earlier leader: this term's task
 * table was rebuilt from the agents).
 */
export function onStatusUpdate(step: Step, frameworkId: string, status: StoredStatus, seq: number): void {
  if (status.source === TaskSource.MASTER) return;
  const task = step.state.tasks.get(taskKey(frameworkId, status.taskId));
  if (task === undefined || (status.agentId !== undefined && status.agentId !== task.agentId)) return;
  if (task.lastUpdateSeq !== undefined && seq <= task.lastUpdateSeq) return;
  task.lastUpdateSeq = seq;
  if (!applyStatus(step, task, status)) return;
  if (isTerminal(task.state)) {
    completeTask(step, task);
    return;
  }
  // An update the agent published before the master marked it unreachable, read only now
  // (the master's UNREACHABLE for the task was refused by the stream as older): the task
  // is still out of reach, so its framework hears that again.
  const agent = step.state.agents.get(task.agentId);
  if (agent?.status === 'unreachable' && status.state !== TaskState.UNREACHABLE) {
    const aware = isPartitionAware(step.state.frameworks.get(task.frameworkId));
    setTaskState(step, task, aware ? TaskState.UNREACHABLE : TaskState.LOST, TaskReason.AGENT_UNREACHABLE, `agent ${agent.id} is unreachable`);
  }
}

/** KILL from a framework: ask the task's agent to kill it; an unknown task is answered at once. */
export function onKill(step: Step, framework: FrameworkRecord, call: z.infer<typeof KillCall>): void {
  const task = step.state.tasks.get(taskKey(framework.id, call.taskId));
  if (task === undefined || isTerminal(task.state)) {
    const done = step.state.completedTasks.get(taskKey(framework.id, call.taskId));
    const state = done?.state ?? (isPartitionAware(framework) ? TaskState.UNKNOWN : TaskState.LOST);
    const status = masterStatus(step, { taskId: call.taskId, ...(call.agentId !== undefined && { agentId: call.agentId }) }, state, TaskReason.TASK_UNKNOWN, 'kill of a task the master does not know (or that already ended)');
    step.toFramework(framework.id, { type: 'UPDATE', status });
    return;
  }
  step.toAgent(task.agentId, {
    type: 'KILL_TASK',
    frameworkId: framework.id,
    taskId: call.taskId,
    ...(call.gracePeriodMs !== undefined && { gracePeriodMs: call.gracePeriodMs }),
  });
}

/**
 * RECONCILE: the latest known state of the listed tasks (explicit) or of all live tasks
 * (implicit), as Mesos answers: unknown tasks on a registered agent are GONE, on an
 * unreachable agent UNREACHABLE, otherwise UNKNOWN; frameworks that are not
 * partition-aware get LOST instead of each of these. While agents from the registry are
 * still expected back after a failover, a task that may be on one of them gets no answer
 * yet (as in Mesos): the framework asks again later.
 */
export function onReconcile(step: Step, framework: FrameworkRecord, call: z.infer<typeof ReconcileCall>): void {
  const send = (taskId: string, agentId: string | undefined, state: TaskState, message: string) => {
    const status = masterStatus(step, { taskId, ...(agentId !== undefined && { agentId }) }, state, TaskReason.RECONCILIATION, message);
    step.toFramework(framework.id, { type: 'UPDATE', status });
  };
  if (call.tasks.length === 0) {
    for (const key of framework.tasks) {
      const task = step.state.tasks.get(key);
      if (task !== undefined) send(task.info.taskId, task.agentId, task.state, 'reconciliation: latest state');
    }
    return;
  }
  const aware = isPartitionAware(framework);
  for (const { taskId, agentId } of call.tasks) {
    const key = taskKey(framework.id, taskId);
    const task = step.state.tasks.get(key) ?? step.state.completedTasks.get(key);
    if (task !== undefined) {
      send(taskId, task.agentId, task.state, 'reconciliation: latest state');
      continue;
    }
    const agent = agentId === undefined ? undefined : step.state.agents.get(agentId);
    if (agent?.status === 'recovering' || (agentId === undefined && anyAgentRecovering(step))) continue;
    let state: TaskState = TaskState.UNKNOWN;
    if (agent?.status === 'active') state = TaskState.GONE;
    else if (agent?.status === 'unreachable') state = TaskState.UNREACHABLE;
    else if (agent?.status === 'gone') state = TaskState.GONE_BY_OPERATOR;
    send(taskId, agentId, aware ? state : TaskState.LOST, 'reconciliation: task unknown to the master');
  }
}

/** True while some agent from the registry has not registered again since the failover. */
function anyAgentRecovering(step: Step): boolean {
  for (const agent of step.state.agents.values()) if (agent.status === 'recovering') return true;
  return false;
}
