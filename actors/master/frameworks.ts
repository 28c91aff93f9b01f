/**
 * Frameworks in the master: SUBSCRIBE (new or failing over), heartbeats that detect a
 * framework that went away, failover timeouts, TEARDOWN, SUPPRESS/REVIVE and messages to
 * executors.
 */
import type { z } from 'zod';
import { Resources } from '../../protocol/resources.js';
import type { MessageCall, SubscribeCall } from '../../protocol/scheduler.js';
import type { FrameworkInfo } from '../../protocol/schema.js';
import { TaskReason, TaskState, isTerminal } from '../../protocol/task-state.js';
import { validateRole } from '../allocator/roles.js';
import { Rejection } from '../runtime/actor.js';
import type { Step } from './context.js';
import { removeOffer } from './offers.js';
import { completeTask, masterStatus } from './tasks.js';
import type { FrameworkRecord } from './state.js';
import { recordStatus } from './task-history.js';

/** Finds the subscribed framework a call is for, checking that `principal` owns it. */
export function callerFramework(step: Step, frameworkId: string, principal: string): FrameworkRecord {
  const framework = step.state.frameworks.get(frameworkId);
  if (framework === undefined) {
    throw new Rejection('NOT_SUBSCRIBED', `framework ${frameworkId} is not subscribed: send SUBSCRIBE first`);
  }
  if (framework.info.principal !== principal) {
    throw new Rejection('WRONG_PRINCIPAL', `framework ${frameworkId} belongs to principal ${framework.info.principal}, not ${principal}`);
  }
  return framework;
}

/**
 * SUBSCRIBE: registers a new framework, or resubscribes a known one (same principal): it
 * is reconnected, its outstanding offers are withdrawn (new ones follow), and SUBSCRIBED
 * is sent.
 */
export function onSubscribe(step: Step, call: z.infer<typeof SubscribeCall>, principal: string): void {
  const info = call.framework;
  if (info.principal !== principal) {
    throw new Rejection('WRONG_PRINCIPAL', `framework declares principal ${info.principal} but calls as ${principal}`);
  }
  for (const role of info.roles) {
    try {
      validateRole(role);
    } catch (e) {
      throw new Rejection('INVALID', e instanceof Error ? e.message : String(e));
    }
  }
  if (info.roles.length > 1 && !info.capabilities.includes('MULTI_ROLE')) {
    throw new Rejection('INVALID', `framework subscribes with ${info.roles.length} roles: declare the MULTI_ROLE capability`);
  }
  const known = step.state.frameworks.get(info.id);
  if (known !== undefined) {
    if (known.info.principal !== principal) {
      throw new Rejection('WRONG_PRINCIPAL', `framework ${info.id} belongs to principal ${known.info.principal}`);
    }
    if (!sameInfo(known.info, info)) step.registry({ op: 'put-framework', framework: { info, registeredAt: known.registeredAtMs } });
    if (JSON.stringify(known.info.roles) !== JSON.stringify(info.roles)) {
      step.allocator({ op: 'updateFramework', frameworkId: known.id, roles: info.roles });
    }
    known.info = info;
    for (const offerId of [...known.offers]) {
      const offer = step.state.offers.get(offerId);
      if (offer !== undefined) removeOffer(step, offer, true);
    }
    if (!known.connected) step.allocator({ op: 'activateFramework', frameworkId: known.id });
    known.connected = true;
    known.disconnectedAtMs = undefined;
    known.failoverDeadlineMs = undefined;
    known.missedHeartbeats = 0;
    known.lastHeartbeatMs = step.now;
  } else {
    const framework: FrameworkRecord = {
      id: info.id,
      info,
      connected: true,
      disconnectedAtMs: undefined,
      failoverDeadlineMs: undefined,
      missedHeartbeats: 0,
      lastHeartbeatMs: step.now,
      registeredAtMs: step.now,
      suppressed: false,
      suppressedRoles: new Set(),
      tasks: new Set(),
      offers: new Set(),
    };
    step.state.frameworks.set(framework.id, framework);
    const used = new Map<string, Resources>();
    for (const [key, task] of step.state.tasks) {
      if (task.frameworkId !== framework.id) continue;
      framework.tasks.add(key); // tasks agents reported before the framework came back
      if (!isTerminal(task.state)) used.set(task.agentId, (used.get(task.agentId) ?? Resources.empty()).add(task.resources));
    }
    step.allocator({ op: 'addFramework', frameworkId: framework.id, roles: info.roles, suppressed: false, used });
    step.registry({ op: 'put-framework', framework: { info, registeredAt: step.now } });
  }
  // The framework's consumer normally exists already (the SDK creates it before SUBSCRIBE);
  // ensuring it here too repairs a race with its deletion by an earlier removal.
  step.frameworkConsumer('ensure', info.id);
  step.toFramework(info.id, {
    type: 'SUBSCRIBED',
    frameworkId: info.id,
    masterId: step.config.masterId,
    heartbeatIntervalSeconds: step.config.frameworkHeartbeatIntervalSeconds,
  });
}

/**
 * Removes a framework: its agents shut its tasks down, its offers and allocations return,
 * its tasks are recorded as KILLED (reason FRAMEWORK_REMOVED; no update is sent: the
 * framework is gone), and its consumer of the updates stream is deleted with whatever it
 * had not read.
 */
export function removeFramework(step: Step, framework: FrameworkRecord, why: string): void {
  const agents = new Set<string>();
  for (const key of [...framework.tasks]) {
    const task = step.state.tasks.get(key);
    if (task === undefined) continue;
    if (!isTerminal(task.state)) {
      agents.add(task.agentId);
      task.state = TaskState.KILLED;
      recordStatus(task, masterStatus(step, { taskId: task.info.taskId, agentId: task.agentId }, TaskState.KILLED, TaskReason.FRAMEWORK_REMOVED, why));
    }
    task.resourcesRecovered = true;
    completeTask(step, task);
  }
  // Agents where its custom executors run get it too (they shut them down), tasks or not.
  for (const agent of step.state.agents.values()) {
    for (const e of agent.executors?.values() ?? []) if (e.frameworkId === framework.id) agents.add(agent.id);
  }
  for (const agentId of agents) {
    if (step.state.agents.get(agentId)?.status === 'active') step.toAgent(agentId, { type: 'SHUTDOWN_FRAMEWORK', frameworkId: framework.id });
  }
  for (const offerId of [...framework.offers]) {
    const offer = step.state.offers.get(offerId);
    if (offer !== undefined) removeOffer(step, offer, false);
  }
  step.allocator({ op: 'removeFramework', frameworkId: framework.id });
  step.state.frameworks.delete(framework.id);
  step.registry({ op: 'delete-framework', frameworkId: framework.id });
  step.frameworkConsumer('delete', framework.id);
}

/** True when two framework infos are the same (so the registry need not be written). */
function sameInfo(a: FrameworkInfo, b: FrameworkInfo): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * A framework from the registry after a failover: known, not connected, no offers, its
 * failover timeout (at least `frameworkReregisterTimeoutMs`) counting from now. Tasks the
 * agents report for it attach to it as they arrive.
 */
export function recoverFramework(step: Step, info: FrameworkInfo, registeredAt: number): void {
  if (step.state.frameworks.has(info.id)) return;
  const grace = Math.max(info.failoverTimeoutSeconds * 1000, step.config.frameworkReregisterTimeoutMs);
  step.state.frameworks.set(info.id, {
    id: info.id,
    info,
    connected: false,
    disconnectedAtMs: step.now,
    failoverDeadlineMs: step.now + grace,
    missedHeartbeats: 0,
    lastHeartbeatMs: step.now,
    registeredAtMs: registeredAt,
    suppressed: false,
    suppressedRoles: new Set(),
    tasks: new Set(),
    offers: new Set(),
  });
  step.allocator({ op: 'addFramework', frameworkId: info.id, roles: info.roles, suppressed: false, used: new Map() });
  step.allocator({ op: 'deactivateFramework', frameworkId: info.id });
}

/** The framework stopped answering: no more offers, outstanding ones return, its failover timeout starts. */
function disconnect(step: Step, framework: FrameworkRecord): void {
  framework.connected = false;
  framework.disconnectedAtMs = step.now;
  framework.failoverDeadlineMs = step.now + framework.info.failoverTimeoutSeconds * 1000;
  for (const offerId of [...framework.offers]) {
    const offer = step.state.offers.get(offerId);
    if (offer !== undefined) removeOffer(step, offer, true);
  }
  step.allocator({ op: 'deactivateFramework', frameworkId: framework.id });
}

/** Outcome of a HEARTBEAT request: answered, or not (timeout or no responders). */
export function onFrameworkHeartbeatResult(step: Step, frameworkId: string, answered: boolean): void {
  const framework = step.state.frameworks.get(frameworkId);
  if (framework === undefined || !framework.connected) return;
  if (answered) {
    framework.missedHeartbeats = 0;
    return;
  }
  framework.missedHeartbeats += 1;
  if (framework.missedHeartbeats >= step.config.maxMissedFrameworkHeartbeats) disconnect(step, framework);
}

/** Sends due heartbeats, and removes frameworks whose failover timeout ran out. */
export function checkFrameworks(step: Step): void {
  const interval = step.config.frameworkHeartbeatIntervalSeconds * 1000;
  for (const framework of [...step.state.frameworks.values()]) {
    if (framework.connected) {
      if (step.now - framework.lastHeartbeatMs >= interval) {
        framework.lastHeartbeatMs = step.now;
        step.effects.push({ kind: 'heartbeat-framework', frameworkId: framework.id, message: { type: 'HEARTBEAT', epoch: step.config.epoch } });
      }
      continue;
    }
    if (step.now >= (framework.failoverDeadlineMs ?? step.now)) {
      removeFramework(step, framework, `framework did not come back within its failover timeout of ${framework.info.failoverTimeoutSeconds} s`);
    }
  }
}

/** SUPPRESS: no offers (for `roles`, default all of the framework's) until REVIVE. */
export function onSuppress(step: Step, framework: FrameworkRecord, roles?: string[]): void {
  checkRoles(framework, roles);
  if (roles === undefined || roles.length === 0) framework.suppressed = true;
  else for (const role of roles) framework.suppressedRoles.add(role);
  step.allocator({ op: 'suppress', frameworkId: framework.id, ...(roles !== undefined && roles.length > 0 && { roles }) });
}

/** REVIVE: offers resume (for `roles`, default all) and the framework's filters are cleared. */
export function onRevive(step: Step, framework: FrameworkRecord, roles?: string[]): void {
  checkRoles(framework, roles);
  if (roles === undefined || roles.length === 0) {
    framework.suppressed = false;
    framework.suppressedRoles.clear();
  } else for (const role of roles) framework.suppressedRoles.delete(role);
  step.allocator({ op: 'revive', frameworkId: framework.id, ...(roles !== undefined && roles.length > 0 && { roles }) });
}

function checkRoles(framework: FrameworkRecord, roles: string[] | undefined): void {
  const unknown = (roles ?? []).filter((r) => !framework.info.roles.includes(r));
  if (unknown.length > 0) {
    throw new Rejection('INVALID', `framework ${framework.id} did not subscribe with role(s) ${unknown.join(', ')}; its roles are ${framework.info.roles.join(', ')}`);
  }
}

/** MESSAGE: bytes for one of the framework's executors, through its agent. */
export function onMessage(step: Step, framework: FrameworkRecord, call: z.infer<typeof MessageCall>): void {
  const agent = step.state.agents.get(call.agentId);
  if (agent === undefined || agent.status !== 'active') throw new Rejection('UNKNOWN_AGENT', `agent ${call.agentId} is not registered`);
  step.toAgent(call.agentId, { type: 'FRAMEWORK_TO_EXECUTOR', frameworkId: framework.id, executorId: call.executorId, data: call.data });
}
