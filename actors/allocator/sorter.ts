// The fairness policy, as Mesos's `Sorter`: it tracks clients (roles at the first level,
// frameworks within a role at the second), how much each holds and the cluster's total, and
// orders the active clients by how little they hold. The allocator walks that order; it never
// computes fairness itself, so a different policy is a different Sorter.
//
// Sorters track scalar *quantities* only (what fairness needs): the allocator's core keeps the
// exact resources per agent. Every built-in sorter is deterministic given its inputs (the
// random one given its Rng).
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
  /** True when the client is active (appears in `sort()`). */
  isActive(client: string): boolean;
  /** Sets a client's weight (> 0, default 1): its share is divided by it. */
  updateWeight(client: string, weight: number): void;
  /** The client's weight. */
  weight(client: string): number;
  /** Records `resources` (their scalar quantities) on `agentId` as held by `client`; counts one allocation. */
  allocated(client: string, agentId: string, resources: Resources): void;
  /** Records `resources` on `agentId` as no longer held by `client` (each quantity clamped at 0). */
  unallocated(client: string, agentId: string, resources: Resources): void;
  /** The scalar quantities `client` holds, in units by name (a copy). */
  allocation(client: string): Map<string, number>;
  /** Adds an agent's resources to the cluster total that shares are measured against. */
  addTotal(agentId: string, resources: Resources): void;
  /** Takes an agent's resources out of the cluster total (each quantity clamped at 0). */
  removeTotal(agentId: string, resources: Resources): void;
  /**
   * The active clients, the one most owed first. The array may be the sorter's own and is
   * only valid until the next change: read it, do not keep it.
   */
  sort(): readonly string[];
  /**
   * Visits the active clients in `sort()` order while `visit` returns true, without building
   * the array (the allocator's hot path: it usually stops after a client or two). Changes made
   * during the walk take effect for the next walk or sort.
   */
  walk(visit: (client: string) => boolean): void;
  /** A client's weighted dominant share of the cluster, in [0, 1/weight]. */
  share(client: string): number;
  /** True when `client` has been added and not removed. */
  contains(client: string): boolean;
  /** Number of clients, active or not. */
  count(): number;
}

/** Makes a fresh flat sorter; the allocator makes one per role and one per level of the role tree. */
export type SorterFactory = () => Sorter;
