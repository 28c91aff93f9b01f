// The bookkeeping every flat sorter shares: clients with their weight, activity, allocation
// count and scalar quantities held (integer thousandths), and the cluster's scalar totals.
// Subclasses decide the order; they are told of every change through `changed` and
// `totalsChanged` so that they can keep an order up to date instead of rebuilding it.
import type { Resources } from '../../protocol/resources.js';
import { DuplicateIdError, InvalidWeightError, UnknownClientError } from './errors.js';

/** One client of a sorter. */
export interface SorterClient {
  readonly name: string;
  active: boolean;
  weight: number;
  /** Times `allocated` was called (the second DRF tie-break); never decreases. */
  allocations: number;
  /** Scalar quantities held, in thousandths. */
  readonly held: Map<string, number>;
}

/** Clients, their holdings and the cluster total; the order is the subclass's business. */
export abstract class SorterClients {
  /** Every client by name. */
  protected readonly clients = new Map<string, SorterClient>();
  /** Cluster totals by scalar name, in thousandths. */
  protected readonly totals = new Map<string, number>();

  /** Adds an inactive client with weight 1. */
  add(client: string): void {
    if (this.clients.has(client)) throw new DuplicateIdError('client', client);
    const c: SorterClient = { name: client, active: false, weight: 1, allocations: 0, held: new Map() };
    this.clients.set(client, c);
    this.changed(c, 'membership');
  }

  /** Removes a client and what it holds. */
  remove(client: string): void {
    const c = this.get(client);
    this.clients.delete(client);
    c.active = false;
    this.changed(c, 'membership');
  }

  /** Makes a client sortable. */
  activate(client: string): void {
    const c = this.get(client);
    if (c.active) return;
    c.active = true;
    this.changed(c, 'membership');
  }

  /** Hides a client from `sort()`. */
  deactivate(client: string): void {
    const c = this.get(client);
    if (!c.active) return;
    c.active = false;
    this.changed(c, 'membership');
  }

  /** True when the client is active. */
  isActive(client: string): boolean {
    return this.get(client).active;
  }

  /** Sets a client's weight; throws `InvalidWeightError` unless finite and > 0. */
  updateWeight(client: string, weight: number): void {
    if (!Number.isFinite(weight) || weight <= 0) throw new InvalidWeightError(weight);
    const c = this.get(client);
    if (c.weight === weight) return;
    c.weight = weight;
    this.changed(c, 'membership');
  }

  /** The client's weight. */
  weight(client: string): number {
    return this.get(client).weight;
  }

  /** Adds the scalar quantities of `resources` to what `client` holds and counts one allocation. */
  allocated(client: string, _agentId: string, resources: Resources): void {
    const c = this.get(client);
    for (const [name, milli] of resources.scalarMilli()) c.held.set(name, (c.held.get(name) ?? 0) + milli);
    c.allocations += 1;
    this.changed(c, 'allocation');
  }

  /** Takes the scalar quantities of `resources` from what `client` holds, clamped at 0. */
  unallocated(client: string, _agentId: string, resources: Resources): void {
    const c = this.get(client);
    for (const [name, milli] of resources.scalarMilli()) {
      const left = (c.held.get(name) ?? 0) - milli;
      if (left > 0) c.held.set(name, left);
      else c.held.delete(name);
    }
    this.changed(c, 'allocation');
  }

  /** What `client` holds, in units by name. */
  allocation(client: string): Map<string, number> {
    return new Map([...this.get(client).held].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, milli]) => [name, milli / 1000]));
  }

  /** Adds an agent's scalar quantities to the cluster total. */
  addTotal(_agentId: string, resources: Resources): void {
    for (const [name, milli] of resources.scalarMilli()) this.totals.set(name, (this.totals.get(name) ?? 0) + milli);
    this.totalsChanged();
  }

  /** Removes an agent's scalar quantities from the cluster total, clamped at 0. */
  removeTotal(_agentId: string, resources: Resources): void {
    for (const [name, milli] of resources.scalarMilli()) {
      const left = (this.totals.get(name) ?? 0) - milli;
      if (left > 0) this.totals.set(name, left);
      else this.totals.delete(name);
    }
    this.totalsChanged();
  }

  /** The weighted dominant share of `client`. */
  share(client: string): number {
    return this.dominantShare(this.get(client));
  }

  /** True when `client` is held. */
  contains(client: string): boolean {
    return this.clients.has(client);
  }

  /** Number of clients, active or not. */
  count(): number {
    return this.clients.size;
  }

  /** max over scalar names with a non-zero total of held/total, divided by the weight. */
  protected dominantShare(c: SorterClient): number {
    let dominant = 0;
    for (const [name, total] of this.totals) {
      const held = c.held.get(name);
      if (held !== undefined && total > 0) {
        const share = held / total;
        if (share > dominant) dominant = share;
      }
    }
    return dominant / c.weight;
  }

  /** The client, or `UnknownClientError`. */
  protected get(client: string): SorterClient {
    const c = this.clients.get(client);
    if (c === undefined) throw new UnknownClientError(client);
    return c;
  }

  /**
   * Called after a client changed: `membership` when it was added, removed, (de)activated or
   * reweighted, `allocation` when it was (un)allocated.
   */
  protected abstract changed(client: SorterClient, what: 'membership' | 'allocation'): void;

  /** Called after the cluster total changed (every share may have moved). */
  protected abstract totalsChanged(): void;
}
