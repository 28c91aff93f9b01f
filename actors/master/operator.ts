/**
 * Operator calls that change the cluster, as Mesos's operator API: tear a framework down,
 * kill one task, deactivate, reactivate, drain an agent, mark an agent gone. Pure: each
 * works on the step's registry and queues effects; refusals are `Rejection`s with a
 * reason that says what to do instead. Read-only calls are answered from the snapshot by
 * the shell.
 */
import type { z } from 'zod';
import type { DrainAgent, KillTask } from '../../protocol/operator-api.js';
import type { Resources } from '../../protocol/resources.js';
import { TaskReason, TaskState, isTerminal } from '../../protocol/task-state.js';
import { Rejection } from '../runtime/actor.js';
import type { Step } from './context.js';
import { agentEntry } from './agents.js';
import { removeFramework } from './frameworks.js';
import { rescindOffer } from './offers.js';
import { inAllocator, type AgentRecord, type TaskRecord } from './state.js';
import { isPartitionAware, setTaskState } from './tasks.js';

function agentOf(step: Step, agentId: string): AgentRecord {
  const agent = step.state.agents.get(agentId);
  if (agent === undefined) throw new Rejection('UNKNOWN_AGENT', `no agent ${agentId} is known: list them with \`nesos agents\``);
  if (agent.status === 'gone') throw new Rejection('AGENT_GONE', `agent ${agentId} was marked gone`);
  return agent;
}

function liveTasks(step: Step, agent: AgentRecord): TaskRecord[] {
  return [...agent.tasks].flatMap((key) => {
    const task = step.state.tasks.get(key);
    return task !== undefined && !isTerminal(task.state) ? [task] : [];
  });
}

function registryPut(step: Step, agent: AgentRecord, extra: { goneSince?: number } = {}): void {
  step.registry({
    op: 'put-agent',
    agent: {
      ...agentEntry(agent.info, agent.registeredAtMs, agent.checkpointed, agent.deactivated === true, agent),
      ...(agent.status === 'unreachable' && { unreachableSince: step.now }),
      ...extra,
    },
  });
}

/** TEARDOWN by an operator: the framework ends and its tasks are killed. */
export function teardownFramework(step: Step, frameworkId: string): void {
  const framework = step.state.frameworks.get(frameworkId);
  if (framework === undefined) throw new Rejection('NOT_FOUND', `no framework ${frameworkId} is known: list them with \`nesos frameworks\``);
  removeFramework(step, framework, 'torn down by an operator');
}

/** KILL_TASK: kill one live task, found by id (and framework, when ids clash). */
export function killTask(step: Step, call: z.infer<typeof KillTask>): void {
  const matches = [...step.state.tasks.values()].filter(
    (t) => t.info.taskId === call.taskId && (call.frameworkId === undefined || t.frameworkId === call.frameworkId) && !isTerminal(t.state),
  );
  if (matches.length === 0) throw new Rejection('UNKNOWN_TASK', `no live task ${call.taskId} is known: list them with \`nesos tasks\``);
  if (matches.length > 1) {
    const frameworks = matches.map((t) => t.frameworkId).join(', ');
    throw new Rejection('INVALID', `task id ${call.taskId} is used by frameworks ${frameworks}: say which with frameworkId`);
  }
  const task = matches[0]!;
  step.toAgent(task.agentId, {
    type: 'KILL_TASK',
    frameworkId: task.frameworkId,
    taskId: task.info.taskId,
    ...(call.gracePeriodMs !== undefined && { gracePeriodMs: call.gracePeriodMs }),
  });
}

/** DEACTIVATE_AGENT: no more offers of the agent; its tasks keep running. */
export function deactivateAgent(step: Step, agentId: string): void {
  const agent = agentOf(step, agentId);
  if (agent.deactivated === true) return;
  const wasCounted = inAllocator(agent);
  agent.deactivated = true;
  for (const offerId of [...agent.offers]) rescindOffer(step, offerId, false);
  if (wasCounted) step.allocator({ op: 'removeAgent', agentId: agent.id });
  registryPut(step, agent);
}

/** REACTIVATE_AGENT: offers of a deactivated or drained agent resume. */
export function reactivateAgent(step: Step, agentId: string): void {
  const agent = agentOf(step, agentId);
  if (agent.deactivated !== true) return;
  agent.deactivated = false;
  if (agent.draining === true) step.toAgent(agent.id, { type: 'REACTIVATE_AGENT' });
  agent.draining = false;
  agent.goneWhenDrained = false;
  if (inAllocator(agent)) step.allocator({ op: 'addAgent', agentId: agent.id, total: agent.total, used: usedOn(step, agent) });
  registryPut(step, agent);
}

/**
 * DRAIN_AGENT: deactivate the agent and send it DRAIN_AGENT: the agent kills its tasks,
 * each with its own grace period capped by `maxGracePeriodMs`, and drops tasks that still
 * arrive (as Mesos's DrainSlaveMessage). With `markGone`, the agent is marked gone once
 * drained.
 */
export function drainAgent(step: Step, call: z.infer<typeof DrainAgent>): void {
  const agent = agentOf(step, call.agentId);
  deactivateAgent(step, agent.id);
  agent.draining = true;
  agent.goneWhenDrained = call.markGone === true;
  registryPut(step, agent);
  step.toAgent(agent.id, { type: 'DRAIN_AGENT', ...(call.maxGracePeriodMs !== undefined && { maxGracePeriodMs: call.maxGracePeriodMs }) });
  finishDrains(step);
}

/** Agents being drained whose tasks have all ended: drained; marked gone if asked. */
export function finishDrains(step: Step): void {
  for (const agent of step.state.agents.values()) {
    if (agent.draining !== true || agent.status === 'gone' || liveTasks(step, agent).length > 0) continue;
    if (agent.goneWhenDrained === true) markAgentGone(step, agent.id);
  }
}

/**
 * MARK_AGENT_GONE: the agent will never come back. Its live tasks become
 * TASK_GONE_BY_OPERATOR (LOST for frameworks that are not partition-aware), and it may
 * not register again.
 */
export function markAgentGone(step: Step, agentId: string): void {
  const agent = agentOf(step, agentId);
  const wasCounted = inAllocator(agent);
  agent.status = 'gone';
  agent.draining = false;
  for (const offerId of [...agent.offers]) rescindOffer(step, offerId, false);
  if (wasCounted) step.allocator({ op: 'removeAgent', agentId: agent.id });
  for (const task of liveTasks(step, agent)) {
    task.resourcesRecovered = true;
    const aware = isPartitionAware(step.state.frameworks.get(task.frameworkId));
    setTaskState(step, task, aware ? TaskState.GONE_BY_OPERATOR : TaskState.LOST, TaskReason.AGENT_REMOVED, `agent ${agent.id} was marked gone by an operator`);
  }
  registryPut(step, agent, { goneSince: step.now });
}

function usedOn(step: Step, agent: AgentRecord): Map<string, Resources> {
  const used = new Map<string, Resources>();
  for (const task of liveTasks(step, agent)) {
    const before = used.get(task.frameworkId);
    used.set(task.frameworkId, before === undefined ? task.resources : before.add(task.resources));
  }
  return used;
}
