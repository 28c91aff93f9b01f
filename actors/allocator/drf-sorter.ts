// Dominant Resource Fairness (Ghodsi et al., NSDI 2011), as Mesos's `DRFSorter`: a client's
// share is its largest fraction of any scalar resource in the cluster, divided by its
// weight. The client with the smallest share is offered first. Ties are broken by share,
// then by how many times the client was allocated, then by name, so the order is a pure
// function of the calls made.
import { Resources } from '../../protocol/resources.js';
import { DuplicateIdError, InvalidWeightError, UnknownClientError } from './errors.js';
import type { Sorter } from './sorter.js';

interface Client {
  active: boolean;
  weight: number;
  /** Times `allocated` was called for this client (the second tie-break). */
  allocations: number;
  byAgent: Map<string, Resources>;
  total: Resources;
}

/** The DRF `Sorter`: ascending weighted dominant share, then allocation count, then name. */
export class DrfSorter implements Sorter {
  private readonly clients = new Map<string, Client>();
  private readonly agentTotals = new Map<string, Resources>();
  private clusterTotal: Resources = Resources.empty();

  /** Adds an inactive client with weight 1. */
  add(client: string): void {
    if (this.clients.has(client)) throw new DuplicateIdError('client', client);
    this.clients.set(client, {
      active: false,
      weight: 1,
      allocations: 0,
      byAgent: new Map(),
      total: Resources.empty(),
    });
  }

  /** Removes a client and what it holds. */
  remove(client: string): void {
    this.get(client);
    this.clients.delete(client);
  }

  /** Makes a client sortable. */
  activate(client: string): void {
    this.get(client).active = true;
  }

  /** Hides a client from `sort()`. */
  deactivate(client: string): void {
    this.get(client).active = false;
  }

  /** Sets a client's weight; throws `InvalidWeightError` unless finite and > 0. */
  updateWeight(client: string, weight: number): void {
    if (!Number.isFinite(weight) || weight <= 0) throw new InvalidWeightError(weight);
    this.get(client).weight = weight;
  }

  /** Adds `resources` on `agentId` to what `client` holds and counts one allocation. */
  allocated(client: string, agentId: string, resources: Resources): void {
    const c = this.get(client);
    c.byAgent.set(agentId, (c.byAgent.get(agentId) ?? Resources.empty()).add(resources));
    c.total = sum(c.byAgent.values());
    c.allocations += 1;
  }

  /** Takes `resources` on `agentId` away from `client`, never more than it holds there. */
  unallocated(client: string, agentId: string, resources: Resources): void {
    const c = this.get(client);
    const held = c.byAgent.get(agentId);
    if (held === undefined) return;
    const left = held.subtract(resources);
    if (left.isEmpty()) c.byAgent.delete(agentId);
    else c.byAgent.set(agentId, left);
    c.total = sum(c.byAgent.values());
  }

  /** What `client` holds over all agents. */
  allocation(client: string): Resources {
    return this.get(client).total;
  }

  /** Adds an agent's resources to the cluster total. */
  addTotal(agentId: string, resources: Resources): void {
    this.agentTotals.set(agentId, (this.agentTotals.get(agentId) ?? Resources.empty()).add(resources));
    this.clusterTotal = sum(this.agentTotals.values());
  }

  /** Removes (up to) `resources` of an agent from the cluster total. */
  removeTotal(agentId: string, resources: Resources): void {
    const held = this.agentTotals.get(agentId);
    if (held === undefined) return;
    const left = held.subtract(resources);
    if (left.isEmpty()) this.agentTotals.delete(agentId);
    else this.agentTotals.set(agentId, left);
    this.clusterTotal = sum(this.agentTotals.values());
  }

  /** Active clients by ascending share, then allocation count, then name. */
  sort(): string[] {
    const totals = this.clusterTotal.scalarTotals();
    const rows: { name: string; share: number; allocations: number }[] = [];
    for (const [name, c] of this.clients) {
      if (c.active) rows.push({ name, share: shareOf(c, totals), allocations: c.allocations });
    }
    rows.sort(
      (a, b) =>
        a.share - b.share ||
        a.allocations - b.allocations ||
        (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    );
    return rows.map((r) => r.name);
  }

  /** The weighted dominant share of `client`. */
  share(client: string): number {
    return shareOf(this.get(client), this.clusterTotal.scalarTotals());
  }

  /** True when `client` is held. */
  contains(client: string): boolean {
    return this.clients.has(client);
  }

  /** Number of clients, active or not. */
  count(): number {
    return this.clients.size;
  }

  private get(client: string): Client {
    const c = this.clients.get(client);
    if (c === undefined) throw new UnknownClientError(client);
    return c;
  }
}

/**
 * Sums per-agent bags afresh. Keeping a running total with add/subtract would be wrong for
 * ranges: port 31000 on two agents is one range entry in a sum, and subtracting one agent's
 * would drop both.
 */
function sum(bags: Iterable<Resources>): Resources {
  let total = Resources.empty();
  for (const bag of bags) total = total.add(bag);
  return total;
}

/** max over scalar names with a non-zero total of allocated/total, divided by the weight. */
function shareOf(c: Client, totals: ReadonlyMap<string, number>): number {
  let dominant = 0;
  for (const [name, total] of totals) {
    if (total <= 0) continue;
    dominant = Math.max(dominant, c.total.scalar(name) / total);
  }
  return dominant / c.weight;
}
