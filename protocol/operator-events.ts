/**
 * The operator event stream: what changed in the cluster, pushed to operators (the web UI,
 * `nesos top`) as Mesos's operator `SUBSCRIBE` does. Over HTTP it is served as Server-Sent
 * Events on `GET /api/v1/events`, one JSON event per SSE `data:` line.
 *
 * Semantics:
 * - The stream opens with SUBSCRIBED, carrying the whole cluster state; every later event is a
 *   change to apply to it. A client that reconnects gets a new SUBSCRIBED and starts over.
 * - Events are *upserts*: TASK_ADDED for a task the client already holds replaces it, and so
 *   on; an event may repeat a change the SUBSCRIBED state already shows.
 * - Within one stream, the events of one task (agent, framework) come in the order they
 *   happened.
 * - HEARTBEAT comes every `heartbeatIntervalSeconds`; a client that misses several should
 *   reconnect.
 * - LEADER_CHANGED says which master leads now. A master that loses leadership sends it and
 *   then ends the stream: reconnect to the new leader (its `url`).
 *
 * TASK_*, AGENT_ADDED/REMOVED and FRAMEWORK_* are Mesos's; AGENT_UPDATED, OFFER_ADDED,
 * OFFER_REMOVED, MAINTENANCE_UPDATED and LEADER_CHANGED are Nesos's (the web UI shows agents'
 * state, offered resources and the maintenance schedule live).
 */
import { z } from 'zod';
import { defineUnion, message } from './union.js';
import { Epoch, Id } from './schema.js';
import { ClusterAgentView, ClusterState, ClusterTaskView, FrameworkView, LeaderView, MaintenanceView, OfferView } from './operator-api.js';

/** SUBSCRIBED: the whole state; apply later events to it. */
export const SubscribedOperatorEvent = message('SUBSCRIBED', {
  state: ClusterState,
  heartbeatIntervalSeconds: z.number().positive(),
});

/** TASK_ADDED: a task was launched (or is seen for the first time). */
export const TaskAddedEvent = message('TASK_ADDED', { task: ClusterTaskView });

/** TASK_UPDATED: a task's state or latest status changed; `task` is the task as it is now. */
export const TaskUpdatedEvent = message('TASK_UPDATED', { task: ClusterTaskView });

/** AGENT_ADDED: an agent registered. */
export const AgentAddedEvent = message('AGENT_ADDED', { agent: ClusterAgentView });

/** AGENT_UPDATED (Nesos): an agent's status (active, unreachable) or available resources changed. */
export const AgentUpdatedEvent = message('AGENT_UPDATED', { agent: ClusterAgentView });

/** AGENT_REMOVED: an agent is no longer in the registry. */
export const AgentRemovedEvent = message('AGENT_REMOVED', { agentId: Id });

/** FRAMEWORK_ADDED: a framework subscribed. */
export const FrameworkAddedEvent = message('FRAMEWORK_ADDED', { framework: FrameworkView });

/** FRAMEWORK_UPDATED: a framework changed (connected, suppressed, allocation, share). */
export const FrameworkUpdatedEvent = message('FRAMEWORK_UPDATED', { framework: FrameworkView });

/** FRAMEWORK_REMOVED: a framework was torn down or its failover timeout ended. */
export const FrameworkRemovedEvent = message('FRAMEWORK_REMOVED', { frameworkId: Id });

/** OFFER_ADDED (Nesos): resources were offered to a framework. */
export const OfferAddedEvent = message('OFFER_ADDED', { offer: OfferView });

/** OFFER_REMOVED (Nesos): an offer was accepted, declined or rescinded. */
export const OfferRemovedEvent = message('OFFER_REMOVED', { offerId: Id });

/** MAINTENANCE_UPDATED (Nesos): the maintenance schedule, an agent's maintenance mode or a framework's answer to its inverse offers changed; `maintenance` is as it is now. */
export const MaintenanceUpdatedEvent = message('MAINTENANCE_UPDATED', { maintenance: MaintenanceView });

/** LEADER_CHANGED (Nesos): the leading master changed; absent `leader` means none is known. */
export const LeaderChangedEvent = message('LEADER_CHANGED', { leader: LeaderView.optional() });

/** HEARTBEAT: the stream is alive. */
export const OperatorHeartbeatEvent = message('HEARTBEAT', { epoch: Epoch.optional() });

/** Every operator event. */
export const OperatorEvent = defineUnion('OperatorEvent', [
  SubscribedOperatorEvent,
  TaskAddedEvent,
  TaskUpdatedEvent,
  AgentAddedEvent,
  AgentUpdatedEvent,
  AgentRemovedEvent,
  FrameworkAddedEvent,
  FrameworkUpdatedEvent,
  FrameworkRemovedEvent,
  OfferAddedEvent,
  OfferRemovedEvent,
  MaintenanceUpdatedEvent,
  LeaderChangedEvent,
  OperatorHeartbeatEvent,
]);
/** Every operator event. */
export type OperatorEvent = z.infer<typeof OperatorEvent.schema>;
/** The `type` of an operator event. */
export type OperatorEventType = OperatorEvent['type'];

/** The events a state source produces as the cluster changes (all but SUBSCRIBED and HEARTBEAT). */
export type OperatorChangeEvent = Exclude<OperatorEvent, { type: 'SUBSCRIBED' | 'HEARTBEAT' }>;
