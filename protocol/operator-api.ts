/**
 * The operator API beyond GET_STATE: Mesos's v1 operator calls where they apply, served over
 * HTTP (`POST /api/v1` with a JSON body) and over NATS (`nesos.<c>.master.operator.<principal>`).
 * `operator.ts` keeps the calls the master answers today (GET_STATE); this file adds the rest,
 * so that clients (the CLI, the web UI, the HTTP server) can be written against them now.
 *
 * Semantics, as in Mesos:
 * - GET_* calls read; they are answered by the reply named with each.
 * - UPDATE_WEIGHTS / UPDATE_QUOTA change roles' weights and quota (guarantee, limit).
 * - RESERVE_RESOURCES / UNRESERVE_RESOURCES make or remove dynamic reservations on an agent.
 * - The maintenance schedule lists windows during which agents are expected to be down;
 *   START_MAINTENANCE takes agents DOWN (their tasks are killed), STOP_MAINTENANCE brings them UP.
 * - DRAIN_AGENT kills an agent's tasks (with an optional grace period) and stops offering it;
 *   DEACTIVATE_AGENT only stops offering it; REACTIVATE_AGENT undoes both.
 * - MARK_AGENT_GONE: the agent will never come back; its tasks become TASK_GONE_BY_OPERATOR.
 * - TEARDOWN ends a framework (all its tasks are killed).
 * - KILL_TASK (a Nesos addition): an operator kills one task of any framework.
 *
 * Mutating calls are answered OK. Every call may be answered REJECTED with a `RejectionCode`;
 * a master that does not implement a call yet answers REJECTED UNKNOWN_TYPE.
 * Resources are written in Mesos's text syntax (`cpus:2;mem:1024`, `cpus(eng):1`).
 */
import { z } from 'zod';
import { defineUnion, message } from './union.js';
import { OkReply, RejectedReply } from './replies.js';
import { Resources } from './resources.js';
import { Epoch, Id, TaskStatus } from './schema.js';
import * as state from './operator.js';
import { GetState, MasterSnapshot } from './operator.js';

/** An agent as the master sees it (from operator.ts, with its type). */
export const AgentView = state.AgentView;
/** An agent as the master sees it. */
export type AgentView = z.infer<typeof AgentView>;
/** A framework as the master sees it (from operator.ts, with its type). */
export const FrameworkView = state.FrameworkView;
/** A framework as the master sees it. */
export type FrameworkView = z.infer<typeof FrameworkView>;
/** A task as the master sees it (from operator.ts, with its type). */
export const TaskView = state.TaskView;
/** A task as the master sees it. */
export type TaskView = z.infer<typeof TaskView>;
/** An outstanding offer (from operator.ts, with its type). */
export const OfferView = state.OfferView;
/** An outstanding offer. */
export type OfferView = z.infer<typeof OfferView>;

/** A role's name: `*` or path segments of letters, digits, `-`, `_`, `.` separated by `/`. */
export const RoleName = z
  .string()
  .min(1)
  .max(256)
  .regex(/^(\*|[A-Za-z0-9_-][A-Za-z0-9_.-]*(\/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*)$/, 'must be "*" or a role path like "eng/web"');

/** Resources in Mesos text syntax, checked by the resources parser. */
export const ResourceText = z
  .string()
  .max(65536)
  .refine((text) => Resources.tryParse(text).ok, { message: 'is not valid resources text (e.g. "cpus:2;mem:1024")' });

// ---- views (parts of the cluster state beyond MasterSnapshot) ---------------------------

/** The master that leads, as this master knows it. `url` is its HTTP base URL when it serves HTTP. */
export const LeaderView = z.object({ masterId: Id, epoch: Epoch, url: z.string().max(512).optional() });
/** The master that leads. */
export type LeaderView = z.infer<typeof LeaderView>;

/** A role's weight (default 1). */
export const WeightView = z.object({ role: RoleName, weight: z.number().positive().max(1e6) });
/** A role's weight. */
export type WeightView = z.infer<typeof WeightView>;

/** A role's quota: resources it is guaranteed and never offered more than (limit). */
export const QuotaView = z.object({ role: RoleName, guarantee: ResourceText.optional(), limit: ResourceText.optional() });
/** A role's quota. */
export type QuotaView = z.infer<typeof QuotaView>;

/** A role as the allocator sees it: its weight, quota, frameworks, what it holds and its DRF share. */
export const RoleView = z.object({
  name: RoleName,
  weight: z.number().positive(),
  quota: QuotaView.optional(),
  frameworks: z.array(Id),
  allocated: z.string(),
  offered: z.string(),
  reserved: z.string().optional(),
  share: z.number().nonnegative().optional(),
});
/** A role as the allocator sees it. */
export type RoleView = z.infer<typeof RoleView>;

/** One maintenance window: agents expected down from `start` (ms since the epoch) for `durationMs`. */
export const MaintenanceWindow = z.object({
  agentIds: z.array(Id).min(1).max(100_000),
  start: z.number().nonnegative(),
  durationMs: z.number().int().positive(),
});
/** One maintenance window. */
export type MaintenanceWindow = z.infer<typeof MaintenanceWindow>;

/** An agent's maintenance mode: UP (normal), DRAINING (scheduled, offers carry unavailability), DOWN. */
export const MaintenanceMode = z.enum(['UP', 'DRAINING', 'DOWN']);
/** An agent's maintenance mode. */
export type MaintenanceMode = z.infer<typeof MaintenanceMode>;

/** A framework's answer to the inverse offers of one agent: UNKNOWN until it answers (Mesos's InverseOfferStatus). */
export const InverseOfferStatus = z.object({
  frameworkId: Id,
  status: z.enum(['UNKNOWN', 'ACCEPT', 'DECLINE']),
  /** When the master recorded it (ms since the epoch): the answer's arrival, or the first inverse offer for UNKNOWN. */
  updatedAt: z.number(),
});
/** A framework's answer to the inverse offers of one agent. */
export type InverseOfferStatus = z.infer<typeof InverseOfferStatus>;

/** A scheduled agent's mode and, while DRAINING, the frameworks' answers to its inverse offers (absent when none was asked). */
export const MaintenanceAgentStatus = z.object({ agentId: Id, mode: MaintenanceMode, statuses: z.array(InverseOfferStatus).optional() });
/** A scheduled agent's maintenance status. */
export type MaintenanceAgentStatus = z.infer<typeof MaintenanceAgentStatus>;

/** Maintenance: the schedule, each scheduled agent's mode and the frameworks' answers to its inverse offers. */
export const MaintenanceView = z.object({
  windows: z.array(MaintenanceWindow),
  agents: z.array(MaintenanceAgentStatus),
});
/** Maintenance: the schedule and each scheduled agent's mode. */
export type MaintenanceView = z.infer<typeof MaintenanceView>;

/** A task with what the master may add beyond `TaskView`: its role and its status history (oldest first). */
export const ClusterTaskView = TaskView.extend({ role: RoleName.optional(), statuses: z.array(TaskStatus).optional() });
/** A task in the cluster state. */
export type ClusterTaskView = z.infer<typeof ClusterTaskView>;

/** An agent with what the master may add beyond `AgentView`: whether it is deactivated or draining. */
export const ClusterAgentView = AgentView.extend({ deactivated: z.boolean().optional(), draining: z.boolean().optional() });
/** An agent in the cluster state. */
export type ClusterAgentView = z.infer<typeof ClusterAgentView>;

/**
 * The cluster state served by `/state`, GET_STATE over HTTP and the event stream's SUBSCRIBED:
 * the master's snapshot plus the leader, roles, weights, quota and maintenance where the master
 * knows them (absent means "this master does not track it yet", not "none").
 */
export const ClusterState = MasterSnapshot.extend({
  agents: z.array(ClusterAgentView),
  tasks: z.array(ClusterTaskView),
  completedTasks: z.array(ClusterTaskView),
  leader: LeaderView.optional(),
  roles: z.array(RoleView).optional(),
  weights: z.array(WeightView).optional(),
  quotas: z.array(QuotaView).optional(),
  maintenance: MaintenanceView.optional(),
});
/** The cluster state. */
export type ClusterState = z.infer<typeof ClusterState>;

// ---- calls --------------------------------------------------------------------------------

/** GET_AGENTS: every agent the master knows. Answered AGENTS. */
export const GetAgents = message('GET_AGENTS', {});
/** GET_FRAMEWORKS: every framework. Answered FRAMEWORKS. */
export const GetFrameworks = message('GET_FRAMEWORKS', {});
/** GET_TASKS: running and completed tasks. Answered TASKS. */
export const GetTasks = message('GET_TASKS', {});
/** GET_MASTER: which master answers, whether it leads, and the leader. Answered MASTER. */
export const GetMaster = message('GET_MASTER', {});
/** GET_ROLES: roles with weights, quota and shares. Answered ROLES. */
export const GetRoles = message('GET_ROLES', {});
/** GET_WEIGHTS: every role's weight. Answered WEIGHTS. */
export const GetWeights = message('GET_WEIGHTS', {});
/** UPDATE_WEIGHTS: set roles' weights. Answered OK. */
export const UpdateWeights = message('UPDATE_WEIGHTS', { weights: z.array(WeightView).min(1).max(1024) });
/** GET_QUOTA: every role's quota. Answered QUOTA. */
export const GetQuota = message('GET_QUOTA', {});
/** UPDATE_QUOTA: set roles' quota (a role with neither guarantee nor limit has its quota removed). Answered OK. */
export const UpdateQuota = message('UPDATE_QUOTA', { quotas: z.array(QuotaView).min(1).max(1024) });
/** RESERVE_RESOURCES: reserve `resources`, given in dynamically reserved form (e.g. `cpus(eng,dynamic):1`), on an agent. Answered OK. */
export const ReserveResources = message('RESERVE_RESOURCES', { agentId: Id, resources: ResourceText });
/** UNRESERVE_RESOURCES: give reserved `resources` of an agent back to `*`. Answered OK. */
export const UnreserveResources = message('UNRESERVE_RESOURCES', { agentId: Id, resources: ResourceText });
/** GET_MAINTENANCE_SCHEDULE: the maintenance windows. Answered MAINTENANCE_SCHEDULE. */
export const GetMaintenanceSchedule = message('GET_MAINTENANCE_SCHEDULE', {});
/** UPDATE_MAINTENANCE_SCHEDULE: replace the maintenance windows. Answered OK. */
export const UpdateMaintenanceSchedule = message('UPDATE_MAINTENANCE_SCHEDULE', { windows: z.array(MaintenanceWindow).max(10_000) });
/** GET_MAINTENANCE_STATUS: each scheduled agent's mode and the frameworks' answers to its inverse offers. Answered MAINTENANCE_STATUS. */
export const GetMaintenanceStatus = message('GET_MAINTENANCE_STATUS', {});
/** START_MAINTENANCE: take scheduled agents DOWN. Answered OK. */
export const StartMaintenance = message('START_MAINTENANCE', { agentIds: z.array(Id).min(1).max(100_000) });
/** STOP_MAINTENANCE: bring agents back UP. Answered OK. */
export const StopMaintenance = message('STOP_MAINTENANCE', { agentIds: z.array(Id).min(1).max(100_000) });
/** DRAIN_AGENT: kill the agent's tasks (grace period capped by `maxGracePeriodMs`) and stop offering it. Answered OK. */
export const DrainAgent = message('DRAIN_AGENT', {
  agentId: Id,
  maxGracePeriodMs: z.number().int().nonnegative().max(3_600_000).optional(),
  markGone: z.boolean().optional(),
});
/** DEACTIVATE_AGENT: stop offering the agent's resources; its tasks keep running. Answered OK. */
export const DeactivateAgent = message('DEACTIVATE_AGENT', { agentId: Id });
/** REACTIVATE_AGENT: offer a deactivated or drained agent again. Answered OK. */
export const ReactivateAgent = message('REACTIVATE_AGENT', { agentId: Id });
/** MARK_AGENT_GONE: the agent will never return; its tasks become TASK_GONE_BY_OPERATOR. Answered OK. */
export const MarkAgentGone = message('MARK_AGENT_GONE', { agentId: Id });
/** TEARDOWN: end a framework, killing its tasks. Answered OK. */
export const Teardown = message('TEARDOWN', { frameworkId: Id });
/** KILL_TASK (Nesos): kill one task; `frameworkId` is needed only when task ids clash. Answered OK. */
export const KillTask = message('KILL_TASK', {
  taskId: Id,
  frameworkId: Id.optional(),
  gracePeriodMs: z.number().int().nonnegative().max(3_600_000).optional(),
});

/**
 * EXPLAIN_OFFERS: why a framework is not offered resources (for `role`, default each of its
 * roles), optionally for a task needing `resources`: named reasons (no agent with enough,
 * filtered, suppressed, quota limit reached, held for others' guarantees). Answered EXPLANATION.
 */
export const ExplainOffers = message('EXPLAIN_OFFERS', { frameworkId: Id, role: RoleName.optional(), resources: ResourceText.optional() });

/** Every operator call of the API (GET_STATE included). */
export const OperatorApiCall = defineUnion('OperatorApiCall', [
  GetState,
  GetAgents,
  GetFrameworks,
  GetTasks,
  GetMaster,
  GetRoles,
  GetWeights,
  UpdateWeights,
  GetQuota,
  UpdateQuota,
  ReserveResources,
  UnreserveResources,
  GetMaintenanceSchedule,
  UpdateMaintenanceSchedule,
  GetMaintenanceStatus,
  StartMaintenance,
  StopMaintenance,
  DrainAgent,
  DeactivateAgent,
  ReactivateAgent,
  MarkAgentGone,
  Teardown,
  KillTask,
  ExplainOffers,
]);
/** Every operator call of the API. */
export type OperatorApiCall = z.infer<typeof OperatorApiCall.schema>;
/** The `type` of an operator call. */
export type OperatorApiCallType = OperatorApiCall['type'];

// ---- replies ------------------------------------------------------------------------------

/** AGENTS: reply to GET_AGENTS. */
export const AgentsReply = message('AGENTS', { epoch: Epoch, agents: z.array(ClusterAgentView) });
/** FRAMEWORKS: reply to GET_FRAMEWORKS. */
export const FrameworksReply = message('FRAMEWORKS', { epoch: Epoch, frameworks: z.array(FrameworkView) });
/** TASKS: reply to GET_TASKS. */
export const TasksReply = message('TASKS', { epoch: Epoch, tasks: z.array(ClusterTaskView), completedTasks: z.array(ClusterTaskView) });
/** MASTER: reply to GET_MASTER. */
export const MasterReply = message('MASTER', {
  epoch: Epoch,
  masterId: Id,
  leading: z.boolean(),
  leader: LeaderView.optional(),
  startedAt: z.number(),
});
/** ROLES: reply to GET_ROLES. */
export const RolesReply = message('ROLES', { epoch: Epoch, roles: z.array(RoleView) });
/** WEIGHTS: reply to GET_WEIGHTS. */
export const WeightsReply = message('WEIGHTS', { epoch: Epoch, weights: z.array(WeightView) });
/** QUOTA: reply to GET_QUOTA. */
export const QuotaReply = message('QUOTA', { epoch: Epoch, quotas: z.array(QuotaView) });
/** MAINTENANCE_SCHEDULE: reply to GET_MAINTENANCE_SCHEDULE. */
export const MaintenanceScheduleReply = message('MAINTENANCE_SCHEDULE', { epoch: Epoch, windows: z.array(MaintenanceWindow) });
/** MAINTENANCE_STATUS: reply to GET_MAINTENANCE_STATUS: each scheduled agent's mode and, while DRAINING, the frameworks' inverse offer answers. */
export const MaintenanceStatusReply = message('MAINTENANCE_STATUS', {
  epoch: Epoch,
  agents: z.array(MaintenanceAgentStatus),
});

/** One answer of EXPLAIN_OFFERS: for one role, whether the next run may offer something, and why not. */
export const Explanation = z.object({
  frameworkId: Id,
  role: RoleName,
  offerable: z.boolean(),
  /** Reason names, most fundamental first (e.g. NO_AGENT_WITH_ENOUGH, FILTERED, ROLE_SUPPRESSED, QUOTA_LIMIT_REACHED). */
  reasons: z.array(z.string().max(64)),
  /** How many active agents got each verdict (NOT_ENOUGH, QUOTA_LIMIT, HEADROOM, FILTERED, OFFERABLE). */
  agents: z.record(z.string().max(64), z.number().int().nonnegative()),
});
/** One answer of EXPLAIN_OFFERS. */
export type Explanation = z.infer<typeof Explanation>;

/** EXPLANATION: reply to EXPLAIN_OFFERS. */
export const ExplanationReply = message('EXPLANATION', { epoch: Epoch, explanations: z.array(Explanation) });

/** STATE: reply to GET_STATE, with the whole cluster state (leader, roles, weights, quota, …). */
export const ClusterStateReply = message('STATE', { epoch: Epoch, state: ClusterState });

/** Every reply to an operator API call (STATE, OK and REJECTED included). */
export const OperatorApiReply = defineUnion('OperatorApiReply', [
  ClusterStateReply,
  AgentsReply,
  FrameworksReply,
  TasksReply,
  MasterReply,
  RolesReply,
  WeightsReply,
  QuotaReply,
  MaintenanceScheduleReply,
  MaintenanceStatusReply,
  ExplanationReply,
  OkReply,
  RejectedReply,
]);
/** Every reply to an operator API call. */
export type OperatorApiReply = z.infer<typeof OperatorApiReply.schema>;

/** The reply each call is answered with when it succeeds. */
export const REPLY_OF: Readonly<Record<OperatorApiCallType, OperatorApiReply['type']>> = {
  GET_STATE: 'STATE',
  GET_AGENTS: 'AGENTS',
  GET_FRAMEWORKS: 'FRAMEWORKS',
  GET_TASKS: 'TASKS',
  GET_MASTER: 'MASTER',
  GET_ROLES: 'ROLES',
  GET_WEIGHTS: 'WEIGHTS',
  UPDATE_WEIGHTS: 'OK',
  GET_QUOTA: 'QUOTA',
  UPDATE_QUOTA: 'OK',
  RESERVE_RESOURCES: 'OK',
  UNRESERVE_RESOURCES: 'OK',
  GET_MAINTENANCE_SCHEDULE: 'MAINTENANCE_SCHEDULE',
  UPDATE_MAINTENANCE_SCHEDULE: 'OK',
  GET_MAINTENANCE_STATUS: 'MAINTENANCE_STATUS',
  START_MAINTENANCE: 'OK',
  STOP_MAINTENANCE: 'OK',
  DRAIN_AGENT: 'OK',
  DEACTIVATE_AGENT: 'OK',
  REACTIVATE_AGENT: 'OK',
  MARK_AGENT_GONE: 'OK',
  TEARDOWN: 'OK',
  KILL_TASK: 'OK',
  EXPLAIN_OFFERS: 'EXPLANATION',
};
