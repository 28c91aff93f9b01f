/**
 * What every part of the master core works with during one step: the registry, the
 * configuration, the time of the step, an id generator, and the effects produced so far.
 */
import type { MasterToAgent } from '../../protocol/agent.js';
import type { SchedulerEvent } from '../../protocol/scheduler.js';
import type { TaskStatus } from '../../protocol/schema.js';
import type { StoredStatus } from '../../protocol/updates.js';
import type { AllocatorOp, MasterEffect } from './effects.js';
import type { RegistryOp } from './registry.js';
import type { MasterState } from './state.js';

/** The master's settings (Mesos's flags where they exist). */
export interface MasterConfig {
  /** This master's id. */
  masterId: string;
  /** The leader term this master serves under; carried by every message it sends. */
  epoch: number;
  /** How often agents heartbeat (told to them at registration). */
  agentHeartbeatIntervalMs: number;
  /** Heartbeats an agent may miss before it is marked unreachable. */
  maxMissedAgentHeartbeats: number;
  /** How often frameworks are sent HEARTBEAT. */
  frameworkHeartbeatIntervalSeconds: number;
  /** Unanswered framework heartbeats before the framework counts as disconnected. */
  maxMissedFrameworkHeartbeats: number;
  /** Filter applied to declined or unused offers when the call gives none (Mesos: 5 s). */
  defaultRefuseSeconds: number;
  /** How many ended tasks are kept for state and reconciliation. */
  maxCompletedTasks: number;
  /** After a failover, how long agents from the registry have to register again before they are unreachable. */
  agentReregisterTimeoutMs: number;
  /** After a failover, the least time frameworks from the registry have to resubscribe (their failover timeout counts if longer). */
  frameworkReregisterTimeoutMs: number;
  /**
   * Offers outstanding this long are rescinded and their resources offered again (0: never).
   * Default 60 s: OFFERS events are NATS messages, delivered at most once, so an offer lost
   * on the way would otherwise stay allocated to a live framework for ever.
   */
  offerTimeoutMs: number;
}

/** Defaults for everything but the id and epoch. */
export const DEFAULT_MASTER_CONFIG: Omit<MasterConfig, 'masterId' | 'epoch'> = {
  agentHeartbeatIntervalMs: 1000,
  maxMissedAgentHeartbeats: 5,
  frameworkHeartbeatIntervalSeconds: 15,
  maxMissedFrameworkHeartbeats: 2,
  defaultRefuseSeconds: 5,
  maxCompletedTasks: 1000,
  agentReregisterTimeoutMs: 10_000,
  frameworkReregisterTimeoutMs: 10_000,
  offerTimeoutMs: 60_000,
};

/** A message type without its `epoch` (the step adds the master's own), distributed over unions. */
export type WithoutEpoch<T> = T extends unknown ? Omit<T, 'epoch'> : never;

/** One step of the core: inputs and the effects collected so far. */
export class Step {
  /** Effects to perform, in order. */
  readonly effects: MasterEffect[] = [];

  constructor(
    /** The registry. */
    readonly state: MasterState,
    /** The settings. */
    readonly config: MasterConfig,
    /** The time of this step (ms). */
    readonly now: number,
    /** Makes a fresh id with the given prefix. */
    readonly newId: (prefix: string) => string,
  ) {}

  /** Queues a message to an agent. */
  toAgent(agentId: string, message: WithoutEpoch<MasterToAgent>): void {
    this.effects.push({ kind: 'to-agent', agentId, message: { ...message, epoch: this.config.epoch } as MasterToAgent });
  }

  /** Queues an event to a framework. */
  toFramework(frameworkId: string, message: WithoutEpoch<SchedulerEvent>): void {
    this.effects.push({
      kind: 'to-framework',
      frameworkId,
      message: { ...message, epoch: this.config.epoch } as SchedulerEvent,
    });
  }

  /** Queues an allocator call. */
  allocator(call: AllocatorOp): void {
    this.effects.push({ kind: 'allocator', call });
  }

  /** Queues a log line for the shell. */
  log(level: 'info' | 'warn', msg: string, data?: Record<string, unknown>): void {
    this.effects.push({ kind: 'log', level, msg, ...(data !== undefined && { data }) });
  }

  /** Queues a registry write. */
  registry(op: RegistryOp): void {
    this.effects.push({ kind: 'registry', op });
  }

  /** A status of the master's own, made storable: it gets a fresh uuid. */
  withUuid(status: TaskStatus): StoredStatus {
    return { ...status, uuid: this.newId('update') };
  }

  /** Queues a master-made status update for the updates stream (`afterSeq`: see the effect). */
  publishUpdate(frameworkId: string, status: StoredStatus, afterSeq?: number): void {
    this.effects.push({ kind: 'publish-update', frameworkId, status, ...(afterSeq !== undefined && { afterSeq }) });
  }

  /** Queues the creation or deletion of a framework's consumer of the updates stream. */
  frameworkConsumer(op: 'ensure' | 'delete', frameworkId: string): void {
    this.effects.push({ kind: 'framework-consumer', op, frameworkId });
  }

  /** Seconds since the epoch, for status timestamps. */
  get timestamp(): number {
    return this.now / 1000;
  }
}
