// The fairness policy, as Mesos's `Sorter`: it tracks clients (frameworks today, roles once
// they are hierarchical), what each holds on which agent and the cluster's total, and orders
// the active clients by how little they hold. The allocator walks that order; it never
// computes fairness itself, so a different policy is a different Sorter.
import type { Resources } from '../../protocol/resources.js';

/** Orders clients for the allocator; implementations must be deterministic. */
export interface Sorter {
  /** Adds a client, inactive until `activate`; throws `DuplicateIdError` if present. */
  add(client: string): void;
  /** Removes a client and forgets what it holds; throws `UnknownClientError` if absent. */
  remove(client: string): void;
  /** Makes a client appear in `sort()`. */
  activate(client: string): void;
  /** Hides a client from `sort()`; its allocation still counts. */
  deactivate(client: string): void;
  /** Sets a client's weight (> 0, default 1): its share is divided by it. */
  updateWeight(client: string, weight: number): void;
  /** Records `resources` on `agentId` as held by `client`. */
  allocated(client: string, agentId: string, resources: Resources): void;
  /** Records `resources` on `agentId` as no longer held by `client` (clamped to what it holds). */
  unallocated(client: string, agentId: string, resources: Resources): void;
  /** What `client` holds, summed over agents. */
  allocation(client: string): Resources;
  /** Adds an agent's resources to the cluster total that shares are measured against. */
  addTotal(agentId: string, resources: Resources): void;
  /** Takes an agent's resources out of the cluster total. */
  removeTotal(agentId: string, resources: Resources): void;
  /** The active clients, the one most owed first. */
  sort(): string[];
  /** A client's (weighted) share of the cluster, in [0, 1/weight]. */
  share(client: string): number;
  /** True when `client` has been added and not removed. */
  contains(client: string): boolean;
  /** Number of clients, active or not. */
  count(): number;
}
