/**
 * What the master core asks its shell to do. The core returns these as data; the shell
 * publishes messages, publishes status updates to the updates stream, manages framework
 * consumers and calls the allocator.
 */
import type { MasterToAgent } from '../../protocol/agent.js';
import type { Resources } from '../../protocol/resources.js';
import type { SchedulerEvent } from '../../protocol/scheduler.js';
import type { StoredStatus } from '../../protocol/updates.js';
import type { RegistryOp } from './registry.js';
import type { ResourceOperation } from '../allocator/operations.js';
import type { Quota } from '../allocator/quota.js';

/** A call on the allocator, performed by the shell through the allocator actor. */
export type AllocatorOp =
  | { op: 'addAgent'; agentId: string; total: Resources; used: Map<string, Resources> }
  | { op: 'removeAgent'; agentId: string }
  | { op: 'addFramework'; frameworkId: string; roles: string[]; suppressed: boolean; used: Map<string, Resources> }
  | { op: 'removeFramework'; frameworkId: string }
  | { op: 'updateFramework'; frameworkId: string; roles: string[] }
  | { op: 'activateFramework'; frameworkId: string }
  | { op: 'deactivateFramework'; frameworkId: string }
  | { op: 'recoverResources'; frameworkId: string; agentId: string; resources: Resources; refuseSeconds: number | undefined; role?: string }
  | { op: 'offerAccepted'; frameworkId: string; agentId: string; resources: Resources; role: string }
  | { op: 'applyOperation'; agentId: string; operation: ResourceOperation; frameworkId?: string; role?: string }
  | { op: 'suppress'; frameworkId: string; roles?: string[] }
  | { op: 'revive'; frameworkId: string; roles?: string[] }
  | { op: 'setWeight'; role: string; weight: number }
  | { op: 'setQuota'; role: string; quota: Quota }
  | { op: 'removeQuota'; role: string };

/** One thing for the shell to do. */
export type MasterEffect =
  /** Publish a message to an agent. */
  | { kind: 'to-agent'; agentId: string; message: MasterToAgent }
  /** Publish an event to a framework. */
  | { kind: 'to-framework'; frameworkId: string; message: SchedulerEvent }
  /** Send a HEARTBEAT as a request; report the outcome with `frameworkHeartbeatResult`. */
  | { kind: 'heartbeat-framework'; frameworkId: string; message: SchedulerEvent }
  /** Call the allocator. */
  | { kind: 'allocator'; call: AllocatorOp }
  /** Write to the registry (in order with the writes before). */
  | { kind: 'registry'; op: RegistryOp }
  /** A line for the master's log. */
  | { kind: 'log'; level: 'info' | 'warn'; msg: string; data?: Record<string, unknown> }
  /**
   * Publish a status update the master made to the updates stream (in order with those
   * before). `afterSeq`: the task's last stream update the master had applied when it made
   * this one (0: none); the update is dropped if the master applies a newer one of the task
   * before it is published, or the stream holds one (the newer update decides).
   */
  | { kind: 'publish-update'; frameworkId: string; status: StoredStatus; afterSeq?: number }
  /**
   * Create a framework's consumer of the updates stream (at SUBSCRIBE), or delete it (when
   * the framework is removed); in order with the consumer operations before.
   */
  | { kind: 'framework-consumer'; op: 'ensure' | 'delete'; frameworkId: string };
