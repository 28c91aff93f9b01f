// The allocator's state, as plain records: agents, frameworks, roles and holdings. A
// *holding* is what one framework holds for one role on one agent (offered or in use); the
// same record is reachable from its agent and from its framework. Books (books.ts) is the
// only code that changes holdings, so that agents, sorters and role tallies move together.
import type { Resources } from '../../protocol/resources.js';
import type { Quantities } from './quantities.js';
import type { Sorter } from './sorter.js';

/** The role of a holding whose framework is not known yet (reported by a reregistering agent). */
export const PENDING_ROLE = '';

/** What one framework holds for one role on one agent. */
export interface Holding {
  readonly frameworkId: string;
  /** The allocation role; `PENDING_ROLE` until the framework is added. */
  role: string;
  readonly agentId: string;
  /** Everything held: offered or in use by tasks. */
  held: Resources;
  /** The part of `held` in outstanding offers (until declined, rescinded or accepted). */
  offered: Resources;
  /** When the oldest outstanding offered part was offered (ms); meaningful while `offered` is not empty. */
  offeredAt: number;
  /** True once an offer timeout was reported for the outstanding offered part. */
  timeoutReported: boolean;
  /** Allocation run in which this holding last got a decision, and that decision's index. */
  run: number;
  decision: number;
}

/** An agent: its total, what is free, and who holds what. */
export interface AgentState {
  readonly id: string;
  total: Resources;
  /** `total` minus everything held; kept up to date on every change. */
  available: Resources;
  active: boolean;
  /** Holdings by framework id; one per role the framework holds here. */
  readonly holdings: Map<string, Holding[]>;
}

/** A framework as the allocator sees it. */
export interface FrameworkState {
  readonly id: string;
  /** The roles it subscribed with (MULTI_ROLE: several). */
  roles: string[];
  active: boolean;
  /** Roles it suppressed: no offers for them until revived. */
  readonly suppressed: Set<string>;
  /** Holdings by agent id (the same arrays as the agents'). */
  readonly holdings: Map<string, Holding[]>;
  /** Scalar quantities held over all roles and agents. */
  readonly heldMilli: Quantities;
}

/** A role with frameworks (subscribed, or still holding resources in it). */
export interface RoleState {
  readonly name: string;
  /** Orders the role's frameworks. */
  readonly sorter: Sorter;
  /** Frameworks that subscribed with this role. */
  readonly subscribed: Set<string>;
  /** Frameworks that are clients of `sorter`: subscribed, or holding resources here. */
  readonly clients: Set<string>;
  /** Scalar quantities held by the role's frameworks (offered or in use). */
  readonly allocated: Quantities;
  /** The part of `allocated` that is reserved resources. */
  readonly allocatedReserved: Quantities;
  /** The part of `allocated` in outstanding offers. */
  readonly offered: Quantities;
  /** Set by each run with quota: stage 2 knows the role can get nothing unreserved (quota limit reached). */
  blocked: boolean;
}

/** One decision of an allocation run: `resources` on `agentId` are offered to `frameworkId` for `role`. */
export interface OfferDecision {
  readonly frameworkId: string;
  readonly agentId: string;
  /** The role the resources are allocated to (one of the framework's roles). */
  readonly role: string;
  readonly resources: Resources;
}
