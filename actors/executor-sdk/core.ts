/**
 * The executor SDK's pure core: the tasks the agent gave this executor, the state each was
 * last reported in, and the updates not yet acknowledged. An update gets a fresh uuid, is
 * checked against the task lifecycle (an illegal move is refused before it is sent), and
 * is due again every `resendMs` until the agent ACKNOWLEDGEs it (the agent acknowledges
 * once the updates stream holds it). No NATS, no clock, no randomness.
 */
import type { TaskInfo, TaskStatus } from '../../protocol/schema.js';
import { canTransition } from '../../protocol/task-lifecycle.js';
import { TaskSource, TaskState, isTerminal } from '../../protocol/task-state.js';

/** What a custom executor may set on an update besides the state. */
export type UpdateDetails = Partial<Pick<TaskStatus, 'message' | 'reason' | 'healthy' | 'exitCode' | 'signal'>>;

/** Options of the core. */
export interface ExecutorSdkCoreOptions {
  agentId: string;
  executorId: string;
  /** Fresh uuids (crypto.randomUUID in the shell). */
  uuid: () => string;
  /** Resend an unacknowledged update after this long. */
  resendMs: number;
}

/** The outcome of `update`: the status to send, or why not. */
export type UpdateResult = { ok: true; status: TaskStatus } | { ok: false; problem: string };

/** Bookkeeping of one custom executor. */
export class ExecutorSdkCore {
  private readonly options: ExecutorSdkCoreOptions;
  private readonly tasks = new Map<string, { task: TaskInfo; state: TaskState }>();
  private readonly unacked = new Map<string, { status: TaskStatus; sentAt: number }>();

  constructor(options: ExecutorSdkCoreOptions) {
    this.options = options;
  }

  /** LAUNCH: records the task (TASK_STAGING); false when it was launched already (a repeat). */
  onLaunch(task: TaskInfo): boolean {
    if (this.tasks.has(task.taskId)) return false;
    this.tasks.set(task.taskId, { task, state: TaskState.STAGING });
    return true;
  }

  /** A new update of `taskId` to `state`, at `now` (ms): the status to send (it is now unacknowledged), or why it is refused. */
  update(taskId: string, state: TaskState, details: UpdateDetails, now: number): UpdateResult {
    const t = this.tasks.get(taskId);
    if (t === undefined) return { ok: false, problem: 'this executor was not given that task' };
    if (!canTransition(t.state, state)) return { ok: false, problem: `illegal transition ${t.state} → ${state}` };
    t.state = state;
    const status: TaskStatus = {
      ...details,
      taskId,
      state,
      agentId: this.options.agentId,
      executorId: this.options.executorId,
      source: TaskSource.EXECUTOR,
      uuid: this.options.uuid(),
      timestamp: now / 1000,
    };
    this.unacked.set(status.uuid as string, { status, sentAt: now });
    return { ok: true, status };
  }

  /** ACKNOWLEDGED: the agent holds update `uuid`; true if it was waiting. */
  onAcknowledged(uuid: string): boolean {
    return this.unacked.delete(uuid);
  }

  /** The agent refused update `uuid` for good (it will never acknowledge it); true if it was waiting. */
  onRejected(uuid: string): boolean {
    return this.unacked.delete(uuid);
  }

  /** Updates to send again now (unacknowledged for `resendMs`); each is due again `resendMs` later. */
  due(now: number): TaskStatus[] {
    const out: TaskStatus[] = [];
    for (const u of this.unacked.values()) {
      if (now - u.sentAt < this.options.resendMs) continue;
      u.sentAt = now;
      out.push(u.status);
    }
    return out;
  }

  /** The updates not yet acknowledged, oldest first (sent with SUBSCRIBE again after the agent restarts). */
  get unacknowledged(): TaskStatus[] {
    return [...this.unacked.values()].map((u) => u.status);
  }

  /** The state `taskId` was last reported in (TASK_STAGING before any update); undefined for a task never given. */
  stateOf(taskId: string): TaskState | undefined {
    return this.tasks.get(taskId)?.state;
  }

  /** The tasks given to this executor that have not been reported terminal. */
  get liveTasks(): TaskInfo[] {
    return [...this.tasks.values()].filter((t) => !isTerminal(t.state)).map((t) => t.task);
  }
}
