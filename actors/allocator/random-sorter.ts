// The weighted random `Sorter`, as Mesos's `RandomSorter`: every `sort()` is a fresh random
// order of the active clients in which a client of weight w comes before one of weight 1 about
// w times as often (sequential sampling without replacement, drawn as Efraimidis–Spirakis keys
// u^(1/w); a lazy Fisher–Yates shuffle when all weights are 1). Randomness comes from the Rng
// it is given, so the same seed and the same calls replay the same orders.
// Shares are still computed (dominant share / weight) for visibility; they do not order.
import type { Rng } from '../runtime/rng.js';
import { SorterClients, type SorterClient } from './sorter-clients.js';
import type { Sorter } from './sorter.js';

/** A client as the random sorter tracks it. */
interface Listed extends SorterClient {
  /** Index in `active`, or -1. */
  at?: number;
  /** True while counted in `weighted` (active with a weight other than 1). */
  weighted?: boolean;
}

/** The weighted random `Sorter`: a new weighted shuffle of the active clients on every walk. */
export class RandomSorter extends SorterClients implements Sorter {
  /** The active clients, in no meaningful order (a shuffle starts from any order). */
  private readonly active: Listed[] = [];
  /** Active clients whose weight is not 1. */
  private weighted = 0;
  /** True during a walk: membership changes wait in `pending` so the walk's list stays whole. */
  private walking = false;
  private pending: Listed[] = [];

  constructor(private readonly rng: Rng) {
    super();
  }

  /** A weighted shuffle of the active clients drawn from the Rng. */
  sort(): readonly string[] {
    const out: string[] = [];
    this.walk((name) => out.push(name) > 0);
    return out;
  }

  /**
   * Visits a fresh weighted shuffle while `visit` returns true. With all weights 1 the
   * shuffle is drawn lazily, one draw per client visited, so a walk that stops early is cheap.
   */
  walk(visit: (client: string) => boolean): void {
    if (this.walking) throw new Error('RandomSorter.walk is not reentrant');
    this.walking = true;
    try {
      this.walkList(visit);
    } finally {
      this.walking = false;
      const pending = this.pending;
      this.pending = [];
      for (const c of pending) this.relist(c);
    }
  }

  private walkList(visit: (client: string) => boolean): void {
    const list = this.active;
    if (this.weighted > 0) {
      const keyed = list.map((c) => ({ name: c.name, key: Math.pow(this.rng(), 1 / c.weight) }));
      keyed.sort((a, b) => b.key - a.key || (a.name < b.name ? -1 : 1));
      for (const k of keyed) if (!visit(k.name)) return;
      return;
    }
    // Fisher–Yates in place: positions [0, i) hold this walk's picks so far.
    for (let i = 0; i < list.length; i++) {
      const j = i + Math.min(list.length - 1 - i, Math.floor(this.rng() * (list.length - i)));
      const picked = list[j] as Listed;
      list[j] = list[i] as Listed;
      list[i] = picked;
      (list[j] as Listed).at = j;
      picked.at = i;
      if (!visit(picked.name)) return;
    }
  }

  protected changed(client: SorterClient, what: 'membership' | 'allocation'): void {
    // Allocations do not order clients here; membership, activity and weights do.
    if (what === 'allocation') return;
    if (this.walking) this.pending.push(client as Listed);
    else this.relist(client as Listed);
  }

  /** Puts a client in or out of `active` to match its state, and keeps `weighted` counted. */
  private relist(c: Listed): void {
    const listed = c.active && this.clients.get(c.name) === c;
    if (listed && (c.at === undefined || c.at < 0)) {
      c.at = this.active.length;
      this.active.push(c);
    } else if (!listed && c.at !== undefined && c.at >= 0) {
      const last = this.active.pop() as Listed;
      if (last !== c) {
        this.active[c.at] = last;
        last.at = c.at;
      }
      c.at = -1;
    }
    const weighted = listed && c.weight !== 1;
    if (weighted !== (c.weighted ?? false)) this.weighted += weighted ? 1 : -1;
    c.weighted = weighted;
  }

  protected totalsChanged(): void {
    // Totals only move shares, which do not order here.
  }
}
