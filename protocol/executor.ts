/**
 * Executor ↔ agent messages (Mesos's v1 executor API).
 *
 * Executor → agent: requests on `nesos.<c>.agent.<agentId>.executor.<executorId>`,
 * answered OK or REJECTED; the body's `executorId` must equal the subject's last token.
 * Agent → executor: events on `nesos.<c>.executor.<agentId>.<executorId>`.
 */
import { z } from 'zod';
import { defineUnion, message } from './union.js';
import { Data, Id, TaskInfo, TaskStatus } from './schema.js';

// ---- executor → agent --------------------------------------------------------------

/**
 * SUBSCRIBE: the executor process is up and listening on its events subject. The agent
 * answers OK, then sends SUBSCRIBED and LAUNCH. `unacknowledged` lists updates the
 * executor sent that the agent has not acknowledged (they are resent on resubscribe).
 */
export const ExecutorSubscribe = message('SUBSCRIBE', {
  executorId: Id,
  frameworkId: Id,
  unacknowledged: z.array(TaskStatus).max(1024).default([]),
});

/** UPDATE: a task's new status, with a `uuid`; the agent answers ACKNOWLEDGED once it holds it. */
export const ExecutorUpdate = message('UPDATE', { executorId: Id, frameworkId: Id, status: TaskStatus });

/** MESSAGE: opaque bytes for the framework. */
export const ExecutorMessage = message('MESSAGE', { executorId: Id, frameworkId: Id, data: Data });

/** Every call an executor makes to its agent. */
export const ExecutorCall = defineUnion('ExecutorCall', [ExecutorSubscribe, ExecutorUpdate, ExecutorMessage]);
/** Every call an executor makes to its agent. */
export type ExecutorCall = z.infer<typeof ExecutorCall.schema>;

// ---- agent → executor --------------------------------------------------------------

/** SUBSCRIBED: the agent knows the executor. */
export const ExecutorSubscribed = message('SUBSCRIBED', { agentId: Id, executorId: Id, frameworkId: Id });

/** LAUNCH: run this task. */
export const ExecutorLaunch = message('LAUNCH', { task: TaskInfo });

/**
 * LAUNCH_GROUP: run these tasks as one group (the default executor): all are delivered in
 * this one message, and when one ends TASK_FAILED or TASK_KILLED the others are killed.
 */
export const ExecutorLaunchGroup = message('LAUNCH_GROUP', { tasks: z.array(TaskInfo).min(1).max(1024) });

/** KILL: kill the task: SIGTERM to its process group, SIGKILL after the grace period. */
export const ExecutorKill = message('KILL', { taskId: Id, gracePeriodMs: z.number().int().nonnegative().optional() });

/** ACKNOWLEDGED: the agent holds update `uuid`; the executor need not resend it. */
export const ExecutorAcknowledged = message('ACKNOWLEDGED', { taskId: Id, uuid: Id });

/** MESSAGE: opaque bytes from the framework. */
export const ExecutorFrameworkMessage = message('MESSAGE', { data: Data });

/**
 * RECONNECT: the agent restarted and took this executor back from its checkpoint: SUBSCRIBE
 * again, with every update not yet acknowledged (Mesos's ReconnectExecutorMessage). An
 * executor whose UPDATE is answered NOT_SUBSCRIBED does the same.
 */
export const ExecutorReconnect = message('RECONNECT', { agentId: Id });

/** SHUTDOWN: kill all tasks and exit. */
export const ExecutorShutdown = message('SHUTDOWN', { gracePeriodMs: z.number().int().nonnegative().optional() });

/** Every event an agent sends to an executor. */
export const ExecutorEvent = defineUnion('ExecutorEvent', [
  ExecutorSubscribed,
  ExecutorLaunch,
  ExecutorLaunchGroup,
  ExecutorKill,
  ExecutorAcknowledged,
  ExecutorFrameworkMessage,
  ExecutorShutdown,
  ExecutorReconnect,
]);
/** Every event an agent sends to an executor. */
export type ExecutorEvent = z.infer<typeof ExecutorEvent.schema>;

// ---- agent → spare executor --------------------------------------------------------

/**
 * BIND: a spare executor (a built-in executor process the agent started ahead of need,
 * modules loaded and NATS connected) becomes this executor. Sent as one line of JSON on
 * the spare's stdin; `env` is the whole environment an executor started for the run gets
 * (NESOS_EXECUTOR_ID, NESOS_SANDBOX, NESOS_EXECUTOR_KIND, ...).
 */
export const SpareBind = message('BIND', { env: z.record(z.string().max(256), z.string().max(65_536)) });
/** The line a spare executor waits for. */
export type SpareBind = z.infer<typeof SpareBind>;
