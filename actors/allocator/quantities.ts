// Scalar quantities (what fairness, quota and headroom count) and the small arithmetic on
// Resources that the allocator needs and `protocol/resources.ts` does not offer. Quantities
// are maps from a scalar name to integer thousandths, so sums never drift.
import { Resources } from '../../protocol/resources.js';
import { InvalidMinAllocatableError } from './errors.js';

/** Scalar quantities by name, in thousandths (1 cpu = 1000). */
export type Quantities = Map<string, number>;

/** What `a` and `b` have in common: `a − (a − b)` (for scalars, the per-name minimum). */
export function intersect(a: Resources, b: Resources): Resources {
  if (a === b || b.contains(a)) return a;
  return a.subtract(a.subtract(b));
}

/**
 * True when `candidate` holds at least one of `mins` in full, comparing scalar quantities
 * (summed over roles), as Mesos's `--min_allocatable_resources`.
 * An empty `mins` accepts anything non-empty.
 */
export function meetsAnyMinimum(candidate: Resources, mins: readonly Resources[]): boolean {
  if (candidate.isEmpty()) return false;
  if (mins.length === 0) return true;
  const have = candidate.scalarMilli();
  for (const min of mins) {
    let ok = true;
    for (const [name, quantity] of min.scalarMilli()) {
      if ((have.get(name) ?? 0) < quantity) {
        ok = false;
        break;
      }
    }
    if (ok) return true;
  }
  return false;
}

/** Mesos's `--min_allocatable_resources` syntax: `cpus:0.01|mem:32` (alternatives split by `|`). */
export function parseMinAllocatable(text: string): Resources[] {
  const out: Resources[] = [];
  for (const part of text.split('|')) {
    const parsed = Resources.tryParse(part);
    if (!parsed.ok) throw new InvalidMinAllocatableError(text, { cause: parsed.error });
    if (parsed.value.scalarMilli().size === 0) throw new InvalidMinAllocatableError(text);
    out.push(parsed.value);
  }
  return out;
}

/** Adds the scalar quantities of `resources` into `into`. */
export function addInto(into: Quantities, resources: Resources): void {
  for (const [name, milli] of resources.scalarMilli()) into.set(name, (into.get(name) ?? 0) + milli);
}

/** Subtracts the scalar quantities of `resources` from `from`, dropping names that reach 0. */
export function subtractFrom(from: Quantities, resources: Resources): void {
  for (const [name, milli] of resources.scalarMilli()) {
    const left = (from.get(name) ?? 0) - milli;
    if (left > 0) from.set(name, left);
    else from.delete(name);
  }
}

/** Adds quantities into quantities. */
export function addQuantities(into: Quantities, more: ReadonlyMap<string, number>): void {
  for (const [name, milli] of more) into.set(name, (into.get(name) ?? 0) + milli);
}

/** Units by name (for views): thousandths divided by 1000, names in order. */
export function toUnits(q: ReadonlyMap<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of [...q.keys()].sort()) {
    const milli = q.get(name) ?? 0;
    if (milli !== 0) out[name] = milli / 1000;
  }
  return out;
}

/**
 * Shrinks `resources` (unreserved scalars only) so that each name holds at most `room[name]`
 * thousandths; names absent from `room` are kept whole when `keepAbsent`, dropped otherwise
 * (as Mesos's `shrinkResources` with quantities vs. limits).
 */
export function shrinkScalars(resources: Resources, room: ReadonlyMap<string, number>, keepAbsent: boolean): Resources {
  let excess: Record<string, number> | undefined;
  let drop: Record<string, number> | undefined;
  for (const [name, milli] of resources.scalarMilli()) {
    const allowed = room.get(name);
    if (allowed === undefined) {
      if (!keepAbsent) (drop ??= {})[name] = milli / 1000;
    } else if (milli > allowed) {
      (excess ??= {})[name] = (milli - Math.max(0, allowed)) / 1000;
    }
  }
  if (excess === undefined && drop === undefined) return resources;
  return resources.subtract(Resources.fromScalars({ ...excess, ...drop }));
}
