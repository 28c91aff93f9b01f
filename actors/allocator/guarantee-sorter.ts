// The role order of an allocation run's first stage (quota guarantees), as Mesos's
// `quotaRoleSorter`: only roles whose top-level role still misses part of its guarantee, in
// the same hierarchical order as the main role sorter (same policy, weights and quantities).
// Built at the start of the stage and shrunk as guarantees are met, so that the stage never
// walks past the (often thousands of) roles it has nothing for. Allocation counts, the
// second tie-break, start afresh in it.
import { Resources } from '../../protocol/resources.js';
import type { Books } from './books.js';
import { HierarchicalSorter } from './hierarchical-sorter.js';
import type { QuotaRun } from './quota.js';
import { topLevel } from './roles.js';

/** The first stage's role order; tell it of every allocation and of every guarantee met. */
export class GuaranteeSorter {
  /** Walk this instead of the main role sorter during stage 1. */
  readonly sorter: HierarchicalSorter;
  private readonly rolesByTop = new Map<string, string[]>();

  constructor(books: Books, quota: QuotaRun) {
    this.sorter = new HierarchicalSorter(books.makeSorter);
    this.sorter.addTotal('', books.clusterTotalResources());
    for (const [path, weight] of books.weights) this.sorter.setPathWeight(path, weight);
    for (const role of books.roles.values()) {
      const top = topLevel(role.name);
      if (!quota.isUnmet(top)) continue;
      this.sorter.add(role.name);
      if (role.subscribed.size > 0) this.sorter.activate(role.name);
      if (role.allocated.size > 0) this.sorter.allocated(role.name, '', quantities(role.allocated));
      this.rolesByTop.set(top, [...(this.rolesByTop.get(top) ?? []), role.name]);
    }
  }

  /** Records an allocation to `role` made during the stage. */
  allocated(role: string, resources: Resources): void {
    if (this.sorter.contains(role)) this.sorter.allocated(role, '', resources);
  }

  /** Drops the roles of `top` from the order: its guarantee is met. */
  satisfied(top: string): void {
    for (const role of this.rolesByTop.get(top) ?? []) if (this.sorter.isActive(role)) this.sorter.deactivate(role);
    this.rolesByTop.delete(top);
  }
}

function quantities(milli: ReadonlyMap<string, number>): Resources {
  return Resources.fromScalars(Object.fromEntries([...milli].map(([name, m]) => [name, m / 1000])));
}
