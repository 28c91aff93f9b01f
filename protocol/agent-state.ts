/**
 * An agent's own state, asked of the agent directly (Mesos's agent GET_STATE): what it
 * runs, how it isolates, its drain state, and per executor what its container uses.
 * Requests on `nesos.<c>.agent.<agentId>.state.<principal>`, answered AGENT_STATE or
 * REJECTED. Times are ms since the epoch; cpu times in seconds; memory in bytes.
 */
import { z } from 'zod';
import { defineUnion, message } from './union.js';
import { RejectedReply } from './replies.js';
import { Attributes, Epoch, Id, Text } from './schema.js';
import { ALL_TASK_STATES, TaskReason, type TaskState } from './task-state.js';

/** GET_STATE: the agent's state now. */
export const AgentGetState = message('GET_STATE', {});

/** Every call the agent's state subject takes. */
export const AgentStateCall = defineUnion('AgentStateCall', [AgentGetState]);
/** Every call the agent's state subject takes. */
export type AgentStateCall = z.infer<typeof AgentStateCall.schema>;

/** What an executor's container used, as measured when the state was asked for. */
export const ContainerUsageView = z.object({
  cpuUserSeconds: z.number().nonnegative(),
  cpuSystemSeconds: z.number().nonnegative(),
  /** Memory in use (the cgroup's usage; resident memory for posix). */
  memBytes: z.number().nonnegative(),
  /** Highest memory use seen. */
  memMaxBytes: z.number().nonnegative().optional(),
  memLimitBytes: z.number().nonnegative().optional(),
  cpusLimit: z.number().nonnegative().optional(),
  processes: z.number().int().nonnegative(),
  /** CFS periods in which the quota throttled the container (cgroups). */
  throttledPeriods: z.number().int().nonnegative().optional(),
});
/** What an executor's container used. */
export type ContainerUsageView = z.infer<typeof ContainerUsageView>;

/** One executor: its tasks, process, sandbox and usage. */
export const AgentExecutorView = z.object({
  executorId: Id,
  frameworkId: Id,
  runId: Id,
  /** `command` (one task), `default` (task groups) or `custom` (TaskInfo.executor). */
  kind: z.enum(['command', 'default', 'custom']),
  /** launching, subscribed, recovering, exited… */
  phase: z.string().max(64),
  taskIds: z.array(Id).max(1024),
  pid: z.number().int().optional(),
  sandbox: z.string().max(4096).optional(),
  /** The limit its container went over, if any. */
  limitation: z.object({ reason: z.enum(Object.values(TaskReason) as [TaskReason, ...TaskReason[]]), message: Text }).optional(),
  /** The container's usage (its tasks; the executor process is not in it). */
  usage: ContainerUsageView.optional(),
  /** The executor process's own resident memory. */
  executorMemBytes: z.number().nonnegative().optional(),
});
/** One executor as the agent shows it. */
export type AgentExecutorView = z.infer<typeof AgentExecutorView>;

/** A spare executor: started ahead of need, not yet any executor (never checkpointed). */
export const AgentSpareView = z.object({
  spareId: Id,
  pid: z.number().int().optional(),
  /** When it was started (ms since the epoch). */
  startedAt: z.number(),
  /** Told to go (it exits). */
  stopping: z.boolean(),
});
/** A spare executor as the agent shows it. */
export type AgentSpareView = z.infer<typeof AgentSpareView>;

/** One task as the agent knows it. */
export const AgentTaskView = z.object({
  taskId: Id,
  frameworkId: Id,
  executorId: Id.optional(),
  state: z.enum(ALL_TASK_STATES as [TaskState, ...TaskState[]]),
  killRequested: z.boolean(),
  /** Updates waiting for the framework's acknowledgement. */
  pendingUpdates: z.number().int().nonnegative(),
});

/** The agent's state. */
export const AgentSnapshot = z.object({
  id: Id,
  hostname: z.string().max(256),
  resources: z.string().max(65_536),
  attributes: Attributes,
  registered: z.boolean(),
  epoch: Epoch.optional(),
  masterId: Id.optional(),
  /** The isolator in use (`isolator`: cgroups-v1, cgroups-v2 or posix) and what it works with. */
  isolation: z.record(z.string().max(64), z.string().max(4096)),
  drain: z.object({ state: z.enum(['active', 'draining', 'drained']), maxGracePeriodMs: z.number().int().nonnegative().optional() }),
  /** What the agent took back from its checkpoint when it started, if anything. */
  recovery: z
    .object({ mode: z.enum(['reconnect', 'cleanup']), executors: z.number().int().nonnegative(), reattached: z.number().int().nonnegative(), gone: z.number().int().nonnegative() })
    .optional(),
  tasks: z.array(AgentTaskView).max(100_000),
  executors: z.array(AgentExecutorView).max(100_000),
  /** Spare executors: built-in executor processes started ahead of need, bound to the next executors launched. */
  spares: z.array(AgentSpareView).max(1024).optional(),
  timestamp: z.number(),
});
/** The agent's state. */
export type AgentSnapshot = z.infer<typeof AgentSnapshot>;

/** AGENT_STATE: reply to GET_STATE. */
export const AgentStateReply = message('AGENT_STATE', { state: AgentSnapshot });

/** Replies of the agent's state subject. */
export const AgentStateReplies = defineUnion('AgentStateReplies', [AgentStateReply, RejectedReply]);
/** Replies of the agent's state subject. */
export type AgentStateReplies = z.infer<typeof AgentStateReplies.schema>;
