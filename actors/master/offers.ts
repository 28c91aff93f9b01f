/**
 * Offers in the master: turning the allocator's decisions into OFFERS events, ACCEPT
 * (validating every LAUNCH against the offers, as Mesos's master does), DECLINE, and
 * rescinding.
 */
import type { z } from 'zod';
import { Resources } from '../../protocol/resources.js';
import type { AcceptCall, DeclineCall } from '../../protocol/scheduler.js';
import type { Offer, TaskInfo } from '../../protocol/schema.js';
import { TaskReason, TaskState } from '../../protocol/task-state.js';
import type { Step } from './context.js';
import { isPartitionAware, masterStatus } from './tasks.js';
import { taskKey, type FrameworkRecord, type OfferRecord, type TaskRecord } from './state.js';

/** One decision of the allocator: these resources of this agent go to this framework. */
export interface Allocation {
  frameworkId: string;
  agentId: string;
  resources: Resources;
}

/**
 * Makes offers of the allocator's decisions and sends them, one OFFERS event per
 * framework. Decisions for agents or frameworks that went away meanwhile go back.
 */
export function makeOffers(step: Step, decisions: readonly Allocation[]): void {
  const byFramework = new Map<string, Offer[]>();
  for (const d of decisions) {
    const agent = step.state.agents.get(d.agentId);
    const framework = step.state.frameworks.get(d.frameworkId);
    if (agent === undefined || agent.status !== 'active' || framework === undefined || !framework.connected || framework.suppressed) {
      if (agent?.status === 'active') {
        step.allocator({ op: 'recoverResources', frameworkId: d.frameworkId, agentId: d.agentId, resources: d.resources, refuseSeconds: undefined });
      }
      continue;
    }
    const offer: OfferRecord = { id: step.newId('offer'), frameworkId: d.frameworkId, agentId: d.agentId, resources: d.resources, createdAtMs: step.now };
    step.state.offers.set(offer.id, offer);
    agent.offers.add(offer.id);
    framework.offers.add(offer.id);
    const list = byFramework.get(d.frameworkId) ?? [];
    list.push({ id: offer.id, frameworkId: d.frameworkId, agentId: d.agentId, hostname: agent.hostname, resources: d.resources.toWire(), attributes: agent.attributes });
    byFramework.set(d.frameworkId, list);
  }
  for (const [frameworkId, offers] of byFramework) step.toFramework(frameworkId, { type: 'OFFERS', offers });
}

/** Forgets an offer. With `recover`, its resources go back to the allocator (no filter). */
export function removeOffer(step: Step, offer: OfferRecord, recover: boolean, refuseSeconds?: number): void {
  step.state.offers.delete(offer.id);
  step.state.agents.get(offer.agentId)?.offers.delete(offer.id);
  step.state.frameworks.get(offer.frameworkId)?.offers.delete(offer.id);
  if (recover) {
    step.allocator({ op: 'recoverResources', frameworkId: offer.frameworkId, agentId: offer.agentId, resources: offer.resources, refuseSeconds });
  }
}

/** Withdraws an offer and tells its framework (RESCIND). */
export function rescindOffer(step: Step, offerId: string, recover: boolean): void {
  const offer = step.state.offers.get(offerId);
  if (offer === undefined) return;
  removeOffer(step, offer, recover);
  step.toFramework(offer.frameworkId, { type: 'RESCIND', offerId });
}

/** DECLINE: the offers' resources go back with a filter (default 5 s). Unknown offers are ignored. */
export function onDecline(step: Step, framework: FrameworkRecord, call: z.infer<typeof DeclineCall>): void {
  const refuse = call.filters?.refuseSeconds ?? step.config.defaultRefuseSeconds;
  for (const id of call.offerIds) {
    const offer = step.state.offers.get(id);
    if (offer !== undefined && offer.frameworkId === framework.id) removeOffer(step, offer, true, refuse);
  }
}

/** Sends a master-made update for a task that was never launched. */
function refuseTask(step: Step, framework: FrameworkRecord, task: TaskInfo, state: TaskState, reason: TaskReason, message: string): void {
  const status = masterStatus(step, { taskId: task.taskId, agentId: task.agentId }, state, reason, message);
  step.toFramework(framework.id, { type: 'UPDATE', status });
}

/**
 * ACCEPT: the offers must exist, belong to the framework and come from one agent; if not,
 * every task is DROPPED (LOST for frameworks that are not partition-aware). Each task
 * must have a fresh id, name the offers' agent, and use resources within what is left of
 * the offers; if not, it gets TASK_ERROR. Valid tasks are sent to the agent; what the
 * tasks do not use goes back to the allocator with the call's filter (default 5 s).
 */
export function onAccept(step: Step, framework: FrameworkRecord, call: z.infer<typeof AcceptCall>): void {
  const tasks = call.operations.flatMap((op) => op.tasks);
  const offers: OfferRecord[] = [];
  let invalid: string | undefined;
  for (const id of new Set(call.offerIds)) {
    const offer = step.state.offers.get(id);
    if (offer === undefined) invalid = `offer ${id} is unknown, already used or rescinded`;
    else if (offer.frameworkId !== framework.id) invalid = `offer ${id} belongs to another framework`;
    else offers.push(offer);
  }
  const agentIds = new Set(offers.map((o) => o.agentId));
  if (invalid === undefined && agentIds.size > 1) invalid = 'offers of several agents cannot be accepted together';

  if (invalid !== undefined) {
    for (const offer of offers) removeOffer(step, offer, true);
    const state = isPartitionAware(framework) ? TaskState.DROPPED : TaskState.LOST;
    for (const task of tasks) refuseTask(step, framework, task, state, TaskReason.INVALID_OFFERS, invalid);
    return;
  }

  const [first] = offers;
  if (first === undefined) return;
  const agentId = first.agentId;
  let remaining = Resources.empty();
  for (const offer of offers) {
    remaining = remaining.add(offer.resources);
    removeOffer(step, offer, false);
  }

  const idsInCall = new Set<string>();
  for (const op of call.operations) {
    if (op.type === 'LAUNCH_GROUP') {
      remaining = launchGroup(step, framework, op, agentId, remaining, idsInCall);
      continue;
    }
    for (const task of op.tasks) {
      const checked = validateTask(step, framework, task, agentId, remaining, idsInCall);
      idsInCall.add(task.taskId);
      if (typeof checked === 'string') {
        refuseTask(step, framework, task, TaskState.ERROR, TaskReason.TASK_INVALID, checked);
        continue;
      }
      remaining = remaining.subtract(checked);
      launch(step, framework, task, checked);
    }
  }

  if (!remaining.isEmpty()) {
    step.allocator({
      op: 'recoverResources',
      frameworkId: framework.id,
      agentId,
      resources: remaining,
      refuseSeconds: call.filters?.refuseSeconds ?? step.config.defaultRefuseSeconds,
    });
  }
}

/** Checks one task of an ACCEPT; returns its resources, or why it is invalid. */
function validateTask(
  step: Step,
  framework: FrameworkRecord,
  task: TaskInfo,
  agentId: string,
  remaining: Resources,
  idsInCall: ReadonlySet<string>,
): Resources | string {
  const key = taskKey(framework.id, task.taskId);
  if (idsInCall.has(task.taskId) || step.state.tasks.has(key) || step.state.completedTasks.has(key)) {
    return `task id ${task.taskId} is already used by this framework`;
  }
  if (task.agentId !== agentId) return `task names agent ${task.agentId} but the offers are of agent ${agentId}`;
  let resources: Resources;
  try {
    resources = Resources.fromWire(task.resources);
  } catch (e) {
    return `task resources are invalid: ${e instanceof Error ? e.message : String(e)}`;
  }
  if (resources.scalar('cpus') <= 0 && resources.scalar('mem') <= 0) return 'task must use some cpus or mem';
  if (!remaining.contains(resources)) {
    return `task uses more resources (${resources.toString()}) than the offers have left (${remaining.toString()})`;
  }
  return resources;
}

/**
 * LAUNCH_GROUP: every task is checked as for LAUNCH; if any is invalid, all get TASK_ERROR
 * (a group is atomic). Otherwise all are recorded and sent in one RUN_TASK_GROUP. Returns
 * what is left of the offers.
 */
function launchGroup(
  step: Step,
  framework: FrameworkRecord,
  op: Extract<z.infer<typeof AcceptCall>['operations'][number], { type: 'LAUNCH_GROUP' }>,
  agentId: string,
  remaining: Resources,
  idsInCall: Set<string>,
): Resources {
  let left = remaining;
  const checked: Resources[] = [];
  let problem: string | undefined;
  for (const task of op.tasks) {
    const result = validateTask(step, framework, task, agentId, left, idsInCall);
    idsInCall.add(task.taskId);
    if (typeof result === 'string') {
      problem ??= `task ${task.taskId} of the group: ${result}`;
      continue;
    }
    left = left.subtract(result);
    checked.push(result);
  }
  if (problem !== undefined) {
    for (const task of op.tasks) refuseTask(step, framework, task, TaskState.ERROR, TaskReason.TASK_INVALID, `Task group invalid: ${problem}`);
    return remaining;
  }
  op.tasks.forEach((task, i) => launch(step, framework, task, checked[i] ?? Resources.empty(), false));
  step.toAgent(agentId, { type: 'RUN_TASK_GROUP', frameworkId: framework.id, framework: framework.info, executorId: op.executorId, tasks: op.tasks });
  return left;
}

/** Records a valid task as STAGING and (unless it belongs to a group, sent whole) sends it to its agent. */
function launch(step: Step, framework: FrameworkRecord, info: TaskInfo, resources: Resources, send = true): void {
  const key = taskKey(framework.id, info.taskId);
  const task: TaskRecord = {
    frameworkId: framework.id,
    agentId: info.agentId,
    info,
    resources,
    state: TaskState.STAGING,
    status: undefined,
    resourcesRecovered: false,
  };
  step.state.tasks.set(key, task);
  framework.tasks.add(key);
  step.state.agents.get(info.agentId)?.tasks.add(key);
  if (send) step.toAgent(info.agentId, { type: 'RUN_TASK', frameworkId: framework.id, framework: framework.info, task: info });
}
