// Small arithmetic on Resources that the allocator needs and `protocol/resources.ts` does
// not offer: an intersection and the minimum-allocatable test.
import type { Resources } from '../../protocol/resources.js';

/** What `a` and `b` have in common: `a − (a − b)` (for scalars, the per-name minimum). */
export function intersect(a: Resources, b: Resources): Resources {
  return a.subtract(a.subtract(b));
}

/**
 * True when `candidate` holds at least one of `mins` in full, comparing scalar quantities
 * (units summed over roles), as Mesos's `--min_allocatable_resources`. An empty `mins`
 * accepts anything non-empty.
 */
export function meetsAnyMinimum(candidate: Resources, mins: readonly Resources[]): boolean {
  if (candidate.isEmpty()) return false;
  if (mins.length === 0) return true;
  return mins.some((min) => {
    for (const [name, quantity] of min.scalarTotals()) {
      if (candidate.scalar(name) < quantity) return false;
    }
    return true;
  });
}
