/**
 * A harness for the agent's pure core: builds an AgentCore with deterministic ids and a
 * manual clock, plays the master, the executors and the updates stream (PubAcks and failed
 * publishes), and offers shorthands to pick the effects tests assert on. No NATS, no
 * processes.
 */
import { AgentCore, type AgentCoreOptions, type AgentEffect, type ExecutorCallResult, type ExecutorExit } from '../../actors/agent/core.js';
import type { AgentToMaster, MasterReplyToAgent, MasterToAgent } from '../../protocol/agent.js';
import type { ExecutorCall, ExecutorEvent } from '../../protocol/executor.js';
import { Resources } from '../../protocol/resources.js';
import type { FrameworkInfo, TaskInfo, TaskStatus } from '../../protocol/schema.js';
import { TaskSource, type TaskState } from '../../protocol/task-state.js';

/** The agent's id in the harness. */
export const AGENT_ID = 'a1';
/** The epoch the harness's master serves under. */
export const EPOCH = 5;
/** The heartbeat interval the harness's master asks for. */
export const HEARTBEAT_MS = 1000;
/** The longest pause between attempts to publish a status update, in the harness's agent. */
export const RETRY_MS = 500;
/** The longest registration backoff of the harness's agent. */
export const REGISTRATION_RETRY_MS = 2000;

/** A framework's description. */
export function framework(id = 'f1'): FrameworkInfo {
  return { id, name: id, principal: 'p', roles: ['*'], capabilities: [], failoverTimeoutSeconds: 0 };
}

/** A task for the harness's agent (or another, when `agentId` is given). */
export function task(taskId: string, extra: Partial<TaskInfo> = {}): TaskInfo {
  return {
    taskId,
    name: taskId,
    agentId: AGENT_ID,
    resources: Resources.parse('cpus:1;mem:128').toWire(),
    command: { value: 'sleep 1', environment: {} },
    ...extra,
  };
}

/** Drives an AgentCore and plays its master and executors. */
export class AgentHarness {
  readonly core: AgentCore;
  now = 1_000_000;
  private uuidSeq = 0;
  private runSeq = 0;
  private execSeq = 0;

  constructor(options: Partial<Omit<AgentCoreOptions, 'info' | 'ids'>> = {}) {
    this.core = new AgentCore({
      info: { id: AGENT_ID, hostname: 'a1.local', resources: Resources.parse('cpus:4;mem:4096').toWire(), attributes: { rack: 'r1' } },
      ids: { uuid: () => `au-${++this.uuidSeq}`, runId: () => `run-${++this.runSeq}` },
      updatePublishRetryMs: RETRY_MS,
      registrationRetryMs: REGISTRATION_RETRY_MS,
      ...options,
    });
  }

  /** Advances the clock by `ms` and ticks. */
  tick(ms = 0): AgentEffect[] {
    this.now += ms;
    return this.core.tick(this.now);
  }

  /** Feeds the reply to a message of type `type`. */
  reply(type: AgentToMaster['type'], reply: MasterReplyToAgent): AgentEffect[] {
    return this.core.onMasterReply(type, { ok: true, reply }, this.now);
  }

  /** Feeds the failure of a request of type `type` (a timeout, no responders). */
  noReply(type: AgentToMaster['type'], error = 'timeout'): AgentEffect[] {
    return this.core.onMasterReply(type, { ok: false, error }, this.now);
  }

  /** Ticks (which sends REGISTER_AGENT) and answers it AGENT_REGISTERED. */
  register(epoch = EPOCH, heartbeatIntervalMs = HEARTBEAT_MS): AgentEffect[] {
    const sent = toMaster(this.tick());
    if (!sent.some((m) => m.type === 'REGISTER_AGENT')) throw new Error(`tick sent no REGISTER_AGENT: ${JSON.stringify(sent)}`);
    return this.reply('REGISTER_AGENT', { type: 'AGENT_REGISTERED', epoch, agentId: AGENT_ID, masterId: `m-${epoch}`, heartbeatIntervalMs });
  }

  /** A message from the master, stamped with `epoch` unless it carries one. */
  master(message: DistributiveOmit<MasterToAgent, 'epoch'> & { epoch?: number }): AgentEffect[] {
    return this.core.onMasterMessage({ epoch: EPOCH, ...message } as MasterToAgent, this.now);
  }

  /** RUN_TASK for framework `frameworkId`. */
  runTask(taskId: string, frameworkId = 'f1', extra: Partial<TaskInfo> = {}, epoch = EPOCH): AgentEffect[] {
    return this.master({ type: 'RUN_TASK', epoch, frameworkId, framework: framework(frameworkId), task: task(taskId, extra) });
  }

  /** The updates stream acknowledged (PubAck) update `uuid` of `taskId`. */
  published(taskId: string, uuid: string): AgentEffect[] {
    return this.core.onUpdatePublished(taskId, uuid);
  }

  /** Publishing update `uuid` of `taskId` failed. */
  publishFailed(taskId: string, uuid: string, error = 'no PubAck'): AgentEffect[] {
    return this.core.onUpdatePublishFailed(taskId, uuid, error, this.now);
  }

  /** A call from an executor, on its own subject unless `principal` is given. */
  executor(call: ExecutorCall, principal?: string): ExecutorCallResult {
    return this.core.onExecutorCall(call, principal ?? call.executorId);
  }

  /** The executor SUBSCRIBEs (its id is its task's id). */
  subscribe(executorId: string, frameworkId = 'f1', unacknowledged: TaskStatus[] = []): ExecutorCallResult {
    return this.executor({ type: 'SUBSCRIBE', executorId, frameworkId, unacknowledged });
  }

  /** An executor status, as the command executor builds it; a fresh uuid unless given. */
  status(taskId: string, state: TaskState, uuid = `ex-${++this.execSeq}`, extra: Partial<TaskStatus> = {}): TaskStatus {
    return { taskId, state, agentId: AGENT_ID, executorId: taskId, source: TaskSource.EXECUTOR, uuid, timestamp: this.now / 1000, ...extra };
  }

  /** The executor of `taskId` sends an UPDATE. */
  update(taskId: string, state: TaskState, uuid?: string, frameworkId = 'f1', extra: Partial<TaskStatus> = {}): ExecutorCallResult {
    return this.executor({ type: 'UPDATE', executorId: taskId, frameworkId, status: this.status(taskId, state, uuid, extra) });
  }

  /** The executor process of `executorId` ended. */
  exited(executorId: string, exit: ExecutorExit = { exitCode: 0 }): AgentEffect[] {
    return this.core.onExecutorExited(executorId, exit, this.now);
  }

  /** Registers, runs `taskId` and lets its executor subscribe (LAUNCH sent). */
  launched(taskId: string, frameworkId = 'f1', extra: Partial<TaskInfo> = {}): void {
    if (!this.core.isRegistered) this.register();
    this.runTask(taskId, frameworkId, extra);
    const r = this.subscribe(taskId, frameworkId);
    if (!r.ok) throw new Error(`subscribe refused: ${r.reason}`);
  }

  /** The core's record of `taskId`, if it still holds one. */
  taskView(taskId: string) {
    return this.core.view().tasks.find((t) => t.taskId === taskId);
  }

  /** The core's record of executor `executorId`, if it still holds one. */
  executorView(executorId: string) {
    return this.core.view().executors.find((e) => e.executorId === executorId);
  }
}

/** `Omit` applied to each member of a union. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Messages sent to the master, in order. */
export function toMaster(effects: readonly AgentEffect[]): AgentToMaster[] {
  return effects.flatMap((e) => (e.kind === 'send-master' ? [e.message] : []));
}

/** Statuses of the updates published to the updates stream, in order. */
export function statusUpdates(effects: readonly AgentEffect[]): TaskStatus[] {
  return effects.flatMap((e) => (e.kind === 'publish-update' ? [e.status] : []));
}

/** Events published to executor `executorId`, in order. */
export function toExecutor(effects: readonly AgentEffect[], executorId: string): ExecutorEvent[] {
  return effects.flatMap((e) => (e.kind === 'send-executor' && e.executorId === executorId ? [e.message] : []));
}

/** Effects of one kind. */
export function ofKind<K extends AgentEffect['kind']>(effects: readonly AgentEffect[], kind: K): Array<Extract<AgentEffect, { kind: K }>> {
  return effects.filter((e): e is Extract<AgentEffect, { kind: K }> => e.kind === kind);
}

/** Log lines at `level`. */
export function logs(effects: readonly AgentEffect[], level: 'debug' | 'info' | 'warn' | 'error'): string[] {
  return ofKind(effects, 'log').flatMap((l) => (l.level === level ? [l.msg] : []));
}
