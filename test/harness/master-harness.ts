/**
 * A harness for the master's pure core: builds a core with a fixed config, deterministic
 * ids and a manual clock, and offers shorthands for the inputs tests send.
 */
import { MasterCore } from '../../actors/master/core.js';
import { DEFAULT_MASTER_CONFIG } from '../../actors/master/context.js';
import type { MasterEffect } from '../../actors/master/effects.js';
import type { AgentToMaster } from '../../protocol/agent.js';
import type { OperatorApiCall } from '../../protocol/operator-api.js';
import { Resources } from '../../protocol/resources.js';
import type { SchedulerCall, SchedulerEvent } from '../../protocol/scheduler.js';
import type { FrameworkCapability, TaskInfo, TaskStatus } from '../../protocol/schema.js';
import { TaskSource, type TaskState } from '../../protocol/task-state.js';
import type { StoredStatus } from '../../protocol/updates.js';
import { Rejection } from '../../actors/runtime/actor.js';

/** The epoch the harness's master serves under. */
export const EPOCH = 7;

/** Drives a MasterCore and records what it produced. */
export class MasterHarness {
  readonly core: MasterCore;
  now = 1_000_000;
  private seq = 0;
  /** Stream sequence of the last update fed through `update`. */
  streamSeq = 0;

  constructor() {
    this.core = new MasterCore({ ...DEFAULT_MASTER_CONFIG, masterId: 'm1', epoch: EPOCH }, (prefix) => `${prefix}-${++this.seq}`);
  }

  /** Sends an agent message, as the agent itself unless `principal` is given. */
  agent(msg: AgentToMaster, principal?: string) {
    const who = principal ?? (msg.type === 'REGISTER_AGENT' ? msg.agent.id : msg.agentId);
    return this.core.onAgentMessage(msg, who, this.now);
  }

  /** Registers an agent with the given resources. */
  registerAgent(id: string, resources = 'cpus:4;mem:4096') {
    return this.agent({
      type: 'REGISTER_AGENT',
      agent: { id, hostname: `${id}.local`, resources: Resources.parse(resources).toWire(), attributes: {} },
      tasks: [],
    });
  }

  /** Sends a scheduler call as `principal` (default "p"). */
  call(call: SchedulerCall, principal = 'p') {
    return this.core.onSchedulerCall(call, principal, this.now);
  }

  /** Makes an operator API call now. */
  operator(call: OperatorApiCall) {
    return this.core.onOperatorCall(call, this.now);
  }

  /** Subscribes a framework. */
  subscribe(id: string, capabilities: FrameworkCapability[] = [], failoverTimeoutSeconds = 0) {
    return this.call({
      type: 'SUBSCRIBE',
      framework: { id, name: id, principal: 'p', roles: ['*'], capabilities, failoverTimeoutSeconds },
    });
  }

  /** Feeds an allocator decision and returns the id of the single offer made. */
  offer(frameworkId: string, agentId: string, resources = 'cpus:4;mem:4096'): { offerId: string; effects: MasterEffect[] } {
    const effects = this.core.onAllocations([{ frameworkId, agentId, resources: Resources.parse(resources) }], this.now);
    const ev = events(effects, frameworkId).find((e) => e.type === 'OFFERS');
    const offerId = ev?.type === 'OFFERS' ? ev.offers[0]?.id : undefined;
    if (offerId === undefined) throw new Error('no offer was made');
    return { offerId, effects };
  }

  /** Launches one task through ACCEPT. */
  launch(frameworkId: string, offerId: string, task: Partial<TaskInfo> & { taskId: string; agentId: string }, refuseSeconds?: number) {
    const info: TaskInfo = { name: task.taskId, resources: Resources.parse('cpus:1;mem:128').toWire(), command: { value: 'true', environment: {} }, ...task };
    return this.call({
      type: 'ACCEPT',
      frameworkId,
      offerIds: [offerId],
      operations: [{ type: 'LAUNCH', tasks: [info] }],
      ...(refuseSeconds !== undefined && { filters: { refuseSeconds } }),
    });
  }

  /** Feeds a status update as the master's consumer reads it from the updates stream (next sequence unless given). */
  update(agentId: string, frameworkId: string, taskId: string, state: TaskState, uuid = `u-${++this.seq}`, seq = ++this.streamSeq) {
    const status: StoredStatus = { taskId, state, agentId, executorId: taskId, source: TaskSource.EXECUTOR, uuid, timestamp: this.now / 1000 };
    this.streamSeq = Math.max(this.streamSeq, seq);
    return { uuid, seq, effects: this.core.onStatusUpdate(frameworkId, status, seq, this.now) };
  }
}

/** Events sent to one framework, in order. */
export function events(effects: readonly MasterEffect[], frameworkId: string): SchedulerEvent[] {
  return effects.flatMap((e) => (e.kind === 'to-framework' && e.frameworkId === frameworkId ? [e.message] : []));
}

/** Messages sent to one agent, in order. */
export function toAgent(effects: readonly MasterEffect[], agentId: string) {
  return effects.flatMap((e) => (e.kind === 'to-agent' && e.agentId === agentId ? [e.message] : []));
}

/** Allocator calls, in order. */
export function allocatorCalls(effects: readonly MasterEffect[]) {
  return effects.flatMap((e) => (e.kind === 'allocator' ? [e.call] : []));
}

/** The statuses of UPDATE events to one framework (reconciliation answers, kills of unknown tasks). */
export function updates(effects: readonly MasterEffect[], frameworkId: string): TaskStatus[] {
  return events(effects, frameworkId).flatMap((e) => (e.type === 'UPDATE' ? [e.status] : []));
}

/** The statuses of the master's own updates published to the updates stream for one framework. */
export function published(effects: readonly MasterEffect[], frameworkId: string): StoredStatus[] {
  return effects.flatMap((e) => (e.kind === 'publish-update' && e.frameworkId === frameworkId ? [e.status] : []));
}

/** Operations on framework consumers of the updates stream, in order. */
export function consumerOps(effects: readonly MasterEffect[]): string[] {
  return effects.flatMap((e) => (e.kind === 'framework-consumer' ? [`${e.op} ${e.frameworkId}`] : []));
}

/** The Rejection `fn` throws (fails the test if it throws none, or throws something else). */
export function rejection(fn: () => unknown): Rejection {
  try {
    fn();
  } catch (e) {
    if (e instanceof Rejection) return e;
    throw e;
  }
  throw new Error('expected a Rejection');
}
