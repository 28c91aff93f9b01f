/**
 * The master's in-memory registry: agents, frameworks, tasks and outstanding offers.
 * Plain data owned by `MasterCore`; nothing here performs I/O.
 */
import type { MaintenanceWindow } from '../../protocol/operator-api.js';
import type { Resources } from '../../protocol/resources.js';
import type { AgentInfo, Attributes, FrameworkInfo, TaskInfo, TaskStatus, Unavailability } from '../../protocol/schema.js';
import type { TaskState } from '../../protocol/task-state.js';
import type { MasterExecutorRecord } from './executors.js';

/**
 * Whether the master can talk to an agent: `recovering` agents come from the registry after
 * a failover and have until `reregisterDeadlineMs` to register again; `gone` agents were
 * marked gone by an operator and may never register again; `down` agents were taken down
 * for maintenance and may not register until an operator brings them up.
 */
export type AgentStatus = 'active' | 'unreachable' | 'recovering' | 'gone' | 'down';

/** An admitted agent. */
export interface AgentRecord {
  id: string;
  hostname: string;
  info: AgentInfo;
  /** Everything the agent has: its static resources with `checkpointed` applied. */
  total: Resources;
  /** What RESERVE and CREATE made of its static resources (kept in the registry). */
  checkpointed: Resources;
  attributes: Attributes;
  status: AgentStatus;
  /** When the master last heard from the agent (its clock, ms). */
  lastSeenMs: number;
  registeredAtMs: number;
  /** Recovering agents only: when they become unreachable unless they register. */
  reregisterDeadlineMs?: number;
  /** Keys (see `taskKey`) of tasks on this agent. */
  tasks: Set<string>;
  /** Ids of outstanding offers of this agent's resources. */
  offers: Set<string>;
  /** An operator deactivated (or is draining) it: no offers, its tasks keep running. */
  deactivated?: boolean;
  /** An operator is draining it: its tasks are being killed. */
  draining?: boolean;
  /** Mark it gone once drained. */
  goneWhenDrained?: boolean;
  /** Custom executors running there, by `executorKey` (see executors.ts). */
  executors?: Map<string, MasterExecutorRecord>;
}

/** True when the allocator counts the agent: active, and not deactivated by an operator. */
export function inAllocator(agent: AgentRecord | undefined): agent is AgentRecord {
  return agent !== undefined && agent.status === 'active' && agent.deactivated !== true;
}

/** A subscribed framework. */
export interface FrameworkRecord {
  id: string;
  info: FrameworkInfo;
  /** True while the framework answers heartbeats. */
  connected: boolean;
  /** When it stopped answering (or, recovered after a failover, when this master took over). */
  disconnectedAtMs: number | undefined;
  /** While disconnected: when the framework is removed unless it resubscribes. */
  failoverDeadlineMs: number | undefined;
  /** Heartbeats in a row that got no answer. */
  missedHeartbeats: number;
  /** When the last HEARTBEAT event was sent. */
  lastHeartbeatMs: number;
  registeredAtMs: number;
  /** SUPPRESS without roles: no offers at all until REVIVE. */
  suppressed: boolean;
  /** Roles suppressed one by one (SUPPRESS with roles). */
  suppressedRoles: Set<string>;
  /** Keys of the framework's tasks the master still tracks. */
  tasks: Set<string>;
  /** Ids of the framework's outstanding offers. */
  offers: Set<string>;
}

/** A task the master tracks, from ACCEPT (or its agent's report) until it ends. */
export interface TaskRecord {
  frameworkId: string;
  agentId: string;
  info: TaskInfo;
  resources: Resources;
  state: TaskState;
  /** The latest status applied. */
  status: TaskStatus | undefined;
  /** Stream sequence of the last update read from the updates stream for this task; older ones are ignored. */
  lastUpdateSeq: number | undefined;
  /** Whether the resources have gone back to the allocator (task terminal or agent gone). */
  resourcesRecovered: boolean;
  /** The role its resources are allocated to (its offer's); absent for tasks an agent reported. */
  role?: string;
  /** The statuses applied, oldest first, at most `MAX_TASK_STATUSES` (see task-history.ts); absent until the first. */
  statuses?: TaskStatus[];
}

/** An outstanding offer. */
export interface OfferRecord {
  id: string;
  frameworkId: string;
  agentId: string;
  /** The role the resources are allocated to. */
  role: string;
  resources: Resources;
  createdAtMs: number;
}

/** A role's settings an operator gave: weight, quota (resource text). */
export interface RoleSettings {
  weight?: number;
  guarantee?: string;
  limit?: string;
}

/** An outstanding inverse offer: the master asked a framework to release a DRAINING agent (see inverse-offers.ts). */
export interface InverseOfferRecord {
  id: string;
  frameworkId: string;
  agentId: string;
  /** The agent's window when the inverse offer was made. */
  unavailability: Unavailability;
  createdAtMs: number;
}

/** A framework's latest answer to the inverse offers of one agent. */
export interface InverseOfferResponse {
  /** UNKNOWN from the first inverse offer until the framework answers. */
  status: 'UNKNOWN' | 'ACCEPT' | 'DECLINE';
  /** When it was recorded (ms). */
  updatedAtMs: number;
  /** No new inverse offer of the agent goes to the framework before this (the answer's refuse_seconds). */
  refuseUntilMs: number;
}

/** The frameworks' latest answers to the inverse offers of one agent, for the window they were asked about. */
export interface AgentInverseOfferResponses {
  /** The agent's window they answered; answers about another window are forgotten. */
  unavailability: Unavailability;
  /** By framework id. */
  byFramework: Map<string, InverseOfferResponse>;
}

/** The maintenance schedule (Mesos's maintenance primitives), which scheduled agents are DOWN, and inverse offers. */
export interface MaintenanceState {
  /** The windows, as the operator gave them (an agent is in at most one). */
  windows: MaintenanceWindow[];
  /** Agents taken DOWN by START_MAINTENANCE (each is in a window). */
  down: Set<string>;
  /** Outstanding inverse offers by id, oldest first. Not in the registry: a new leader asks again. */
  inverseOffers: Map<string, InverseOfferRecord>;
  /** The frameworks' latest answers, by agent id. Not in the registry (as in Mesos, a failover clears them). */
  responses: Map<string, AgentInverseOfferResponses>;
}

/** The master's registry. */
export interface MasterState {
  /** The maintenance schedule. */
  maintenance: MaintenanceState;
  /** Roles with a weight or quota set. */
  roles: Map<string, RoleSettings>;
  agents: Map<string, AgentRecord>;
  frameworks: Map<string, FrameworkRecord>;
  tasks: Map<string, TaskRecord>;
  offers: Map<string, OfferRecord>;
  /** Tasks that ended (terminal, lost, or of removed frameworks), by key, oldest first, bounded. */
  completedTasks: Map<string, TaskRecord>;
}

/** Creates an empty registry. */
export function emptyState(): MasterState {
  return { maintenance: { windows: [], down: new Set(), inverseOffers: new Map(), responses: new Map() }, roles: new Map(), agents: new Map(), frameworks: new Map(), tasks: new Map(), offers: new Map(), completedTasks: new Map() };
}

/** A task's key in the registry: task ids are unique within a framework, as in Mesos. */
export function taskKey(frameworkId: string, taskId: string): string {
  return `${frameworkId}/${taskId}`;
}
