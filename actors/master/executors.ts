/**
 * Custom executors in the master (TaskInfo.executor), pure. The master records each one
 * the first task launches, per agent and framework: its description and its own resources,
 * which are taken from the offers once (with that first task) and go back to the allocator
 * when the executor exits (EXITED_EXECUTOR), or when its only tasks were refused by the
 * agent before it ran anything. A later task naming a running executor must give the same
 * description; it then uses only its own resources. After a failover, or when an agent
 * registers again, the records are rebuilt from the live tasks the agent reports.
 */
import { Resources } from '../../protocol/resources.js';
import type { ExecutorInfo } from '../../protocol/schema.js';
import { TaskSource, TaskState, isTerminal } from '../../protocol/task-state.js';
import type { Step } from './context.js';
import { inAllocator, type AgentRecord, type TaskRecord } from './state.js';

/** A custom executor the master counts on an agent. */
export interface MasterExecutorRecord {
  frameworkId: string;
  info: ExecutorInfo;
  /** Its own resources (not its tasks'). */
  resources: Resources;
  /** The role they are allocated to (the first task's offer's). */
  role: string | undefined;
}

/** The key of an executor on its agent: executor ids are unique per framework there. */
export function executorKey(frameworkId: string, executorId: string): string {
  return `${frameworkId}/${executorId}`;
}

/** What launching a task on custom executor `info` takes besides the task's own resources. */
export type ExecutorCheck = { resources: Resources; isNew: boolean };

/**
 * Checks the custom executor of a task to launch on `agent`: a running one must have the
 * same description (command and resources); a new one's resources must parse. Returns the
 * resources the executor adds (none when it runs already), or why the task is invalid.
 */
export function checkExecutor(agent: AgentRecord | undefined, frameworkId: string, info: ExecutorInfo): ExecutorCheck | string {
  const existing = agent?.executors?.get(executorKey(frameworkId, info.executorId));
  if (existing !== undefined) {
    if (!sameDescription(existing.info, info)) return `executor ${info.executorId} runs on agent ${agent?.id ?? '?'} with another command or other resources`;
    return { resources: Resources.empty(), isNew: false };
  }
  try {
    return { resources: Resources.fromWire(info.resources ?? []), isNew: true };
  } catch (e) {
    return `executor resources are invalid: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/** Records a new custom executor on its agent (its resources are now in use). */
export function addExecutor(agent: AgentRecord, record: MasterExecutorRecord): void {
  agent.executors ??= new Map();
  agent.executors.set(executorKey(record.frameworkId, record.info.executorId), record);
}

/** Forgets an executor and gives its resources back to the allocator (once). */
export function removeExecutor(step: Step, agentId: string, frameworkId: string, executorId: string): void {
  const agent = step.state.agents.get(agentId);
  const key = executorKey(frameworkId, executorId);
  const record = agent?.executors?.get(key);
  if (agent === undefined || record === undefined) return;
  agent.executors?.delete(key);
  if (record.resources.isEmpty() || !inAllocator(agent)) return;
  step.allocator({ op: 'recoverResources', frameworkId, agentId, resources: record.resources, refuseSeconds: undefined, ...(record.role !== undefined && { role: record.role }) });
}

/**
 * A task of a custom executor ended. If the agent refused it before it ran (TASK_ERROR
 * from the agent) and the executor has no other live task, the executor never started:
 * its resources go back now (no EXITED_EXECUTOR will come).
 */
export function onExecutorTaskEnded(step: Step, task: TaskRecord): void {
  const info = task.info.executor;
  if (info === undefined || task.state !== TaskState.ERROR || task.status?.source !== TaskSource.AGENT) return;
  const agent = step.state.agents.get(task.agentId);
  if (agent === undefined) return;
  const others = [...agent.tasks].some((key) => {
    const t = step.state.tasks.get(key);
    return t !== undefined && t !== task && t.frameworkId === task.frameworkId && t.info.executor?.executorId === info.executorId && !isTerminal(t.state);
  });
  if (!others) removeExecutor(step, task.agentId, task.frameworkId, info.executorId);
}

/** Rebuilds an agent's executors from its live tasks (at registration): one record per executor, its resources counted once. */
export function rebuildExecutors(step: Step, agent: AgentRecord): void {
  agent.executors = new Map();
  for (const key of agent.tasks) {
    const task = step.state.tasks.get(key);
    const info = task?.info.executor;
    if (task === undefined || info === undefined || isTerminal(task.state) || agent.executors.has(executorKey(task.frameworkId, info.executorId))) continue;
    const check = checkExecutor(undefined, task.frameworkId, info);
    if (typeof check === 'string') continue;
    addExecutor(agent, { frameworkId: task.frameworkId, info, resources: check.resources, role: task.role });
  }
}

/** What each framework's executors use on `agent`. */
export function executorUse(agent: AgentRecord): Map<string, Resources> {
  const used = new Map<string, Resources>();
  for (const e of agent.executors?.values() ?? []) used.set(e.frameworkId, (used.get(e.frameworkId) ?? Resources.empty()).add(e.resources));
  return used;
}

function sameDescription(a: ExecutorInfo, b: ExecutorInfo): boolean {
  const norm = (i: ExecutorInfo) => JSON.stringify([i.command.value, Object.entries(i.command.environment).sort(), Resources.fromWire(i.resources ?? []).toString()]);
  try {
    return norm(a) === norm(b);
  } catch {
    return false;
  }
}
