// Dominant Resource Fairness (Ghodsi et al., NSDI 2011), as Mesos's `DRFSorter`: a client's
// share is its largest fraction of any scalar resource in the cluster, divided by its
// weight. The client with the smallest share is offered first. Ties are broken by share,
// then by how many times the client was allocated, then by name, so the order is a pure
// function of the calls made.
//
// Speed: the order is kept, not rebuilt. A change marks its client; the next `walk` or `sort`
// moves only the marked clients to their new places in a sequence of small sorted blocks
// (O(log n + 64) each), so an allocation run that touches one client per agent costs about
// that per agent, not O(n log n) nor even O(n). A change of the cluster total moves every
// share and rebuilds the order once.
import { OrderedBlocks } from './ordered-blocks.js';
import { SorterClients, type SorterClient } from './sorter-clients.js';
import type { Sorter } from './sorter.js';

/** A client as the order sees it: the share and count it was placed with. */
interface Placed extends SorterClient {
  /** Share at placement (the order's key). */
  keyShare: number;
  /** Allocation count at placement. */
  keyCount: number;
  /** True while in `order`. */
  placed: boolean;
  /** True while in `dirty`. */
  marked: boolean;
}

/** The DRF `Sorter`: ascending weighted dominant share, then allocation count, then name. */
export class DrfSorter extends SorterClients implements Sorter {
  /** Active clients in DRF order (by their key fields). */
  private readonly order = new OrderedBlocks<Placed>(compareKeys);
  /** Names in order, built on demand by `sort()`; undefined when stale. */
  private names: string[] | undefined;
  /** Clients changed since the order was last brought up to date. */
  private dirty: Placed[] = [];
  /** True when every share must be recomputed (totals changed). */
  private rebuild = false;

  /** Active clients by ascending share, then allocation count, then name. Valid until the next change. */
  sort(): readonly string[] {
    this.settle();
    this.names ??= this.order.toArray().map((c) => c.name);
    return this.names;
  }

  /** Visits the active clients in `sort()` order while `visit` returns true; changes made meanwhile apply to the next walk. */
  walk(visit: (client: string) => boolean): void {
    this.settle();
    this.order.walk((c) => visit(c.name));
  }

  protected changed(client: SorterClient): void {
    const c = client as Placed;
    if (c.marked || this.rebuild) return;
    c.marked = true;
    this.dirty.push(c);
  }

  protected totalsChanged(): void {
    this.rebuild = true;
  }

  /** Brings the order up to date with the changes made since the last walk. */
  private settle(): void {
    if (this.rebuild || this.dirty.length * 4 > this.order.size + 16) this.rebuildOrder();
    else if (this.dirty.length > 0) this.repositionDirty();
  }

  private rebuildOrder(): void {
    const sorted: Placed[] = [];
    // Removed clients may still sit in `dirty`; they are gone from `clients` already.
    for (const c of this.dirty) c.marked = false;
    for (const client of this.clients.values()) {
      const c = client as Placed;
      c.marked = false;
      c.placed = c.active;
      if (!c.active) continue;
      c.keyShare = this.dominantShare(c);
      c.keyCount = c.allocations;
      sorted.push(c);
    }
    sorted.sort(compareKeys);
    this.order.reset(sorted);
    this.names = undefined;
    this.dirty = [];
    this.rebuild = false;
  }

  private repositionDirty(): void {
    for (const c of this.dirty) {
      c.marked = false;
      const present = c.active && this.clients.get(c.name) === c;
      if (c.placed) {
        // Out under the key it was placed with, back in under its new one.
        this.order.remove(c);
        c.placed = false;
      }
      if (present) {
        c.keyShare = this.dominantShare(c);
        c.keyCount = c.allocations;
        this.order.insert(c);
        c.placed = true;
      }
    }
    this.dirty = [];
    this.names = undefined;
  }
}

/** DRF order on the placement keys: share, then allocation count, then name (code units). */
function compareKeys(a: Placed, b: Placed): number {
  if (a.keyShare !== b.keyShare) return a.keyShare < b.keyShare ? -1 : 1;
  if (a.keyCount !== b.keyCount) return a.keyCount - b.keyCount;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
