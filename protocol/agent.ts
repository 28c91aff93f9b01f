/**
 * Agent ↔ master messages (Mesos's internal slave/master protocol, in v1 style).
 *
 * Agent → master: requests on `nesos.<c>.master.agent.<agentId>`; the body's `agentId`
 * must equal the subject's last token. Master → agent: `nesos.<c>.agent.<agentId>.master`,
 * each carrying the master's `epoch`; an agent drops messages from an older epoch.
 *
 * Status updates do not travel here: the agent publishes them to the cluster's updates
 * stream (`updates.ts`), which the master and the frameworks read.
 */
import { z } from 'zod';
import { defineUnion, message } from './union.js';
import { OkReply, RejectedReply } from './replies.js';
import { AgentInfo, Data, Epoch, FrameworkInfo, Id, ResourcesWire, TaskInfo } from './schema.js';
import { ALL_TASK_STATES, type TaskState } from './task-state.js';

/**
 * A task an agent runs, as it reports it when (re)registering. Without the framework's
 * FrameworkInfo (Mesos sends the agent's frameworks along): a new leader knows frameworks
 * from the registry, and 10,000 agents re-registering 100,000 tasks would make it decode
 * 100,000 copies of it. A `framework` field sent by an older agent is ignored.
 */
export const TaskOnAgent = z.object({
  frameworkId: Id,
  task: TaskInfo,
  state: z.enum(ALL_TASK_STATES as [TaskState, ...TaskState[]]),
});
/** A task an agent runs, as it reports it when (re)registering. */
export type TaskOnAgent = z.infer<typeof TaskOnAgent>;

/** A task named by its framework and id (RECONCILE_TASKS, TASKS_UNKNOWN). */
export const TaskRef = z.object({ frameworkId: Id, taskId: Id });
/** A task named by its framework and id (RECONCILE_TASKS, TASKS_UNKNOWN). */
export type TaskRef = z.infer<typeof TaskRef>;

// ---- agent → master ----------------------------------------------------------------

/**
 * REGISTER_AGENT: admit the agent (first time) or readmit it (after a master or agent
 * restart, with the tasks it still runs, and the last ones that ended, in a terminal
 * state). Answered AGENT_REGISTERED.
 */
export const RegisterAgent = message('REGISTER_AGENT', {
  agent: AgentInfo,
  tasks: z.array(TaskOnAgent).max(100_000).default([]),
});

/** HEARTBEAT: the agent is alive. Answered OK, or REJECTED UNKNOWN_AGENT: register again. */
export const AgentHeartbeat = message('HEARTBEAT', { agentId: Id });

/** EXITED_EXECUTOR: an executor process ended (`exitCode` or `signal`). */
export const ExitedExecutor = message('EXITED_EXECUTOR', {
  agentId: Id,
  frameworkId: Id,
  executorId: Id,
  exitCode: z.number().int().optional(),
  signal: z.string().max(32).optional(),
});

/** EXECUTOR_TO_FRAMEWORK: opaque bytes from an executor to its framework. */
export const ExecutorToFramework = message('EXECUTOR_TO_FRAMEWORK', {
  agentId: Id,
  frameworkId: Id,
  executorId: Id,
  data: Data,
});

/**
 * TASKS_UNKNOWN: tasks the master asked about (RECONCILE_TASKS) or asked to kill
 * (KILL_TASK) that this agent neither holds nor ended lately: their launch never reached it
 * (Mesos's agent answers them TASK_DROPPED, or TASK_LOST). The master ends those it still
 * holds STAGING on this agent. Answered OK.
 */
export const TasksUnknown = message('TASKS_UNKNOWN', {
  agentId: Id,
  tasks: z.array(TaskRef).min(1).max(100_000),
});

/** Every message an agent sends to the master. */
export const AgentToMaster = defineUnion('AgentToMaster', [
  RegisterAgent,
  AgentHeartbeat,
  ExitedExecutor,
  ExecutorToFramework,
  TasksUnknown,
]);
/** Every message an agent sends to the master. */
export type AgentToMaster = z.infer<typeof AgentToMaster.schema>;

/** AGENT_REGISTERED: reply to REGISTER_AGENT; heartbeat every `heartbeatIntervalMs`. */
export const AgentRegistered = message('AGENT_REGISTERED', {
  epoch: Epoch,
  agentId: Id,
  masterId: Id,
  heartbeatIntervalMs: z.number().int().positive(),
});

/** Replies the master gives an agent. */
export const MasterReplyToAgent = defineUnion('MasterReplyToAgent', [AgentRegistered, OkReply, RejectedReply]);
/** Replies the master gives an agent. */
export type MasterReplyToAgent = z.infer<typeof MasterReplyToAgent.schema>;

// ---- master → agent ----------------------------------------------------------------

/** RUN_TASK: launch `task` for the framework (the master has checked it against an offer). */
export const RunTask = message('RUN_TASK', { epoch: Epoch, frameworkId: Id, framework: FrameworkInfo, task: TaskInfo });

/**
 * RUN_TASK_GROUP: launch `tasks` as one group in a new default executor `executorId`. The
 * agent records them all and hands them to the executor in one LAUNCH_GROUP.
 */
export const RunTaskGroup = message('RUN_TASK_GROUP', {
  epoch: Epoch,
  frameworkId: Id,
  framework: FrameworkInfo,
  executorId: Id,
  tasks: z.array(TaskInfo).min(1).max(1024),
});

/** KILL_TASK: kill a task with the given grace period (else the task's kill policy, else 3 s). */
export const KillTask = message('KILL_TASK', {
  epoch: Epoch,
  frameworkId: Id,
  taskId: Id,
  gracePeriodMs: z.number().int().nonnegative().optional(),
});

/** SHUTDOWN_FRAMEWORK: kill every task of the framework (torn down or failed over too long). */
export const ShutdownFramework = message('SHUTDOWN_FRAMEWORK', { epoch: Epoch, frameworkId: Id });

/** FRAMEWORK_TO_EXECUTOR: opaque bytes from a framework to one of its executors. */
export const FrameworkToExecutor = message('FRAMEWORK_TO_EXECUTOR', {
  epoch: Epoch,
  frameworkId: Id,
  executorId: Id,
  data: Data,
});

/**
 * DRAIN_AGENT: take the agent out of service (Mesos's DrainSlaveMessage). It kills every
 * task it runs (SIGTERM, then SIGKILL after the task's grace period, at most
 * `maxGracePeriodMs` when given), refuses new tasks (TASK_DROPPED, REASON_AGENT_DRAINING)
 * and is DRAINING until every task has ended and its last update is acknowledged, then
 * DRAINED. Draining again only lowers the grace period. The state survives the agent's
 * restart.
 */
export const DrainAgent = message('DRAIN_AGENT', { epoch: Epoch, maxGracePeriodMs: z.number().int().nonnegative().max(3_600_000).optional() });

/**
 * CHECKPOINT_RESOURCES: what RESERVE and CREATE have made of the agent's resources, as the
 * master holds it (its dynamic reservations and persistent volumes; Mesos's
 * CheckpointResourcesMessage). Sent after every registration and every offer operation on
 * the agent. The agent removes the directory of every persistent volume not listed that no
 * live task uses (a DESTROY, made while it ran or while it was away).
 */
export const CheckpointResources = message('CHECKPOINT_RESOURCES', { epoch: Epoch, resources: ResourcesWire });

/**
 * RECONCILE_TASKS: tasks the master holds STAGING on this agent that the agent did not
 * report when it registered again (Mesos's ReconcileTasksMessage from reconcileKnownSlave).
 * Sent on the channel RUN_TASK takes, so a launch still on its way arrives first; the agent
 * answers TASKS_UNKNOWN for those it neither holds nor ended lately.
 */
export const ReconcileTasks = message('RECONCILE_TASKS', { epoch: Epoch, tasks: z.array(TaskRef).min(1).max(100_000) });

/** REACTIVATE_AGENT: end a drain; the agent takes tasks again. */
export const ReactivateAgent = message('REACTIVATE_AGENT', { epoch: Epoch });

/** Every message the master sends to an agent. */
export const MasterToAgent = defineUnion('MasterToAgent', [
  RunTask,
  RunTaskGroup,
  KillTask,
  ShutdownFramework,
  FrameworkToExecutor,
  DrainAgent,
  ReactivateAgent,
  CheckpointResources,
  ReconcileTasks,
]);
/** Every message the master sends to an agent. */
export type MasterToAgent = z.infer<typeof MasterToAgent.schema>;
