/**
 * The operator API over NATS (the HTTP API of a later issue serves the same calls):
 * requests on `nesos.<c>.master.operator.<principal>`, answered STATE or REJECTED.
 */
import { z } from 'zod';
import { defineUnion, message } from './union.js';
import { RejectedReply } from './replies.js';
import { Attributes, Epoch, FrameworkCapability, Id, TaskStatus } from './schema.js';
import { ALL_TASK_STATES, type TaskState } from './task-state.js';

/** GET_STATE: the master's view of the cluster. */
export const GetState = message('GET_STATE', {});

/** Every operator call. */
export const OperatorCall = defineUnion('OperatorCall', [GetState]);
/** Every operator call. */
export type OperatorCall = z.infer<typeof OperatorCall.schema>;

/** An agent as the master sees it. Resources are in Mesos text syntax. */
export const AgentView = z.object({
  id: Id,
  hostname: z.string(),
  /** `down`: taken down for maintenance (START_MAINTENANCE); it may not register until STOP_MAINTENANCE. */
  status: z.enum(['active', 'unreachable', 'recovering', 'gone', 'down']),
  resources: z.string(),
  available: z.string(),
  attributes: Attributes,
  registeredAt: z.number(),
  lastSeenAt: z.number(),
  tasks: z.number().int(),
  offers: z.number().int(),
});

/** A framework as the master sees it. */
export const FrameworkView = z.object({
  id: Id,
  name: z.string(),
  principal: z.string(),
  roles: z.array(z.string()),
  capabilities: z.array(FrameworkCapability),
  connected: z.boolean(),
  suppressed: z.boolean(),
  failoverTimeoutSeconds: z.number(),
  registeredAt: z.number(),
  allocated: z.string(),
  share: z.number(),
  tasks: z.number().int(),
  offers: z.number().int(),
});

/** A task as the master sees it. */
export const TaskView = z.object({
  taskId: Id,
  name: z.string(),
  frameworkId: Id,
  agentId: Id,
  state: z.enum(ALL_TASK_STATES as [TaskState, ...TaskState[]]),
  resources: z.string(),
  status: TaskStatus.optional(),
});

/** An outstanding offer. */
export const OfferView = z.object({ id: Id, frameworkId: Id, agentId: Id, resources: z.string(), createdAt: z.number() });

/** The master's state, as returned by GET_STATE. Times are ms since the epoch. */
export const MasterSnapshot = z.object({
  masterId: Id,
  epoch: Epoch,
  cluster: z.string(),
  startedAt: z.number(),
  agents: z.array(AgentView),
  frameworks: z.array(FrameworkView),
  tasks: z.array(TaskView),
  completedTasks: z.array(TaskView),
  offers: z.array(OfferView),
});
/** The master's state. */
export type MasterSnapshot = z.infer<typeof MasterSnapshot>;

/** STATE: reply to GET_STATE. */
export const StateReply = message('STATE', { epoch: Epoch, state: MasterSnapshot });

/** Replies to operator calls. */
export const OperatorReply = defineUnion('OperatorReply', [StateReply, RejectedReply]);
/** Replies to operator calls. */
export type OperatorReply = z.infer<typeof OperatorReply.schema>;
