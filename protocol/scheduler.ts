/**
 * The scheduler API: calls a framework makes to the master, and events the master sends
 * to a framework. Names and semantics follow Mesos's v1 `scheduler.proto`.
 *
 * Calls travel on `nesos.<c>.master.scheduler.<principal>` as requests; the master
 * answers each with a `CallReply` (OK, or REJECTED with a code). Events travel on
 * `nesos.<c>.framework.<frameworkId>.events`; every event carries the master's `epoch`.
 *
 * Status updates are not events: a framework reads them from its consumer of the cluster's
 * updates stream (`updates.ts`) and acknowledges them there. Mesos's ACKNOWLEDGE call has no
 * counterpart: the acknowledgement is the consumer's ack.
 */
import { z } from 'zod';
import { defineUnion, message } from './union.js';
import { Data, Epoch, FrameworkInfo, Id, InverseOffer, Offer, ResourcesWire, TaskInfo, TaskStatus, Text } from './schema.js';

/** Offer filters: how long the declined or unused resources are not offered again. */
export const Filters = z.object({ refuseSeconds: z.number().nonnegative().max(365 * 24 * 3600) });
/** Offer filters. */
export type Filters = z.infer<typeof Filters>;

/**
 * An operation of an ACCEPT call, applied in order to the offers' resources. LAUNCH runs
 * tasks on the offers' agent, each with a command executor of its own. LAUNCH_GROUP runs a
 * task group (Mesos's TaskGroupInfo) in one default executor named `executorId` (fresh on
 * that agent): the group is atomic, so if one task is invalid every task of it gets
 * TASK_ERROR, and the agent delivers the tasks to the executor in one message; when one
 * task ends TASK_FAILED or TASK_KILLED, the executor kills the others. RESERVE reserves
 * offered unreserved resources for the offer's role (given in reserved form, e.g.
 * `cpus(eng,dynamic):1`); UNRESERVE gives dynamically reserved resources back; CREATE makes
 * persistent volumes on reserved disk; DESTROY removes them. Reservations and volumes
 * outlive tasks and come back in later offers to the role.
 */
export const OfferOperation = z.discriminatedUnion('type', [
  z.object({ type: z.literal('LAUNCH'), tasks: z.array(TaskInfo).min(1).max(1024) }),
  z.object({ type: z.literal('LAUNCH_GROUP'), executorId: Id, tasks: z.array(TaskInfo).min(1).max(1024) }),
  z.object({ type: z.literal('RESERVE'), resources: ResourcesWire }),
  z.object({ type: z.literal('UNRESERVE'), resources: ResourcesWire }),
  z.object({ type: z.literal('CREATE'), volumes: ResourcesWire }),
  z.object({ type: z.literal('DESTROY'), volumes: ResourcesWire }),
]);
/** An operation of an ACCEPT call. */
export type OfferOperation = z.infer<typeof OfferOperation>;

// ---- calls -------------------------------------------------------------------------

/**
 * SUBSCRIBE: register a new framework or resubscribe an existing one (same `id`, same
 * principal). The framework subscribes to its events subject first; the master answers OK
 * and then sends SUBSCRIBED, followed by OFFERS as resources become available.
 */
export const SubscribeCall = message('SUBSCRIBE', { framework: FrameworkInfo });

/** TEARDOWN: end the framework; all its tasks are killed, its offers rescinded, and its consumer of the updates stream deleted. */
export const TeardownCall = message('TEARDOWN', { frameworkId: Id });

/**
 * ACCEPT: use offers (all from one agent) for operations. Tasks whose resources are not in
 * the offers, or whose ids are taken, get TASK_ERROR; tasks on an unknown or already used
 * offer get TASK_DROPPED. Resources left unused return with `filters` (default 5 s).
 */
export const AcceptCall = message('ACCEPT', {
  frameworkId: Id,
  offerIds: z.array(Id).min(1).max(1024),
  operations: z.array(OfferOperation).max(1024),
  filters: Filters.optional(),
});

/** DECLINE: give offers back; the agent is not offered again for `filters.refuseSeconds` (default 5 s). */
export const DeclineCall = message('DECLINE', {
  frameworkId: Id,
  offerIds: z.array(Id).min(1).max(1024),
  filters: Filters.optional(),
});

/** REVIVE: clear all offer filters and resume offers after SUPPRESS. */
export const ReviveCall = message('REVIVE', { frameworkId: Id, roles: z.array(z.string().max(256)).max(64).optional() });

/** SUPPRESS: stop sending offers until REVIVE. */
export const SuppressCall = message('SUPPRESS', { frameworkId: Id, roles: z.array(z.string().max(256)).max(64).optional() });

/** KILL: kill a task; TASK_KILLED (or another terminal state) follows as an UPDATE. */
export const KillCall = message('KILL', {
  frameworkId: Id,
  taskId: Id,
  agentId: Id.optional(),
  gracePeriodMs: z.number().int().nonnegative().max(3_600_000).optional(),
});

/**
 * RECONCILE: ask for the latest state of the listed tasks (explicit) or of all the
 * framework's tasks (implicit, empty list). Answers arrive as UPDATE events with
 * reason RECONCILIATION; unknown tasks are answered TASK_UNKNOWN (or TASK_LOST for
 * frameworks that are not partition-aware).
 */
export const ReconcileCall = message('RECONCILE', {
  frameworkId: Id,
  tasks: z.array(z.object({ taskId: Id, agentId: Id.optional() })).max(100_000),
});

/** MESSAGE: opaque bytes to one of the framework's executors. */
export const MessageCall = message('MESSAGE', { frameworkId: Id, agentId: Id, executorId: Id, data: Data });

/**
 * ACCEPT_INVERSE_OFFERS: the framework agrees to release the inverse offers' agents by the
 * start of their maintenance. The master records ACCEPT as the framework's answer for each
 * agent and asks again only after `filters.refuseSeconds` (default 5 s), if the framework still
 * holds resources there. Every id must be an outstanding inverse offer of this framework, else
 * the whole call is REJECTED (UNKNOWN_INVERSE_OFFER, WRONG_FRAMEWORK) and nothing is recorded.
 */
export const AcceptInverseOffersCall = message('ACCEPT_INVERSE_OFFERS', {
  frameworkId: Id,
  inverseOfferIds: z.array(Id).min(1).max(1024),
  filters: Filters.optional(),
});

/**
 * DECLINE_INVERSE_OFFERS: the framework cannot release the agents in time. The master records
 * DECLINE and sends a new inverse offer after `filters.refuseSeconds` (default 5 s) while the
 * window still applies and the framework still holds resources there. Checked as ACCEPT_INVERSE_OFFERS.
 */
export const DeclineInverseOffersCall = message('DECLINE_INVERSE_OFFERS', {
  frameworkId: Id,
  inverseOfferIds: z.array(Id).min(1).max(1024),
  filters: Filters.optional(),
});

/** Every call a framework can make. */
export const SchedulerCall = defineUnion('SchedulerCall', [
  SubscribeCall,
  TeardownCall,
  AcceptCall,
  DeclineCall,
  ReviveCall,
  SuppressCall,
  KillCall,
  ReconcileCall,
  MessageCall,
  AcceptInverseOffersCall,
  DeclineInverseOffersCall,
]);
/** Every call a framework can make. */
export type SchedulerCall = z.infer<typeof SchedulerCall.schema>;

// ---- events ------------------------------------------------------------------------

/** SUBSCRIBED: the framework is registered; heartbeats follow every `heartbeatIntervalSeconds`. */
export const SubscribedEvent = message('SUBSCRIBED', {
  epoch: Epoch,
  frameworkId: Id,
  masterId: Id,
  heartbeatIntervalSeconds: z.number().positive(),
});

/** OFFERS: resources the framework may ACCEPT or DECLINE. */
export const OffersEvent = message('OFFERS', { epoch: Epoch, offers: z.array(Offer).max(100_000) });

/** RESCIND: an offer is no longer valid (its agent went away, or it timed out). */
export const RescindEvent = message('RESCIND', { epoch: Epoch, offerId: Id });

/**
 * UPDATE: a task's status as an answer, not as a change: to RECONCILE (reason
 * RECONCILIATION), or to a KILL of a task the master does not know. It has no uuid and is
 * not acknowledged. Changes of a task's state reach the framework through the cluster's
 * updates stream (`updates.ts`), where they are acknowledged.
 */
export const UpdateEvent = message('UPDATE', { epoch: Epoch, status: TaskStatus });

/** MESSAGE: opaque bytes from one of the framework's executors. */
export const MessageEvent = message('MESSAGE', { epoch: Epoch, agentId: Id, executorId: Id, data: Data });

/** FAILURE: an agent was lost (no executorId) or an executor exited (with its status). */
export const FailureEvent = message('FAILURE', {
  epoch: Epoch,
  agentId: Id.optional(),
  executorId: Id.optional(),
  status: z.number().int().optional(),
});

/** ERROR: the master ended the framework (e.g. torn down); the framework should exit. */
export const ErrorEvent = message('ERROR', { epoch: Epoch, message: Text });

/** HEARTBEAT: the master is alive; a framework that misses several should resubscribe. */
export const HeartbeatEvent = message('HEARTBEAT', { epoch: Epoch });

/**
 * INVERSE_OFFERS: agents where the framework has tasks or offers are scheduled for
 * maintenance; each inverse offer asks it to release one agent by the window's start.
 */
export const InverseOffersEvent = message('INVERSE_OFFERS', { epoch: Epoch, inverseOffers: z.array(InverseOffer).max(100_000) });

/**
 * RESCIND_INVERSE_OFFER: the inverse offer is withdrawn (the agent's window changed or was
 * removed, the agent went DOWN or away, or it was outstanding for the offer timeout); answering
 * it is REJECTED UNKNOWN_INVERSE_OFFER. A new one follows if the agent is still scheduled.
 */
export const RescindInverseOfferEvent = message('RESCIND_INVERSE_OFFER', { epoch: Epoch, inverseOfferId: Id });

/** Every event the master sends to a framework. */
export const SchedulerEvent = defineUnion('SchedulerEvent', [
  SubscribedEvent,
  OffersEvent,
  RescindEvent,
  UpdateEvent,
  MessageEvent,
  FailureEvent,
  ErrorEvent,
  HeartbeatEvent,
  InverseOffersEvent,
  RescindInverseOfferEvent,
]);
/** Every event the master sends to a framework. */
export type SchedulerEvent = z.infer<typeof SchedulerEvent.schema>;
