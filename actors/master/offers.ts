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
import { conversionOf, volumeIds, type Conversion, type ResourceOperation } from '../allocator/operations.js';
import { agentEntry } from './agents.js';
import type { Step } from './context.js';
import { addExecutor, checkExecutor, executorKey } from './executors.js';
import { applyConversion } from './reservations.js';
import { isPartitionAware, masterStatus } from './tasks.js';
import { inAllocator, taskKey, type FrameworkRecord, type OfferRecord, type TaskRecord } from './state.js';

/** One decision of the allocator: these resources of this agent go to this framework, for `role`. */
export interface Allocation {
  frameworkId: string;
  agentId: string;
  /** The role they are allocated to (default `*`). */
  role?: string;
  resources: Resources;
}

/**
 * Makes offers of the allocator's decisions and sends them, one OFFERS event per
 * framework (cut into bounded events by `boundOfferEvents`). Decisions for agents or
 * frameworks that went away meanwhile go back.
 */
export function makeOffers(step: Step, decisions: readonly Allocation[]): void {
  const byFramework = new Map<string, Offer[]>();
  for (const d of decisions) {
    const agent = step.state.agents.get(d.agentId);
    const framework = step.state.frameworks.get(d.frameworkId);
    const role = d.role ?? '*';
    if (!inAllocator(agent) || framework === undefined || !framework.connected || isSuppressed(framework, role)) {
      if (inAllocator(agent)) {
        step.allocator({ op: 'recoverResources', frameworkId: d.frameworkId, agentId: d.agentId, resources: d.resources, refuseSeconds: undefined, role });
      }
      continue;
    }
    const offer: OfferRecord = { id: step.newId('offer'), frameworkId: d.frameworkId, agentId: d.agentId, role, resources: d.resources, createdAtMs: step.now };
    step.state.offers.set(offer.id, offer);
    agent.offers.add(offer.id);
    framework.offers.add(offer.id);
    const list = byFramework.get(d.frameworkId) ?? [];
    list.push({ id: offer.id, frameworkId: d.frameworkId, agentId: d.agentId, role, hostname: agent.hostname, resources: d.resources.toWire(), attributes: agent.attributes });
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
    step.allocator({ op: 'recoverResources', frameworkId: offer.frameworkId, agentId: offer.agentId, resources: offer.resources, refuseSeconds, role: offer.role });
  }
}

/** Withdraws an offer and tells its framework (RESCIND). */
export function rescindOffer(step: Step, offerId: string, recover: boolean): void {
  const offer = step.state.offers.get(offerId);
  if (offer === undefined) return;
  removeOffer(step, offer, recover);
  step.toFramework(offer.frameworkId, { type: 'RESCIND', offerId });
}

/**
 * Rescinds the offers outstanding longer than the offer timeout; their resources are
 * offered again (no filter). Offers are kept in the order they were made, so the scan
 * stops at the first one still young.
 */
export function expireOffers(step: Step): void {
  const timeout = step.config.offerTimeoutMs;
  if (timeout <= 0) return;
  const expired: string[] = [];
  for (const offer of step.state.offers.values()) {
    if (step.now - offer.createdAtMs < timeout) break;
    expired.push(offer.id);
  }
  for (const id of expired) rescindOffer(step, id, true);
}

/** DECLINE: the offers' resources go back with a filter (default 5 s). Unknown offers are ignored. */
export function onDecline(step: Step, framework: FrameworkRecord, call: z.infer<typeof DeclineCall>): void {
  const refuse = call.filters?.refuseSeconds ?? step.config.defaultRefuseSeconds;
  for (const id of call.offerIds) {
    const offer = step.state.offers.get(id);
    if (offer !== undefined && offer.frameworkId === framework.id) removeOffer(step, offer, true, refuse);
  }
}

/** Publishes a master-made update for a task that was never launched (TASK_ERROR, TASK_DROPPED, TASK_LOST). */
function refuseTask(step: Step, framework: FrameworkRecord, task: TaskInfo, state: TaskState, reason: TaskReason, message: string): void {
  const status = masterStatus(step, { taskId: task.taskId, agentId: task.agentId }, state, reason, message);
  step.publishUpdate(framework.id, step.withUuid(status));
}

/**
 * ACCEPT: the offers must exist, belong to the framework and come from one agent; if not,
 * every task is DROPPED (LOST for frameworks that are not partition-aware). Each task
 * must have a fresh id, name the offers' agent, and use resources within what is left of
 * the offers; if not, it gets TASK_ERROR. Valid tasks are sent to the agent; what the
 * tasks do not use goes back to the allocator with the call's filter (default 5 s).
 */
export function onAccept(step: Step, framework: FrameworkRecord, call: z.infer<typeof AcceptCall>): void {
  const tasks = call.operations.flatMap((op) => (op.type === 'LAUNCH' || op.type === 'LAUNCH_GROUP' ? op.tasks : []));
  const offers: OfferRecord[] = [];
  let invalid: string | undefined;
  for (const id of new Set(call.offerIds)) {
    const offer = step.state.offers.get(id);
    if (offer === undefined) invalid = `offer ${id} is unknown, already used or rescinded`;
    else if (offer.frameworkId !== framework.id) invalid = `offer ${id} belongs to another framework`;
    else offers.push(offer);
  }
  if (invalid === undefined && new Set(offers.map((o) => o.agentId)).size > 1) invalid = 'offers of several agents cannot be accepted together';
  if (invalid === undefined && new Set(offers.map((o) => o.role)).size > 1) invalid = 'offers for several roles cannot be accepted together';

  if (invalid !== undefined) {
    for (const offer of offers) removeOffer(step, offer, true);
    const state = isPartitionAware(framework) ? TaskState.DROPPED : TaskState.LOST;
    for (const task of tasks) refuseTask(step, framework, task, state, TaskReason.INVALID_OFFERS, invalid);
    return;
  }

  const [first] = offers;
  if (first === undefined) return;
  const { agentId, role } = first;
  let remaining = Resources.empty();
  for (const offer of offers) {
    remaining = remaining.add(offer.resources);
    removeOffer(step, offer, false);
  }

  // Operations apply in order, each to what the ones before left.
  const idsInCall = new Set<string>();
  let used = Resources.empty();
  for (const op of call.operations) {
    if (op.type === 'LAUNCH_GROUP') {
      const before = remaining;
      remaining = launchGroup(step, framework, op, agentId, remaining, idsInCall, role);
      used = used.add(before.subtract(remaining));
      continue;
    }
    if (op.type !== 'LAUNCH') {
      remaining = applyOfferOperation(step, framework, agentId, role, remaining, op);
      continue;
    }
    for (const task of op.tasks) {
      const checked = validateTask(step, framework, task, agentId, remaining, idsInCall);
      idsInCall.add(task.taskId);
      const executor = typeof checked === 'string' ? checked : executorOf(step, framework, task, agentId, remaining.subtract(checked));
      if (typeof checked === 'string' || typeof executor === 'string') {
        refuseTask(step, framework, task, TaskState.ERROR, TaskReason.TASK_INVALID, typeof checked === 'string' ? checked : (executor as string));
        continue;
      }
      remaining = remaining.subtract(checked).subtract(executor);
      used = used.add(checked).add(executor);
      const agent = step.state.agents.get(agentId);
      if (task.executor !== undefined && agent !== undefined && !agent.executors?.has(executorKey(framework.id, task.executor.executorId))) {
        addExecutor(agent, { frameworkId: framework.id, info: task.executor, resources: executor, role });
      }
      launch(step, framework, task, checked, role);
    }
  }

  if (!used.isEmpty()) step.allocator({ op: 'offerAccepted', frameworkId: framework.id, agentId, resources: used, role });
  if (!remaining.isEmpty()) {
    step.allocator({
      op: 'recoverResources',
      frameworkId: framework.id,
      agentId,
      resources: remaining,
      refuseSeconds: call.filters?.refuseSeconds ?? step.config.defaultRefuseSeconds,
      role,
    });
  }
}

/**
 * RESERVE / UNRESERVE / CREATE / DESTROY of an ACCEPT: checked against what the offers have
 * left and the offer's role, applied to the agent's total (and the registry) and to the
 * allocator. A refused operation changes nothing; the master logs why (Mesos drops it too).
 * Returns what is left afterwards.
 */
function applyOfferOperation(
  step: Step,
  framework: FrameworkRecord,
  agentId: string,
  role: string,
  remaining: Resources,
  op: Exclude<z.infer<typeof AcceptCall>['operations'][number], { type: 'LAUNCH' | 'LAUNCH_GROUP' }>,
): Resources {
  const agent = step.state.agents.get(agentId);
  if (agent === undefined) return remaining;
  let operation: ResourceOperation;
  let conversion: Conversion;
  try {
    operation = op.type === 'RESERVE' || op.type === 'UNRESERVE' ? { type: op.type, resources: Resources.fromWire(op.resources) } : { type: op.type, volumes: Resources.fromWire(op.volumes) };
    conversion = conversionOf(operation);
  } catch (e) {
    step.log('warn', `refused ${op.type} of framework ${framework.id}: ${e instanceof Error ? e.message : String(e)}`);
    return remaining;
  }
  const foreignRole = conversion.to.roles().concat(conversion.from.roles()).find((r) => r !== '*' && r !== role && !role.startsWith(`${r}/`));
  if (foreignRole !== undefined) {
    step.log('warn', `refused ${op.type} of framework ${framework.id}: role ${foreignRole} is not the offer's role ${role}`);
    return remaining;
  }
  if (!remaining.contains(conversion.from)) {
    step.log('warn', `refused ${op.type} of framework ${framework.id}: the offers do not hold ${conversion.from.toString()}`);
    return remaining;
  }
  if (operation.type === 'CREATE') {
    const ids = volumeIds(operation.volumes);
    const taken = new Set(volumeIds(agent.total));
    if (new Set(ids).size !== ids.length || ids.some((id) => taken.has(id))) {
      step.log('warn', `refused CREATE of framework ${framework.id}: volume ids ${ids.join(', ')} are not distinct and new on agent ${agentId}`);
      return remaining;
    }
  }
  const checkpointed = applyConversion(agent, conversion);
  agent.checkpointed = checkpointed;
  step.registry({ op: 'put-agent', agent: agentEntry(agent.info, agent.registeredAtMs, checkpointed, agent.deactivated === true) });
  step.allocator({ op: 'applyOperation', agentId, operation, frameworkId: framework.id, role });
  step.toAgent(agentId, { type: 'CHECKPOINT_RESOURCES', resources: checkpointed.toWire() });
  return remaining.subtract(conversion.from).add(conversion.to);
}

/** True when the framework suppressed offers for `role` (or for all its roles). */
function isSuppressed(framework: FrameworkRecord, role: string): boolean {
  return framework.suppressed || framework.suppressedRoles.has(role);
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
 * The resources a task's custom executor takes from the offers besides the task's own: its
 * own when it is new on the agent (they must fit what is left), none when it runs already
 * (then its description must be the same), none for a task without one. Or why the task
 * is invalid.
 */
function executorOf(step: Step, framework: FrameworkRecord, task: TaskInfo, agentId: string, left: Resources): Resources | string {
  if (task.executor === undefined) return Resources.empty();
  const check = checkExecutor(step.state.agents.get(agentId), framework.id, task.executor);
  if (typeof check === 'string') return check;
  if (!left.contains(check.resources)) {
    return `task and its new executor ${task.executor.executorId} use more resources than the offers have left (executor: ${check.resources.toString()}, left after the task: ${left.toString()})`;
  }
  return check.resources;
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
  role: string,
): Resources {
  let left = remaining;
  const checked: Resources[] = [];
  let problem: string | undefined;
  for (const task of op.tasks) {
    const found = validateTask(step, framework, task, agentId, left, idsInCall);
    const result = task.executor === undefined ? found : 'a task of a group runs in the group\'s default executor: it may not name an executor (TaskInfo.executor)';
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
  op.tasks.forEach((task, i) => launch(step, framework, task, checked[i] ?? Resources.empty(), role, false));
  step.toAgent(agentId, { type: 'RUN_TASK_GROUP', frameworkId: framework.id, framework: framework.info, executorId: op.executorId, tasks: op.tasks });
  return left;
}

/** Records a valid task as STAGING and (unless it belongs to a group, sent whole) sends it to its agent. */
function launch(step: Step, framework: FrameworkRecord, info: TaskInfo, resources: Resources, role: string, send = true): void {
  const key = taskKey(framework.id, info.taskId);
  const task: TaskRecord = {
    frameworkId: framework.id,
    agentId: info.agentId,
    info,
    resources,
    state: TaskState.STAGING,
    status: undefined,
    lastUpdateSeq: undefined,
    resourcesRecovered: false,
    role,
  };
  step.state.tasks.set(key, task);
  framework.tasks.add(key);
  step.state.agents.get(info.agentId)?.tasks.add(key);
  if (send) step.toAgent(info.agentId, { type: 'RUN_TASK', frameworkId: framework.id, framework: framework.info, task: info });
}
