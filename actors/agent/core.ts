/**
 * The agent's pure core: registration and heartbeats, tasks and their executors, status
 * updates on their way into the cluster's updates stream. It takes one input at a time (a
 * master message or reply, an executor call, an executor's exit, the outcome of a publish,
 * a clock tick) and returns effects as data; the shell (`shell.ts`) performs them. No NATS,
 * no clock, no randomness: `now` (ms) and the id generators are passed in.
 *
 * Order of an executor's life: RUN_TASK → launch-executor (phase `launching`) → the
 * process SUBSCRIBEs → SUBSCRIBED and LAUNCH (phase `subscribed`) → UPDATEs → the process
 * exits (phase `exited`). An executor's update is acknowledged to it (ACKNOWLEDGED) once the
 * stream holds it (`onUpdatePublished`). A task is forgotten once it is terminal, its
 * updates are all in the stream and its executor has exited.
 */
import type { z } from 'zod';
import type { AgentToMaster, MasterReplyToAgent, MasterToAgent, TaskOnAgent, TaskRef } from '../../protocol/agent.js';
import type { ExecutorCall, ExecutorEvent, ExecutorSubscribe } from '../../protocol/executor.js';
import type { RejectionCode } from '../../protocol/replies.js';
import type { AgentInfo, ExecutorInfo, FrameworkInfo, ResourcesWire, TaskInfo, TaskStatus } from '../../protocol/schema.js';
import { canTransition, nextTaskState } from '../../protocol/task-lifecycle.js';
import { TaskReason, TaskSource, TaskState, isTerminal } from '../../protocol/task-state.js';
import type { StoredStatus } from '../../protocol/updates.js';
import { StatusUpdateQueue, type UpdateToPublish } from './status-updates.js';
import { volumesOf, type VolumeRef } from './volumes.js';

/** Where the core gets fresh ids (crypto.randomUUID in the shell, counters in tests). */
export interface AgentIds {
  /** A status update's uuid. */
  uuid(): string;
  /** An executor run's id (the name of its sandbox directory). */
  runId(): string;
}

/** Options of the core. */
export interface AgentCoreOptions {
  /** What the agent registers with: id, hostname, resources, attributes. */
  info: AgentInfo;
  ids: AgentIds;
  /** Longest pause between attempts to publish a status update (they back off from 100 ms up to this). */
  updatePublishRetryMs: number;
  /** Longest pause between registration attempts (they back off from 100 ms up to this). */
  registrationRetryMs: number;
  /** Kill an executor that has not subscribed after this long (default 60 s). */
  executorRegistrationTimeoutMs?: number;
  /** After a restart, kill a recovered executor that has not subscribed again after this long (default 5 s). */
  executorReregistrationTimeoutMs?: number;
  /** Grace period of a kill when neither the message nor the task's kill policy gives one (default 3 s). */
  defaultKillGracePeriodMs?: number;
  /** How many ended tasks are still reported at registration, the most recent ones (default 1000). */
  maxCompletedTasks?: number;
  /** A default executor idle this long (every task ended) is shut down; until then it takes further groups (default 1 s). */
  defaultExecutorLingerMs?: number;
  /**
   * Spare executors kept ready while the agent is registered and active (default 0): a
   * default executor (task groups) that must start binds one instead of starting a Node
   * process of its own. Command executors do not (one Node process per task is their
   * nature; a burst of them would use up the spare just before a group needs it).
   */
  spareExecutors?: number;
}

/** Log levels a core may ask for. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** What the shell must do, as data. */
export type AgentEffect =
  /** Send to the master (as a request; feed the reply back through `onMasterReply`). */
  | { kind: 'send-master'; message: AgentToMaster }
  /**
   * Publish a status update to the updates stream and wait for its PubAck; feed the outcome
   * back through `onUpdatePublished` or `onUpdatePublishFailed`.
   */
  | {
      kind: 'publish-update';
      frameworkId: string;
      status: StoredStatus;
      /**
       * Publish it only once a checkpoint holding it is on disk (as Mesos checkpoints before
       * forwarding). 'launch': a task's first update, which tells the framework of its
       * executor — a checkpoint holding the task and its executor's process (one covering the
       * executor's launch will do), so that an agent killed after the framework heard of the
       * task reattaches to its executor. 'update': a terminal update — a checkpoint written
       * after the core applied it, so that an agent killed after the framework heard
       * TASK_FINISHED does not find the task live and report TASK_FAILED when its executor
       * has exited (chaos seed 1616172065).
       */
      afterCheckpoint?: 'launch' | 'update';
    }
  /**
   * Create the run's sandbox and container (limits from `resources`, one entry per task,
   * plus a custom executor's own) and start the executor: the command executor for one
   * task, the default executor for a task group, or a custom executor's `executor.command`.
   */
  | {
      kind: 'launch-executor';
      executorId: string;
      frameworkId: string;
      runId: string;
      taskId: string;
      executorKind: ExecutorKind;
      resources: ResourcesWire[];
      executor?: ExecutorInfo;
      /** A spare executor to bind instead of starting a process (default executors; start one if it is gone). */
      spareId?: string;
    }
  /**
   * Start a spare executor: a built-in executor process, not yet any executor, that loads
   * its modules, connects to NATS and waits for a launch to bind it. Report its end (unless
   * bound) with `onSpareExited`. It is no executor of the agent's and is never checkpointed.
   */
  | { kind: 'start-spare'; spareId: string }
  /** Let a spare executor go (it exits); its end is reported with `onSpareExited`. */
  | { kind: 'stop-spare'; spareId: string; reason: string }
  /**
   * Before the tasks start: create these persistent volumes' directories (if missing) and
   * link each at its path under `dir` of the run's sandbox (`''`, or a group task's `tasks/<id>`).
   */
  | { kind: 'prepare-volumes'; executorId: string; frameworkId: string; runId: string; dir: string; volumes: VolumeRef[] }
  /** Remove every persistent volume directory but these (the master's checkpointed volumes and those live tasks use). */
  | { kind: 'sync-volumes'; keep: VolumeRef[] }
  /** A running executor takes more tasks: its container's limits become those of all these resources. */
  | { kind: 'update-container'; executorId: string; resources: ResourcesWire[] }
  /** Publish an event to a running executor. */
  | { kind: 'send-executor'; executorId: string; message: ExecutorEvent }
  /** SIGKILL the executor's process group and its task's. */
  | { kind: 'kill-executor'; executorId: string; reason: string }
  | { kind: 'log'; level: LogLevel; msg: string; data?: Record<string, unknown> };

/** The outcome of a request to the master: its reply, or why there was none. */
export type MasterResult = { ok: true; reply: MasterReplyToAgent } | { ok: false; error: string };

/** How an executor process ended. */
export interface ExecutorExit {
  exitCode?: number;
  signal?: string;
  /** Set when the process could not be started at all. */
  error?: string;
  /** Set when the process was found gone (not waited for): how, e.g. "while the agent was down". */
  gone?: string;
}

/** The answer to an executor call: OK (then perform the effects) or REJECTED with a code. */
export type ExecutorCallResult =
  | { ok: true; effects: AgentEffect[] }
  | { ok: false; code: RejectionCode; reason: string; effects: AgentEffect[] };

/** Which executor runs a task: the command executor (one task), the default executor (task groups) or a custom executor (TaskInfo.executor). */
export type ExecutorKind = 'command' | 'default' | 'custom';

/** A limit an executor's container went over (from the isolator); its tasks fail with `reason`. */
export interface Limitation {
  reason: TaskReason;
  message: string;
}

/** Where the agent is with a drain (Mesos's DrainState; `active` when not draining). */
export type DrainState = 'active' | 'draining' | 'drained';

/** Where an executor is in its life. */
export type ExecutorPhase =
  | 'launching'
  | 'subscribed'
  | 'killed-during-launch'
  | 'registration-timed-out'
  /** Taken back from the checkpoint after a restart; waiting for the executor to subscribe again. */
  | 'recovering'
  | 'reregistration-timed-out'
  | 'exited';

/** A task as the agent knows it (for `view`). */
export interface TaskView {
  taskId: string;
  frameworkId: string;
  executorId: string | undefined;
  state: TaskState;
  killRequested: boolean;
  /** Updates not yet in the updates stream. */
  pendingUpdates: number;
}

/** An executor as the agent knows it (for `view`). */
export interface ExecutorView {
  executorId: string;
  frameworkId: string;
  runId: string;
  phase: ExecutorPhase;
  taskIds: string[];
  executorKind: ExecutorKind;
  /** The limit its container went over, if any. */
  limitation: Limitation | undefined;
}

/** A spare executor as the agent knows it (for `view`). */
export interface SpareView {
  spareId: string;
  /** When it was started (ms). */
  startedAt: number;
  /** Told to stop (it exits). */
  stopping: boolean;
}

/** A read-only picture of the core, for logs and tests. */
export interface AgentCoreView {
  agentId: string;
  registered: boolean;
  epoch: number | undefined;
  masterId: string | undefined;
  tasks: TaskView[];
  executors: ExecutorView[];
  /** Spare executors, oldest first. */
  spares: SpareView[];
  drain: { state: DrainState; maxGracePeriodMs: number | undefined };
}

/** The core's part of the agent's checkpoint: what it needs to take its tasks back after a restart. */
export interface CoreCheckpoint {
  drain: { state: DrainState; maxGracePeriodMs?: number | undefined };
  frameworks: FrameworkInfo[];
  executors: Array<{
    executorId: string;
    frameworkId: string;
    runId: string;
    exited: boolean;
    taskIds: string[];
    executorKind: ExecutorKind;
    limitation?: Limitation | undefined;
    info?: ExecutorInfo | undefined;
    /** A default executor told to SHUTDOWN. */
    shuttingDown?: boolean | undefined;
    /** Tasks waiting for the executor's next run. */
    queued?: string[] | undefined;
  }>;
  tasks: Array<{
    task: TaskInfo;
    frameworkId: string;
    executorId?: string | undefined;
    state: TaskState;
    killRequested: boolean;
    launched: boolean;
    /** Uuids of updates already taken from the executor (a resent one is acknowledged, not applied). */
    seen: string[];
    /** Updates not yet acknowledged by the framework, oldest first. */
    pending: TaskStatus[];
    group?: number | undefined;
  }>;
}

type RegisterAgentMessage = Extract<AgentToMaster, { type: 'REGISTER_AGENT' }>;

type ExecutorSubscribeMessage = z.infer<typeof ExecutorSubscribe>;

type Registration =
  | { phase: 'unregistered'; attempt: number; nextAttemptAt: number }
  | { phase: 'registering'; attempt: number }
  | { phase: 'registered'; masterId: string; intervalMs: number; nextHeartbeatAt: number; heartbeatInFlight: boolean };

interface TaskRecord {
  task: TaskInfo;
  frameworkId: string;
  executorId: string | undefined;
  state: TaskState;
  killRequested: boolean;
  launched: boolean;
  /** Uuids of updates accepted for this task, to answer a resent one without applying it twice. */
  seen: Set<string>;
  /** The RUN_TASK_GROUP that brought it (task groups only): groups are launched one LAUNCH_GROUP each. */
  group?: number | undefined;
}

interface ExecutorRecord {
  executorId: string;
  frameworkId: string;
  runId: string;
  phase: ExecutorPhase;
  taskIds: string[];
  launchedAt: number;
  executorKind: ExecutorKind;
  limitation: Limitation | undefined;
  /** A default executor the agent told to SHUTDOWN (it takes no more groups). */
  shuttingDown?: boolean;
  /** Since when every task of a default executor has ended. */
  idleSince?: number | undefined;
  /** A custom executor's description (from the TaskInfo that started it). */
  info?: ExecutorInfo | undefined;
  /**
   * Tasks of groups that named this default executor while it was going away (shutting
   * down after its linger): they wait for its next run, launched once this one has exited.
   */
  queued?: string[] | undefined;
}

const FIRST_RETRY_MS = 100;
/** Longest pause before starting a spare again after spares ended on their own. */
const MAX_SPARE_RETRY_MS = 30_000;
const log = (level: LogLevel, msg: string, data?: Record<string, unknown>): AgentEffect =>
  data === undefined ? { kind: 'log', level, msg } : { kind: 'log', level, msg, data };

/** The agent's bookkeeping, as a pure state machine over inputs → effects. */
export class AgentCore {
  /** The agent's id. */
  readonly agentId: string;
  private readonly info: AgentInfo;
  private readonly ids: AgentIds;
  private readonly updates: StatusUpdateQueue;
  private readonly registrationRetryMs: number;
  private readonly executorRegistrationTimeoutMs: number;
  private readonly executorReregistrationTimeoutMs: number;
  private readonly defaultGraceMs: number;
  private registration: Registration = { phase: 'unregistered', attempt: 0, nextAttemptAt: 0 };
  /** Highest master epoch seen; messages from older epochs are dropped. */
  private epoch: number | undefined;
  private readonly frameworks = new Map<string, FrameworkInfo>();
  private readonly tasks = new Map<string, TaskRecord>();
  private readonly executors = new Map<string, ExecutorRecord>();
  /**
   * Tasks forgotten after they ended (oldest first, bounded), still reported at registration
   * so that a new leader knows they ended, as a Mesos agent reports completed tasks.
   */
  private readonly completed = new Map<string, TaskOnAgent>();
  private readonly maxCompleted: number;
  private drain: { state: DrainState; maxGracePeriodMs: number | undefined } = { state: 'active', maxGracePeriodMs: undefined };
  private readonly lingerMs: number;
  private groupSeq = 0;
  private readonly spareTarget: number;
  /** Spare executors, oldest first (Map order). */
  private readonly spares = new Map<string, SpareView>();
  /** Spares that ended on their own in a row (no bind since): the next one waits longer. */
  private spareFailures = 0;
  private nextSpareAt = 0;

  constructor(options: AgentCoreOptions) {
    this.info = options.info;
    this.agentId = options.info.id;
    this.ids = options.ids;
    this.updates = new StatusUpdateQueue(options.updatePublishRetryMs);
    this.registrationRetryMs = options.registrationRetryMs;
    this.executorRegistrationTimeoutMs = options.executorRegistrationTimeoutMs ?? 60_000;
    this.executorReregistrationTimeoutMs = options.executorReregistrationTimeoutMs ?? 5000;
    this.lingerMs = options.defaultExecutorLingerMs ?? 1000;
    this.spareTarget = Math.max(0, Math.floor(options.spareExecutors ?? 0));
    this.defaultGraceMs = options.defaultKillGracePeriodMs ?? 3000;
    this.maxCompleted = options.maxCompletedTasks ?? 1000;
  }

  /** True once a master has answered AGENT_REGISTERED (and not since forgotten us). */
  get isRegistered(): boolean {
    return this.registration.phase === 'registered';
  }

  // ---- time ------------------------------------------------------------------------

  /** Called periodically: registration attempts, heartbeats, publishes to retry, executor timeouts. */
  tick(now: number): AgentEffect[] {
    const effects: AgentEffect[] = [];
    const reg = this.registration;
    if (reg.phase === 'unregistered' && now >= reg.nextAttemptAt) effects.push(...this.startRegistration(reg.attempt));
    if (reg.phase === 'registered' && !reg.heartbeatInFlight && now >= reg.nextHeartbeatAt) {
      reg.heartbeatInFlight = true;
      effects.push({ kind: 'send-master', message: { type: 'HEARTBEAT', agentId: this.agentId } });
    }
    effects.push(...this.updates.due(now).map((u) => this.publish(u)));
    effects.push(...this.drainProgress(), ...this.reregistrationTimeouts(now), ...this.idleDefaultExecutors(now), ...this.nextRuns(now), ...this.keepSpares(now));
    for (const ex of this.executors.values()) {
      if (ex.phase !== 'launching' || now - ex.launchedAt < this.executorRegistrationTimeoutMs) continue;
      ex.phase = 'registration-timed-out';
      effects.push(
        log('warn', 'executor did not subscribe in time; killing it', { executorId: ex.executorId }),
        { kind: 'kill-executor', executorId: ex.executorId, reason: 'executor registration timed out' },
      );
    }
    return effects;
  }

  // ---- the master ------------------------------------------------------------------

  /** REGISTER_AGENT as it must be sent now: this agent, every task it holds, and the tasks that ended lately. */
  registrationMessage(): RegisterAgentMessage {
    const tasks: TaskOnAgent[] = [...this.tasks.values()].map((t) => this.onAgent(t));
    return { type: 'REGISTER_AGENT', agent: this.info, tasks: [...tasks, ...this.completed.values()] };
  }

  private onAgent(t: TaskRecord): TaskOnAgent {
    return { frameworkId: t.frameworkId, task: t.task, state: t.state };
  }

  /** The master's reply (or its absence) to a message of type `type` the agent sent. */
  onMasterReply(type: AgentToMaster['type'], result: MasterResult, now: number): AgentEffect[] {
    if (result.ok && result.reply.epoch !== undefined && result.reply.type !== 'AGENT_REGISTERED') this.observeEpoch(result.reply.epoch);
    if (type === 'REGISTER_AGENT') return this.onRegisterReply(result, now);
    if (type === 'HEARTBEAT') return this.onHeartbeatReply(result, now);
    if (!result.ok) return [log('debug', `no answer to ${type}`, { error: result.error })];
    if (result.reply.type === 'REJECTED') {
      if (result.reply.code === 'UNKNOWN_AGENT' && this.isRegistered) return this.reregister(`${type} answered UNKNOWN_AGENT`);
      return [log('warn', `master refused ${type}`, { code: result.reply.code, reason: result.reply.reason })];
    }
    return [];
  }

  /**
   * The leader key names a master of term `epoch`. A newer term than the one the agent
   * registered with means a failover: register again at once, with every task (the new
   * leader rebuilds its task table from them). Older or equal terms change nothing.
   */
  onLeaderElected(epoch: number, now: number): AgentEffect[] {
    if (this.epoch !== undefined && epoch <= this.epoch) return [];
    const registeredWith = this.epoch;
    this.observeEpoch(epoch);
    const reg = this.registration;
    if (reg.phase === 'registered') return this.reregister(`a new leader was elected (epoch ${epoch}, registered with ${registeredWith ?? 'none'})`);
    if (reg.phase === 'unregistered') reg.nextAttemptAt = Math.min(reg.nextAttemptAt, now);
    return [];
  }

  /** A message from the master; dropped when its epoch is older than the newest seen. */
  onMasterMessage(message: MasterToAgent, now: number): AgentEffect[] {
    if (this.epoch !== undefined && message.epoch < this.epoch) {
      return [log('warn', `dropped ${message.type} from an older master epoch`, { epoch: message.epoch, highest: this.epoch })];
    }
    this.epoch = message.epoch;
    switch (message.type) {
      case 'RUN_TASK':
        return this.runTask(message.frameworkId, message.framework, message.task, now);
      case 'RUN_TASK_GROUP':
        return this.runTaskGroup(message.frameworkId, message.framework, message.executorId, message.tasks, now);
      case 'KILL_TASK':
        return this.killTask(message.taskId, message.frameworkId, message.gracePeriodMs, now);
      case 'SHUTDOWN_FRAMEWORK': {
        const effects: AgentEffect[] = [log('info', 'shutting down framework', { frameworkId: message.frameworkId })];
        for (const t of [...this.tasks.values()]) {
          if (t.frameworkId === message.frameworkId && !isTerminal(t.state)) {
            effects.push(...this.killTask(t.task.taskId, t.frameworkId, undefined, now));
          }
        }
        return [...effects, ...this.shutdownCustomExecutors(message.frameworkId)];
      }
      case 'DRAIN_AGENT':
        return this.onDrain(message.maxGracePeriodMs, now);
      case 'REACTIVATE_AGENT':
        return this.onReactivate();
      case 'RECONCILE_TASKS':
        return this.answerUnknown(message.tasks.filter((r) => !this.knows(r)), 'asked to reconcile tasks this agent does not have');
      case 'CHECKPOINT_RESOURCES': {
        const live = [...this.tasks.values()].filter((t) => !isTerminal(t.state)).flatMap((t) => volumesOf(t.task.resources));
        return [{ kind: 'sync-volumes', keep: [...volumesOf(message.resources), ...live] }];
      }
      case 'FRAMEWORK_TO_EXECUTOR': {
        const ex = this.executors.get(message.executorId);
        if (ex === undefined || ex.frameworkId !== message.frameworkId || ex.phase !== 'subscribed') {
          return [log('info', 'dropped a framework message for an executor that is not subscribed', { executorId: message.executorId })];
        }
        return [{ kind: 'send-executor', executorId: ex.executorId, message: { type: 'MESSAGE', data: message.data } }];
      }
    }
  }

  // ---- executors -------------------------------------------------------------------

  /** A call from an executor; `principal` is the executor id its subject names. */
  onExecutorCall(call: ExecutorCall, principal: string): ExecutorCallResult {
    if (call.executorId !== principal) {
      return reject('WRONG_PRINCIPAL', `body names executor ${call.executorId} but the subject names ${principal}`);
    }
    const ex = this.executors.get(call.executorId);
    if (ex === undefined) return reject('UNKNOWN_EXECUTOR', `no executor ${call.executorId} on agent ${this.agentId}`);
    if (ex.frameworkId !== call.frameworkId) {
      return reject('INVALID', `executor ${ex.executorId} belongs to framework ${ex.frameworkId}, not ${call.frameworkId}`);
    }
    if (call.type === 'SUBSCRIBE') return this.subscribe(ex, call);
    if (ex.phase !== 'subscribed') return reject('NOT_SUBSCRIBED', `executor ${ex.executorId} has not subscribed (${ex.phase})`);
    if (call.type === 'UPDATE') return this.executorUpdate(ex, call.status);
    return ok([
      {
        kind: 'send-master',
        message: { type: 'EXECUTOR_TO_FRAMEWORK', agentId: this.agentId, frameworkId: ex.frameworkId, executorId: ex.executorId, data: call.data },
      },
    ]);
  }

  /** An executor process ended: tell the master, and end its tasks that are not terminal yet. */
  onExecutorExited(executorId: string, exit: ExecutorExit, now: number): AgentEffect[] {
    const ex = this.executors.get(executorId);
    if (ex === undefined || ex.phase === 'exited') return [log('debug', 'exit of an executor already gone', { executorId })];
    const before = ex.phase;
    ex.phase = 'exited';
    const how = describeExit(exit);
    const effects: AgentEffect[] = [
      log('info', `executor ${how}`, { executorId }),
      {
        kind: 'send-master',
        message: {
          type: 'EXITED_EXECUTOR',
          agentId: this.agentId,
          frameworkId: ex.frameworkId,
          executorId,
          ...(exit.exitCode !== undefined && { exitCode: exit.exitCode }),
          ...(exit.signal !== undefined && { signal: exit.signal }),
        },
      },
    ];
    for (const taskId of [...ex.taskIds]) {
      const t = this.tasks.get(taskId);
      if (t !== undefined && !isTerminal(t.state)) {
        if (ex.limitation !== undefined) {
          effects.push(...this.agentUpdate(t, TaskState.FAILED, ex.limitation.reason, ex.limitation.message, now));
        } else {
          const state = t.killRequested ? TaskState.KILLED : TaskState.FAILED;
          const reason =
            before === 'registration-timed-out'
              ? TaskReason.EXECUTOR_REGISTRATION_TIMEOUT
              : before === 'reregistration-timed-out'
                ? TaskReason.EXECUTOR_REREGISTRATION_TIMEOUT
                : TaskReason.EXECUTOR_TERMINATED;
          effects.push(...this.agentUpdate(t, state, reason, `Executor ${how} before the task ended`, now));
        }
      }
      effects.push(...this.maybeForget(taskId));
    }
    // a default executor whose tasks were all forgotten (one with groups waiting starts again at the next tick)
    if (ex.taskIds.length === 0 && (ex.queued ?? []).length === 0) this.executors.delete(executorId);
    return effects;
  }

  // ---- spare executors -------------------------------------------------------------

  /**
   * Keeps `spareExecutors` spares while the agent is registered and active: starts the
   * missing ones (after a backoff when spares ended on their own), lets every spare go
   * while the agent drains.
   */
  private keepSpares(now: number): AgentEffect[] {
    const live = [...this.spares.values()].filter((s) => !s.stopping);
    if (this.drain.state !== 'active') return live.flatMap((s) => this.stopSpare(s, `the agent is ${this.drain.state}`));
    if (this.registration.phase !== 'registered' || live.length >= this.spareTarget || now < this.nextSpareAt) return [];
    const effects: AgentEffect[] = [];
    for (let i = live.length; i < this.spareTarget; i++) {
      const spareId = this.ids.runId();
      this.spares.set(spareId, { spareId, startedAt: now, stopping: false });
      effects.push({ kind: 'start-spare', spareId });
    }
    return effects;
  }

  private stopSpare(s: SpareView, reason: string): AgentEffect[] {
    s.stopping = true;
    return [{ kind: 'stop-spare', spareId: s.spareId, reason }];
  }

  /** The oldest spare (the likeliest to be ready), no longer a spare: `{ spareId }` for a launch, or nothing. */
  private takeSpare(): { spareId?: string } {
    const spare = [...this.spares.values()].find((s) => !s.stopping);
    if (spare === undefined) return {};
    this.spares.delete(spare.spareId);
    this.spareFailures = 0;
    return { spareId: spare.spareId };
  }

  /** A spare executor ended unbound: forgotten; one that was not told to stop delays the next. */
  onSpareExited(spareId: string, exit: ExecutorExit, now: number): AgentEffect[] {
    const s = this.spares.get(spareId);
    if (s === undefined) return [];
    this.spares.delete(spareId);
    if (s.stopping) return [log('debug', 'spare executor stopped', { spareId })];
    this.spareFailures++;
    const delay = Math.min(MAX_SPARE_RETRY_MS, FIRST_RETRY_MS * 2 ** (this.spareFailures - 1));
    this.nextSpareAt = now + delay;
    return [log('warn', `spare executor ${describeExit(exit)} before it was needed; starting another later`, { spareId, retryInMs: delay })];
  }

  /** The agent is stopping: every spare goes. */
  stopSpares(reason: string): AgentEffect[] {
    return [...this.spares.values()].filter((s) => !s.stopping).flatMap((s) => this.stopSpare(s, reason));
  }

  // ---- checkpoint and recovery -----------------------------------------------------

  /** What must survive a restart of the agent process (see checkpoint.ts for the file). */
  checkpoint(): CoreCheckpoint {
    return {
      drain: { ...this.drain },
      frameworks: [...this.frameworks.values()],
      executors: [...this.executors.values()].map(({ executorId, frameworkId, runId, phase, taskIds, executorKind, limitation, info, shuttingDown, queued }) => ({
        executorId,
        frameworkId,
        runId,
        exited: phase === 'exited',
        taskIds: [...taskIds],
        executorKind,
        ...(limitation !== undefined && { limitation }),
        ...(info !== undefined && { info }),
        ...(shuttingDown === true && { shuttingDown }),
        ...(queued !== undefined && queued.length > 0 && { queued: [...queued] }),
      })),
      tasks: [...this.tasks.values()].map((t) => ({
        task: t.task,
        frameworkId: t.frameworkId,
        ...(t.executorId !== undefined && { executorId: t.executorId }),
        state: t.state,
        killRequested: t.killRequested,
        launched: t.launched,
        seen: [...t.seen],
        pending: [...this.updates.pending(t.task.taskId)],
        ...(t.group !== undefined && { group: t.group }),
      })),
    };
  }

  /**
   * Takes back a checkpoint after a restart (before registering): tasks with their states
   * and the updates not yet in the stream (published again at once), frameworks, the drain state, and
   * executors, which wait `recovering` for their process to subscribe again (RECONNECT is
   * sent to each). The shell then reports executors whose process is gone with
   * `onExecutorExited`.
   */
  recover(cp: CoreCheckpoint, now: number): AgentEffect[] {
    this.drain = { state: cp.drain.state, maxGracePeriodMs: cp.drain.maxGracePeriodMs };
    for (const f of cp.frameworks) this.frameworks.set(f.id, f);
    // Updates the stream had not acknowledged before the restart are published again at once
    // (the stream is not the master: no need to wait for registration); the uuid is the
    // message id, so one that did reach the stream is stored once.
    const heads: AgentEffect[] = [];
    for (const t of cp.tasks) {
      this.tasks.set(t.task.taskId, {
        task: t.task,
        frameworkId: t.frameworkId,
        executorId: t.executorId,
        state: t.state,
        killRequested: t.killRequested,
        launched: t.launched,
        seen: new Set(t.seen),
        group: t.group,
      });
      this.groupSeq = Math.max(this.groupSeq, t.group ?? 0);
      for (const status of t.pending) {
        if (status.uuid === undefined) continue;
        const head = this.updates.enqueue(t.frameworkId, { ...status, uuid: status.uuid });
        if (head !== undefined) heads.push(this.publish(head));
      }
    }
    const effects: AgentEffect[] = [log('info', 'recovered from the checkpoint', { tasks: cp.tasks.length, executors: cp.executors.length }), ...heads];
    for (const e of cp.executors) {
      const phase: ExecutorPhase = e.exited ? 'exited' : 'recovering';
      this.executors.set(e.executorId, {
        executorId: e.executorId,
        frameworkId: e.frameworkId,
        runId: e.runId,
        phase,
        taskIds: [...e.taskIds],
        launchedAt: now,
        executorKind: e.executorKind,
        limitation: e.limitation,
        info: e.info,
        ...(e.shuttingDown === true && { shuttingDown: true }),
        ...(e.queued !== undefined && e.queued.length > 0 && { queued: [...e.queued] }),
      });
      if (phase === 'recovering') effects.push({ kind: 'send-executor', executorId: e.executorId, message: { type: 'RECONNECT', agentId: this.agentId } });
    }
    return effects;
  }

  /** Recovered executors that have not subscribed again in time are killed (their tasks then fail). */
  private reregistrationTimeouts(now: number): AgentEffect[] {
    const effects: AgentEffect[] = [];
    for (const ex of this.executors.values()) {
      if (ex.phase !== 'recovering' || now - ex.launchedAt < this.executorReregistrationTimeoutMs) continue;
      ex.phase = 'reregistration-timed-out';
      effects.push(
        log('warn', 'recovered executor did not subscribe again in time; killing it', { executorId: ex.executorId }),
        { kind: 'kill-executor', executorId: ex.executorId, reason: 'executor reregistration timed out' },
      );
    }
    return effects;
  }

  /** A kill for a task whose executor has not subscribed again yet: the executor is killed (no grace). */
  private killWhileRecovering(ex: ExecutorRecord, t: TaskRecord): AgentEffect[] {
    t.killRequested = true;
    return [{ kind: 'kill-executor', executorId: ex.executorId, reason: `task ${t.task.taskId} killed before its executor subscribed again` }];
  }

  // ---- drain -----------------------------------------------------------------------

  /**
   * DRAIN_AGENT: every task that is not ending already is killed, with its grace period
   * capped at `maxGracePeriodMs`; new tasks are refused until REACTIVATE_AGENT. Draining
   * again lowers the cap for tasks killed from then on.
   */
  private onDrain(maxGracePeriodMs: number | undefined, now: number): AgentEffect[] {
    const first = this.drain.state === 'active';
    if (first) this.drain = { state: 'draining', maxGracePeriodMs };
    else if (maxGracePeriodMs !== undefined) this.drain.maxGracePeriodMs = Math.min(maxGracePeriodMs, this.drain.maxGracePeriodMs ?? maxGracePeriodMs);
    const effects: AgentEffect[] = [log('info', first ? 'draining: killing every task' : 'drain asked again', { maxGracePeriodMs: this.drain.maxGracePeriodMs })];
    for (const t of [...this.tasks.values()]) {
      if (isTerminal(t.state) || t.killRequested) continue;
      const own = t.task.killPolicy?.gracePeriodMs ?? this.defaultGraceMs;
      const cap = this.drain.maxGracePeriodMs;
      effects.push(...this.killTask(t.task.taskId, t.frameworkId, cap === undefined ? own : Math.min(own, cap), now));
    }
    return [...effects, ...this.drainProgress()];
  }

  /** REACTIVATE_AGENT: the drain is over. */
  private onReactivate(): AgentEffect[] {
    if (this.drain.state === 'active') return [log('debug', 'REACTIVATE_AGENT while not draining')];
    this.drain = { state: 'active', maxGracePeriodMs: undefined };
    return [log('info', 'reactivated: taking tasks again')];
  }

  /** DRAINING becomes DRAINED once every task has ended and its last update is acknowledged. */
  private drainProgress(): AgentEffect[] {
    if (this.drain.state !== 'draining') return [];
    for (const t of this.tasks.values()) if (!isTerminal(t.state) || this.updates.hasPending(t.task.taskId)) return [];
    this.drain.state = 'drained';
    return [log('info', 'drained: every task has ended')];
  }

  /** Tasks that arrive while the agent drains are dropped (as Mesos's REASON_SLAVE_DRAINING). */
  private refuseWhileDraining(records: readonly TaskRecord[], now: number): AgentEffect[] {
    return records.flatMap((r) => this.agentUpdate(r, TaskState.DROPPED, TaskReason.AGENT_DRAINING, `Agent ${this.agentId} is ${this.drain.state}; it takes no new tasks`, now));
  }

  // ---- isolation -------------------------------------------------------------------

  /**
   * The executor's container went over a limit (the isolator says so). As Mesos, the
   * container is destroyed: the executor is killed with its tasks, and every task of it
   * that is not terminal yet ends TASK_FAILED with the limitation's reason (a FAILED update
   * the executor sends meanwhile carries that reason too).
   */
  onContainerLimitation(executorId: string, limitation: Limitation, now: number): AgentEffect[] {
    void now;
    const ex = this.executors.get(executorId);
    if (ex === undefined || ex.phase === 'exited') return [log('debug', 'limitation of an executor already gone', { executorId })];
    if (ex.limitation !== undefined) return [];
    ex.limitation = limitation;
    const effects: AgentEffect[] = [log('warn', 'container limitation: destroying the executor', { executorId, reason: limitation.reason, message: limitation.message })];
    const live = ex.taskIds.some((id) => {
      const t = this.tasks.get(id);
      return t !== undefined && !isTerminal(t.state);
    });
    if (live) effects.push({ kind: 'kill-executor', executorId, reason: limitation.message });
    return effects;
  }

  // ---- the updates stream ----------------------------------------------------------

  /**
   * The stream holds update `uuid` of `taskId` (its PubAck came): acknowledge it to the
   * executor that sent it, and publish the task's next update.
   */
  onUpdatePublished(taskId: string, uuid: string): AgentEffect[] {
    const r = this.updates.published(taskId, uuid);
    if (r.outcome !== 'published') return [log('debug', 'PubAck of an update that is not being published ignored', { taskId, uuid })];
    const effects: AgentEffect[] = [];
    const ex = r.status.executorId === undefined ? undefined : this.executors.get(r.status.executorId);
    if (r.status.source === TaskSource.EXECUTOR && ex !== undefined && ex.phase === 'subscribed') {
      effects.push({ kind: 'send-executor', executorId: ex.executorId, message: { type: 'ACKNOWLEDGED', taskId, uuid } });
    }
    if (r.next !== undefined) effects.push(this.publish(r.next));
    if (r.drained) effects.push(...this.maybeForget(taskId));
    return effects;
  }

  /** Publishing update `uuid` failed (no PubAck in time, no stream, ...): it is tried again after a backoff. */
  onUpdatePublishFailed(taskId: string, uuid: string, error: string, now: number): AgentEffect[] {
    const retryAt = this.updates.failed(taskId, uuid, now);
    if (retryAt === undefined) return [log('debug', 'failure of an update that is not being published ignored', { taskId, uuid })];
    return [log('warn', 'could not publish a status update; will retry', { taskId, uuid, error, retryInMs: retryAt - now })];
  }

  /** Status updates not yet in the stream, over every task. */
  get unpublished(): number {
    return this.updates.size;
  }

  // ---- queries ---------------------------------------------------------------------

  /** A read-only picture of what the agent holds. */
  view(): AgentCoreView {
    const reg = this.registration;
    return {
      agentId: this.agentId,
      registered: reg.phase === 'registered',
      epoch: this.epoch,
      masterId: reg.phase === 'registered' ? reg.masterId : undefined,
      tasks: [...this.tasks.values()].map((t) => ({
        taskId: t.task.taskId,
        frameworkId: t.frameworkId,
        executorId: t.executorId,
        state: t.state,
        killRequested: t.killRequested,
        pendingUpdates: this.updates.pending(t.task.taskId).length,
      })),
      executors: [...this.executors.values()].map(({ executorId, frameworkId, runId, phase, taskIds, executorKind, limitation }) => ({
        executorId,
        frameworkId,
        runId,
        phase,
        taskIds: [...taskIds],
        executorKind,
        limitation,
      })),
      spares: [...this.spares.values()].map((s) => ({ ...s })),
      drain: { ...this.drain },
    };
  }

  // ---- registration ----------------------------------------------------------------

  private startRegistration(attempt: number): AgentEffect[] {
    this.registration = { phase: 'registering', attempt };
    return [{ kind: 'send-master', message: this.registrationMessage() }];
  }

  private onRegisterReply(result: MasterResult, now: number): AgentEffect[] {
    const reg = this.registration;
    if (reg.phase !== 'registering') return [log('debug', 'late answer to REGISTER_AGENT ignored')];
    let problem: string;
    if (!result.ok) problem = result.error;
    else if (result.reply.type === 'AGENT_REGISTERED') {
      const r = result.reply;
      if (r.agentId !== this.agentId) problem = `master registered agent ${r.agentId}, not ${this.agentId}`;
      else if (this.epoch !== undefined && r.epoch < this.epoch) problem = `answer from an older master epoch ${r.epoch} < ${this.epoch}`;
      else {
        this.epoch = r.epoch;
        this.registration = {
          phase: 'registered',
          masterId: r.masterId,
          intervalMs: r.heartbeatIntervalMs,
          nextHeartbeatAt: now + r.heartbeatIntervalMs,
          heartbeatInFlight: false,
        };
        return [log('info', 'registered with the master', { masterId: r.masterId, epoch: r.epoch, tasks: this.tasks.size })];
      }
    } else if (result.reply.type === 'REJECTED') problem = `${result.reply.code}: ${result.reply.reason}`;
    else problem = `unexpected ${result.reply.type}`;
    const attempt = reg.attempt + 1;
    const delay = Math.min(this.registrationRetryMs, FIRST_RETRY_MS * 2 ** Math.min(20, attempt - 1));
    this.registration = { phase: 'unregistered', attempt, nextAttemptAt: now + delay };
    return [log(attempt <= 3 ? 'info' : 'debug', 'registration failed; will retry', { problem, attempt, retryInMs: delay })];
  }

  private onHeartbeatReply(result: MasterResult, now: number): AgentEffect[] {
    const reg = this.registration;
    if (reg.phase !== 'registered') return [];
    reg.heartbeatInFlight = false;
    reg.nextHeartbeatAt = now + reg.intervalMs;
    if (!result.ok) return [log('warn', 'heartbeat got no answer; will retry', { error: result.error })];
    if (result.reply.type !== 'REJECTED') return [];
    if (result.reply.code === 'UNKNOWN_AGENT') return this.reregister('master does not know this agent');
    return [log('warn', 'master refused a heartbeat', { code: result.reply.code, reason: result.reply.reason })];
  }

  private reregister(why: string): AgentEffect[] {
    return [log('info', `registering again: ${why}`), ...this.startRegistration(0)];
  }

  private observeEpoch(epoch: number): void {
    if (this.epoch === undefined || epoch > this.epoch) this.epoch = epoch;
  }

  // ---- tasks -----------------------------------------------------------------------

  private runTask(frameworkId: string, framework: FrameworkInfo, task: TaskInfo, now: number): AgentEffect[] {
    const taskId = task.taskId;
    if (this.tasks.has(taskId) || (task.executor === undefined && this.executors.has(taskId))) return [log('warn', 'RUN_TASK for a task already known; ignored', { taskId })];
    if (framework.id !== frameworkId) {
      return [log('warn', 'RUN_TASK whose framework info does not match its framework id; ignored', { taskId, frameworkId })];
    }
    this.frameworks.set(frameworkId, framework);
    this.completed.delete(taskId);
    const record: TaskRecord = { task, frameworkId, executorId: undefined, state: TaskState.STAGING, killRequested: false, launched: false, seen: new Set() };
    this.tasks.set(taskId, record);
    if (this.drain.state !== 'active') return this.refuseWhileDraining([record], now);
    if (task.agentId !== this.agentId) {
      const why = `Task is for agent ${task.agentId}, not ${this.agentId}`;
      return this.agentUpdate(record, TaskState.ERROR, TaskReason.TASK_INVALID, why, now);
    }
    if (task.executor !== undefined) return this.runOnCustomExecutor(record, task.executor, now);
    const runId = this.ids.runId();
    record.executorId = taskId; // the command executor's id is its task's id
    this.executors.set(taskId, { executorId: taskId, frameworkId, runId, phase: 'launching', taskIds: [taskId], launchedAt: now, executorKind: 'command', limitation: undefined });
    return [...volumeEffects({ executorId: taskId, frameworkId, runId }, [task], false), { kind: 'launch-executor', executorId: taskId, frameworkId, runId, taskId, executorKind: 'command', resources: [task.resources] }];
  }

  // ---- custom executors ------------------------------------------------------------

  /**
   * A task for custom executor `info` (TaskInfo.executor): a new executor is launched
   * with its command (container: the executor's resources plus the task's); a running
   * one of the same framework with the same description takes the task (its container
   * grows; LAUNCH now, or once it subscribes). An id held by another kind of executor,
   * another framework, a different description, or an executor going away: TASK_ERROR.
   */
  private runOnCustomExecutor(record: TaskRecord, info: ExecutorInfo, now: number): AgentEffect[] {
    const { frameworkId } = record;
    const existing = this.executors.get(info.executorId);
    if (existing !== undefined) {
      const live = existing.phase === 'launching' || existing.phase === 'subscribed' || existing.phase === 'recovering';
      let problem: string | undefined;
      if (existing.executorKind !== 'custom' || existing.frameworkId !== frameworkId) problem = `executor id ${info.executorId} is in use on agent ${this.agentId} by another executor`;
      else if (!live || existing.shuttingDown === true) problem = `executor ${info.executorId} is going away (${existing.shuttingDown === true ? 'shutting down' : existing.phase}); launch again once it has exited`;
      else if (!sameExecutor(existing.info, info)) problem = `executor ${info.executorId} runs with another description (command or resources)`;
      if (problem !== undefined) return this.agentUpdate(record, TaskState.ERROR, TaskReason.TASK_INVALID, problem, now);
      record.executorId = existing.executorId;
      existing.taskIds.push(record.task.taskId);
      const tasks = existing.taskIds.flatMap((id) => this.tasks.get(id) ?? []).filter((t) => !isTerminal(t.state));
      const effects: AgentEffect[] = [
        ...volumeEffects(existing, [record.task], false),
        { kind: 'update-container', executorId: existing.executorId, resources: [info.resources ?? [], ...tasks.map((t) => t.task.resources)] },
      ];
      if (existing.phase === 'subscribed') {
        record.launched = true;
        effects.push({ kind: 'send-executor', executorId: existing.executorId, message: { type: 'LAUNCH', task: record.task } });
      }
      return effects;
    }
    const runId = this.ids.runId();
    record.executorId = info.executorId;
    this.executors.set(info.executorId, { executorId: info.executorId, frameworkId, runId, phase: 'launching', taskIds: [record.task.taskId], launchedAt: now, executorKind: 'custom', limitation: undefined, info });
    return [...volumeEffects({ executorId: info.executorId, frameworkId, runId }, [record.task], false), { kind: 'launch-executor', executorId: info.executorId, frameworkId, runId, taskId: record.task.taskId, executorKind: 'custom', resources: [info.resources ?? [], record.task.resources], executor: info }];
  }

  /** A task of a custom executor that has not subscribed yet is killed: it is never launched; the executor goes only if it has no other task. */
  private killBeforeCustomSubscribe(ex: ExecutorRecord, t: TaskRecord, now: number): AgentEffect[] {
    t.killRequested = true;
    const effects = this.agentUpdate(t, TaskState.KILLED, TaskReason.TASK_KILLED_DURING_LAUNCH, 'Task killed before its executor subscribed', now);
    const others = ex.taskIds.some((id) => id !== t.task.taskId && !isTerminal(this.tasks.get(id)?.state ?? TaskState.FINISHED));
    if (others) return effects;
    ex.phase = 'killed-during-launch';
    return [{ kind: 'kill-executor', executorId: ex.executorId, reason: 'its only task was killed before it subscribed' }, ...effects];
  }

  /** SHUTDOWN to the framework's running custom executors (its framework is going away). */
  private shutdownCustomExecutors(frameworkId: string): AgentEffect[] {
    const effects: AgentEffect[] = [];
    for (const ex of this.executors.values()) {
      if (ex.executorKind !== 'custom' || ex.frameworkId !== frameworkId || ex.phase !== 'subscribed' || ex.shuttingDown === true) continue;
      ex.shuttingDown = true;
      effects.push({ kind: 'send-executor', executorId: ex.executorId, message: { type: 'SHUTDOWN' } });
    }
    return effects;
  }

  // ---- task groups -----------------------------------------------------------------

  /**
   * RUN_TASK_GROUP: every task is recorded (STAGING) under one default executor, launched
   * as one container whose limits are the sum of the tasks'. A running default executor of
   * the framework takes the group; one going away gets it at its next run. A group reusing
   * a task id, another framework's or kind's executor id, or meant for another agent, is
   * refused whole: TASK_ERROR for each of its tasks it does not already hold.
   */
  private runTaskGroup(frameworkId: string, framework: FrameworkInfo, executorId: string, tasks: readonly TaskInfo[], now: number): AgentEffect[] {
    if (framework.id !== frameworkId) {
      return [log('warn', 'RUN_TASK_GROUP whose framework info does not match its framework id; ignored', { executorId, frameworkId })];
    }
    if (tasks.every((t) => this.tasks.get(t.taskId)?.executorId === executorId)) return [log('warn', 'RUN_TASK_GROUP for a group already known; ignored', { executorId })];
    this.frameworks.set(frameworkId, framework);
    const existing = this.executors.get(executorId);
    const nextRun = existing !== undefined && this.waitsForNextRun(existing, frameworkId);
    let problem: string | undefined;
    if (existing !== undefined && !nextRun && !this.takesMoreGroups(existing, frameworkId)) problem = `executor ${executorId} on agent ${this.agentId} takes no more task groups (${existing.executorKind}, ${existing.shuttingDown === true ? 'shutting down' : existing.phase})`;
    else if (tasks.some((t) => this.tasks.has(t.taskId))) problem = 'a task id of the group is already in use on this agent';
    else if (tasks.some((t) => t.agentId !== this.agentId)) problem = `a task of the group is not for agent ${this.agentId}`;
    else if (new Set(tasks.map((t) => t.taskId)).size !== tasks.length) problem = 'two tasks of the group have the same id';
    const records: TaskRecord[] = [];
    const group = ++this.groupSeq;
    for (const task of tasks) {
      if (this.tasks.has(task.taskId)) continue;
      const record: TaskRecord = { task, frameworkId, executorId: problem === undefined ? executorId : undefined, state: TaskState.STAGING, killRequested: false, launched: false, seen: new Set(), group };
      this.tasks.set(task.taskId, record);
      records.push(record);
    }
    if (problem !== undefined) return records.flatMap((r) => this.agentUpdate(r, TaskState.ERROR, TaskReason.TASK_INVALID, `Task group refused: ${problem}`, now));
    if (this.drain.state !== 'active') return this.refuseWhileDraining(records, now);
    if (existing !== undefined && nextRun) {
      existing.queued = [...(existing.queued ?? []), ...records.map((r) => r.task.taskId)];
      return [log('info', 'task group for a default executor that is going away: it waits for the executor\'s next run', { executorId, phase: existing.phase, tasks: records.length })];
    }
    if (existing !== undefined) return this.addGroup(existing, records);
    const runId = this.ids.runId();
    const taskIds = records.map((r) => r.task.taskId);
    this.executors.set(executorId, { executorId, frameworkId, runId, phase: 'launching', taskIds, launchedAt: now, executorKind: 'default', limitation: undefined });
    return [
      ...volumeEffects({ executorId, frameworkId, runId }, records.map((r) => r.task), true),
      { kind: 'launch-executor', executorId, frameworkId, runId, taskId: taskIds[0] ?? executorId, executorKind: 'default', resources: records.map((r) => r.task.resources), ...this.takeSpare() },
    ];
  }

  /** A running default executor of the framework that has not been told to shut down takes further groups. */
  private takesMoreGroups(ex: ExecutorRecord, frameworkId: string): boolean {
    return ex.executorKind === 'default' && ex.frameworkId === frameworkId && ex.shuttingDown !== true && (ex.phase === 'launching' || ex.phase === 'subscribed' || ex.phase === 'recovering');
  }

  /**
   * A default executor of the framework that is going away (told to shut down after its
   * linger, being killed, or exited with updates still on their way): a group naming it
   * waits for its next run, as the framework cannot know the agent just let it go.
   */
  private waitsForNextRun(ex: ExecutorRecord, frameworkId: string): boolean {
    return ex.executorKind === 'default' && ex.frameworkId === frameworkId && !this.takesMoreGroups(ex, frameworkId);
  }

  /**
   * Default executors that have exited with groups waiting: each starts again as a new run
   * (sandbox and container), with those groups. Done at a tick, after the old run's
   * container is gone (the shell removes it in the same mailbox job as the exit).
   */
  private nextRuns(now: number): AgentEffect[] {
    const effects: AgentEffect[] = [];
    for (const ex of [...this.executors.values()]) {
      if (ex.phase !== 'exited' || ex.queued === undefined || ex.queued.length === 0) continue;
      const records = ex.queued.flatMap((id) => this.tasks.get(id) ?? []).filter((t) => !isTerminal(t.state));
      ex.queued = undefined;
      if (records.length === 0) {
        if (ex.taskIds.length === 0) this.executors.delete(ex.executorId);
        continue;
      }
      const { executorId, frameworkId } = ex;
      const runId = this.ids.runId();
      // The old run's tasks still on their way into the stream stay listed until forgotten.
      const taskIds = [...ex.taskIds, ...records.map((r) => r.task.taskId)];
      this.executors.set(executorId, { executorId, frameworkId, runId, phase: 'launching', taskIds, launchedAt: now, executorKind: 'default', limitation: undefined });
      effects.push(
        log('info', 'starting a new run of a default executor for the task groups that waited for it', { executorId, runId, tasks: records.length }),
        ...volumeEffects({ executorId, frameworkId, runId }, records.map((r) => r.task), true),
        { kind: 'launch-executor', executorId, frameworkId, runId, taskId: records[0]!.task.taskId, executorKind: 'default', resources: records.map((r) => r.task.resources), ...this.takeSpare() },
      );
    }
    return effects;
  }

  /** Another group for a running default executor: its container grows, and the group goes now (or at SUBSCRIBE). */
  private addGroup(ex: ExecutorRecord, records: TaskRecord[]): AgentEffect[] {
    ex.taskIds.push(...records.map((r) => r.task.taskId));
    ex.idleSince = undefined;
    const live = ex.taskIds.flatMap((id) => this.tasks.get(id) ?? []).filter((t) => !isTerminal(t.state));
    const effects: AgentEffect[] = [...volumeEffects(ex, records.map((r) => r.task), true), { kind: 'update-container', executorId: ex.executorId, resources: live.map((t) => t.task.resources) }];
    if (ex.phase === 'subscribed') {
      for (const r of records) r.launched = true;
      effects.push({ kind: 'send-executor', executorId: ex.executorId, message: { type: 'LAUNCH_GROUP', tasks: records.map((r) => r.task) } });
    }
    return effects;
  }

  /** A kill for a task waiting for its executor's next run: its whole group ends KILLED, never launched (as a group killed during launch). */
  private killQueuedGroup(ex: ExecutorRecord, t: TaskRecord, now: number): AgentEffect[] {
    const doomed = (ex.queued ?? []).flatMap((id) => this.tasks.get(id) ?? []).filter((o) => o.group === t.group);
    ex.queued = (ex.queued ?? []).filter((id) => !doomed.some((o) => o.task.taskId === id));
    const effects: AgentEffect[] = [];
    for (const o of doomed) {
      if (isTerminal(o.state)) continue;
      o.killRequested = true;
      effects.push(...this.agentUpdate(o, TaskState.KILLED, TaskReason.TASK_KILLED_DURING_LAUNCH, 'Task killed while waiting for its executor to start again', now));
    }
    return effects;
  }

  /** Default executors whose tasks have all ended are shut down once idle `lingerMs` (they exit after their last reports). */
  private idleDefaultExecutors(now: number): AgentEffect[] {
    const effects: AgentEffect[] = [];
    for (const ex of this.executors.values()) {
      if (ex.executorKind !== 'default' || ex.phase !== 'subscribed' || ex.shuttingDown === true) continue;
      const busy = ex.taskIds.some((id) => {
        const t = this.tasks.get(id);
        return t !== undefined && !isTerminal(t.state);
      });
      if (busy) {
        ex.idleSince = undefined;
        continue;
      }
      ex.idleSince ??= now;
      if (now - ex.idleSince < this.lingerMs) continue;
      ex.shuttingDown = true;
      effects.push(log('debug', 'default executor idle; shutting it down', { executorId: ex.executorId }), { kind: 'send-executor', executorId: ex.executorId, message: { type: 'SHUTDOWN' } });
    }
    return effects;
  }

  /**
   * True when the agent holds the task or ended it lately. A task is recorded the moment
   * its RUN_TASK (or RUN_TASK_GROUP) is taken, and master messages come in order on one
   * channel: a task unknown here when a later message asks about it had its launch lost.
   */
  private knows(r: TaskRef): boolean {
    const t = this.tasks.get(r.taskId) ?? this.completed.get(r.taskId);
    return t !== undefined && t.frameworkId === r.frameworkId;
  }

  /** Tells the master these tasks are unknown here (TASKS_UNKNOWN; nothing when none): it ends them TASK_DROPPED or TASK_LOST. */
  private answerUnknown(unknown: TaskRef[], why: string): AgentEffect[] {
    if (unknown.length === 0) return [];
    return [
      log('info', `${why}: telling the master`, { tasks: unknown.slice(0, 10), count: unknown.length }),
      { kind: 'send-master', message: { type: 'TASKS_UNKNOWN', agentId: this.agentId, tasks: unknown } },
    ];
  }

  private killTask(taskId: string, frameworkId: string, gracePeriodMs: number | undefined, now: number): AgentEffect[] {
    const t = this.tasks.get(taskId);
    if (t === undefined || t.frameworkId !== frameworkId) {
      if (this.knows({ frameworkId, taskId })) return [log('info', 'asked to kill a task that has already ended', { taskId })];
      // Mesos's agent answers such a kill TASK_DROPPED (TASK_LOST): here the master decides, as for RECONCILE_TASKS.
      return this.answerUnknown([{ frameworkId, taskId }], 'asked to kill a task this agent does not have');
    }
    if (isTerminal(t.state)) return [log('info', 'asked to kill a task that has already ended', { taskId, state: t.state })];
    const ex = t.executorId === undefined ? undefined : this.executors.get(t.executorId);
    if (ex === undefined) return [log('warn', 'task to kill has no executor', { taskId })];
    if (ex.queued?.includes(taskId) === true) return this.killQueuedGroup(ex, t, now);
    const grace = gracePeriodMs ?? t.task.killPolicy?.gracePeriodMs ?? this.defaultGraceMs;
    if (ex.phase === 'subscribed') {
      t.killRequested = true;
      return [{ kind: 'send-executor', executorId: ex.executorId, message: { type: 'KILL', taskId, gracePeriodMs: grace } }];
    }
    if (ex.phase === 'launching' && ex.executorKind === 'custom') return this.killBeforeCustomSubscribe(ex, t, now);
    if (ex.phase === 'launching') {
      ex.phase = 'killed-during-launch';
      // A task group goes down whole (its executor never started any of it).
      const doomed = ex.executorKind === 'default' ? ex.taskIds.flatMap((id) => this.tasks.get(id) ?? []).filter((o) => !isTerminal(o.state)) : [t];
      const effects: AgentEffect[] = [{ kind: 'kill-executor', executorId: ex.executorId, reason: 'task killed before its executor subscribed' }];
      for (const o of doomed) {
        o.killRequested = true;
        effects.push(...this.agentUpdate(o, TaskState.KILLED, TaskReason.TASK_KILLED_DURING_LAUNCH, 'Task killed before its executor subscribed', now));
      }
      return effects;
    }
    if (ex.phase === 'recovering') return this.killWhileRecovering(ex, t);
    return [log('info', 'asked to kill a task whose executor is already going away', { taskId, phase: ex.phase })];
  }

  private subscribe(ex: ExecutorRecord, call: ExecutorSubscribeMessage): ExecutorCallResult {
    if (ex.phase !== 'launching' && ex.phase !== 'subscribed' && ex.phase !== 'recovering') {
      return reject('UNKNOWN_EXECUTOR', `executor ${ex.executorId} is being killed or has exited (${ex.phase})`);
    }
    ex.phase = 'subscribed';
    const effects: AgentEffect[] = [
      { kind: 'send-executor', executorId: ex.executorId, message: { type: 'SUBSCRIBED', agentId: this.agentId, executorId: ex.executorId, frameworkId: ex.frameworkId } },
    ];
    // A default executor told to shut down before an agent restart is told again (the SHUTDOWN may have been lost with the agent).
    if (ex.executorKind === 'default' && ex.shuttingDown === true) effects.push({ kind: 'send-executor', executorId: ex.executorId, message: { type: 'SHUTDOWN' } });
    for (const status of call.unacknowledged) {
      const r = this.executorUpdate(ex, status);
      effects.push(...r.effects);
      if (!r.ok) effects.push(log('warn', 'dropped an unacknowledged update sent at resubscription', { taskId: status.taskId, reason: r.reason }));
    }
    const toLaunch: TaskRecord[] = [];
    for (const taskId of ex.taskIds) {
      const t = this.tasks.get(taskId);
      if (t === undefined || t.launched || isTerminal(t.state)) continue;
      t.launched = true;
      toLaunch.push(t);
    }
    if (ex.executorKind === 'default' && toLaunch.length > 0) {
      // Each task group goes to its executor whole, in one message.
      for (const group of new Set(toLaunch.map((t) => t.group))) {
        effects.push({ kind: 'send-executor', executorId: ex.executorId, message: { type: 'LAUNCH_GROUP', tasks: toLaunch.filter((t) => t.group === group).map((t) => t.task) } });
      }
    } else {
      for (const t of toLaunch) effects.push({ kind: 'send-executor', executorId: ex.executorId, message: { type: 'LAUNCH', task: t.task } });
    }
    return ok(effects);
  }

  private executorUpdate(ex: ExecutorRecord, status: TaskStatus): ExecutorCallResult {
    const t = this.tasks.get(status.taskId);
    if (t === undefined || t.executorId !== ex.executorId) return reject('UNKNOWN_TASK', `executor ${ex.executorId} runs no task ${status.taskId}`);
    const uuid = status.uuid;
    if (uuid === undefined) return reject('INVALID', 'an executor update needs a uuid');
    if (t.seen.has(uuid)) {
      // Resent by the executor: acknowledged again if the stream holds it, else once it does.
      if (this.updates.isPending(t.task.taskId, uuid)) return ok([log('debug', 'update received again while it is being published', { taskId: t.task.taskId, uuid })]);
      const ack: AgentEffect = { kind: 'send-executor', executorId: ex.executorId, message: { type: 'ACKNOWLEDGED', taskId: t.task.taskId, uuid } };
      return ok([log('debug', 'update received again; acknowledging it again', { taskId: t.task.taskId, uuid }), ack]);
    }
    if (!canTransition(t.state, status.state)) {
      const why = `illegal transition ${t.state} → ${status.state}`;
      return reject('INVALID', why, [log('warn', `ignored executor update: ${why}`, { taskId: t.task.taskId, uuid })]);
    }
    return ok(this.apply(t, { ...withLimitation({ ...status, agentId: this.agentId, executorId: ex.executorId }, ex.limitation), uuid, source: TaskSource.EXECUTOR }));
  }

  /** An update the agent itself generates (source AGENT). */
  private agentUpdate(t: TaskRecord, state: TaskState, reason: TaskReason, message: string, now: number): AgentEffect[] {
    const status: StoredStatus = {
      taskId: t.task.taskId,
      state,
      agentId: this.agentId,
      ...(t.executorId !== undefined && { executorId: t.executorId }),
      source: TaskSource.AGENT,
      reason,
      message,
      uuid: this.ids.uuid(),
      timestamp: now / 1000,
    };
    return this.apply(t, status);
  }

  /**
   * Moves the task to the update's state (if the lifecycle allows it) and queues the update
   * for the stream; it is published at once when it is its task's only one. The stream is
   * not the master: updates are published whether or not the agent is registered.
   */
  private apply(t: TaskRecord, status: StoredStatus): AgentEffect[] {
    if (!canTransition(t.state, status.state)) {
      return [log('warn', `ignored illegal transition ${t.state} → ${status.state}`, { taskId: t.task.taskId })];
    }
    t.state = nextTaskState(t.state, status.state);
    t.seen.add(status.uuid);
    const head = this.updates.enqueue(t.frameworkId, status);
    return head === undefined ? [] : [this.publish(head, t.seen.size === 1)];
  }

  /** The effect publishing `u`; `first`: the task's first update (see `afterCheckpoint`). */
  private publish(u: UpdateToPublish, first = false): AgentEffect {
    // a terminal first update waits for a write after it, which covers the launch as well
    const wait = isTerminal(u.status.state) ? ('update' as const) : first ? ('launch' as const) : undefined;
    return { kind: 'publish-update', frameworkId: u.frameworkId, status: u.status, ...(wait !== undefined && { afterCheckpoint: wait }) };
  }

  private maybeForget(taskId: string): AgentEffect[] {
    const t = this.tasks.get(taskId);
    if (t === undefined || !isTerminal(t.state) || this.updates.hasPending(taskId)) return [];
    const ex = t.executorId === undefined ? undefined : this.executors.get(t.executorId);
    // Default and custom executors live on for more tasks: their finished tasks are forgotten meanwhile.
    const running = ex !== undefined && ex.phase !== 'exited';
    if (running && ex.executorKind === 'command') return [];
    this.completed.set(taskId, this.onAgent(t));
    for (const oldest of this.completed.keys()) {
      if (this.completed.size <= this.maxCompleted) break;
      this.completed.delete(oldest);
    }
    this.tasks.delete(taskId);
    this.updates.forget(taskId);
    if (ex !== undefined) {
      ex.taskIds = ex.taskIds.filter((id) => id !== taskId);
      if (ex.taskIds.length === 0 && !running && (ex.queued ?? []).length === 0) this.executors.delete(ex.executorId);
    }
    if (![...this.tasks.values()].some((other) => other.frameworkId === t.frameworkId)) this.frameworks.delete(t.frameworkId);
    return [log('debug', 'forgot a finished task', { taskId, state: t.state })];
  }
}

function ok(effects: AgentEffect[]): ExecutorCallResult {
  return { ok: true, effects };
}

function reject(code: RejectionCode, reason: string, effects: AgentEffect[] = []): ExecutorCallResult {
  return { ok: false, code, reason, effects };
}

/** The persistent volumes of `tasks` to prepare in the run's sandbox (a group task's in its own directory). */
function volumeEffects(ex: { executorId: string; frameworkId: string; runId: string }, tasks: readonly TaskInfo[], perTask: boolean): AgentEffect[] {
  return tasks.flatMap((t) => {
    const volumes = volumesOf(t.resources);
    if (volumes.length === 0) return [];
    return [{ kind: 'prepare-volumes' as const, executorId: ex.executorId, frameworkId: ex.frameworkId, runId: ex.runId, dir: perTask ? `tasks/${t.taskId}` : '', volumes }];
  });
}

/** True when two descriptions of a custom executor run the same thing (command and resources; the name may differ). */
function sameExecutor(a: ExecutorInfo | undefined, b: ExecutorInfo): boolean {
  return a !== undefined && JSON.stringify([a.command, a.resources ?? []]) === JSON.stringify([b.command, b.resources ?? []]);
}

/** A FAILED status of a task whose container hit a limit carries the limitation's reason and message. */
function withLimitation(status: TaskStatus, limitation: Limitation | undefined): TaskStatus {
  if (limitation === undefined || status.state !== TaskState.FAILED) return status;
  const detail = status.message === undefined ? limitation.message : `${limitation.message}; ${status.message}`;
  return { ...status, reason: limitation.reason, message: detail };
}

/** "exited with status 3", "was terminated by signal SIGKILL", "could not start: …", "exited while the agent was down". */
export function describeExit(exit: ExecutorExit): string {
  if (exit.gone !== undefined) return `exited ${exit.gone}`;
  if (exit.error !== undefined) return `could not start: ${exit.error}`;
  if (exit.signal !== undefined) return `was terminated by signal ${exit.signal}`;
  return `exited with status ${exit.exitCode ?? 'unknown'}`;
}
