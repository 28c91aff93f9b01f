/**
 * Resources, as in Mesos: an immutable bag of named quantities an agent offers and a task
 * consumes. Each entry has a name (cpus, mem, ports, ...), a role ('*' when unreserved) and one
 * of three kinds of value:
 *
 * - scalar: a non-negative fixed-point number with 3 decimals (stored as integer thousandths,
 *   so 0.1 + 0.2 cpus is exactly 0.3);
 * - ranges: sorted, merged, non-overlapping inclusive integer intervals (ports);
 * - set: a set of strings.
 *
 * Entries are keyed by (name, role); one key holds one kind. Zero scalars and empty ranges or
 * sets are never stored, so two equal bags have one representation. Ranges and sets are sets:
 * adding overlapping ranges takes their union, so `a.add(b).subtract(b)` gives back `a` only
 * where the ranges and sets of `a` and `b` are disjoint (scalars always).
 */
import { ResourceArithmeticError, ResourceParseError } from './resource-errors.js';
import {
  MAX_SCALAR_MILLI,
  UNRESERVED,
  describeWire,
  entryFromWire,
  formatEntries,
  parseEntries,
  type Range,
  type ResourceWire,
  type StoredEntry,
  type StoredValue,
} from './resources-parse.js';

/** A resource entry on the wire: exactly one of scalar, ranges, set; role omitted when '*'. */
export type { ResourceWire } from './resources-parse.js';

/** One entry of a Resources; scalar values are in units (e.g. 0.5 cpus). */
export type ResourceEntry =
  | { readonly name: string; readonly role: string; readonly kind: 'scalar'; readonly value: number }
  | { readonly name: string; readonly role: string; readonly kind: 'ranges'; readonly value: ReadonlyArray<readonly [number, number]> }
  | { readonly name: string; readonly role: string; readonly kind: 'set'; readonly value: readonly string[] };

/** An immutable bag of resources; every operation returns a new value. */
export class Resources {
  private static readonly EMPTY = new Resources([]);

  /** Entries sorted by (name, role), one per key, none empty. */
  private constructor(private readonly list: readonly StoredEntry[]) {}

  /** No resources at all. */
  static empty(): Resources {
    return Resources.EMPTY;
  }

  /** Parses Mesos syntax (`cpus:4;mem(analytics):1024;ports:[31000-32000]`); throws ResourceParseError. */
  static parse(text: string): Resources {
    const parsed = parseEntries(text);
    if (!Array.isArray(parsed)) throw new ResourceParseError(`invalid resource "${parsed.source}": ${parsed.problem}`);
    const bag = new Map<string, StoredEntry>();
    for (const { source, entry } of parsed) {
      const problem = accumulate(bag, entry);
      if (problem !== undefined) throw new ResourceParseError(`invalid resource "${source}": ${problem}`);
    }
    return Resources.of(bag);
  }

  /** Like parse, but returns the error as a value. */
  static tryParse(text: string): { ok: true; value: Resources } | { ok: false; error: ResourceParseError } {
    try {
      return { ok: true, value: Resources.parse(text) };
    } catch (error) {
      if (error instanceof ResourceParseError) return { ok: false, error };
      throw error;
    }
  }

  /** Builds from the wire form (entries with equal keys are added); throws ResourceParseError. */
  static fromWire(list: readonly ResourceWire[]): Resources {
    const bag = new Map<string, StoredEntry>();
    for (const wire of list) {
      const entry = entryFromWire(wire);
      const problem = typeof entry === 'string' ? entry : accumulate(bag, entry);
      if (problem !== undefined) throw new ResourceParseError(`invalid resource ${describeWire(wire)}: ${problem}`);
    }
    return Resources.of(bag);
  }

  /** Builds scalars from a record such as `{ cpus: 1, mem: 128 }`, all in one role (default '*'). */
  static fromScalars(values: Record<string, number>, role: string = UNRESERVED): Resources {
    return Resources.fromWire(Object.entries(values).map(([name, scalar]) => ({ name, role, scalar })));
  }

  private static of(bag: ReadonlyMap<string, StoredEntry>): Resources {
    const list = [...bag.values()].filter((e) => !isEmptyValue(e.value)).sort(byKey);
    return list.length === 0 ? Resources.EMPTY : new Resources(list);
  }

  /** The wire form, ordered by name then role; role omitted when '*'. */
  toWire(): ResourceWire[] {
    return this.list.map(({ name, role, value }) => {
      const wire: ResourceWire = role === UNRESERVED ? { name } : { name, role };
      if (value.kind === 'scalar') wire.scalar = value.milli / 1000;
      else if (value.kind === 'ranges') wire.ranges = value.ranges.map(([b, e]): [number, number] => [b, e]);
      else wire.set = [...value.items];
      return wire;
    });
  }

  /** Mesos syntax, deterministic: `cpus:4;cpus(analytics):2;ports:[31000-32000];zones:{a,b}`. */
  toString(): string {
    return formatEntries(this.list);
  }

  /** The sum; ranges and sets are united. Throws ResourceArithmeticError when kinds clash. */
  add(other: Resources): Resources {
    const bag = this.bag();
    for (const entry of other.list) {
      const problem = accumulate(bag, entry);
      if (problem !== undefined) throw new ResourceArithmeticError(`cannot add ${keyText(entry)}: ${problem}`);
    }
    return Resources.of(bag);
  }

  /** The difference per (name, role): scalars clamp at 0, ranges and sets lose other's members. */
  subtract(other: Resources): Resources {
    const bag = this.bag();
    for (const entry of other.list) {
      const mine = bag.get(key(entry));
      if (mine === undefined) continue;
      const value = minus(mine.value, entry.value);
      if (value === undefined) throw new ResourceArithmeticError(`cannot subtract ${keyText(entry)}: ${kindClash(mine, entry)}`);
      bag.set(key(entry), { ...mine, value });
    }
    return Resources.of(bag);
  }

  /** True when every entry of other fits within the entry of the same name and role here. */
  contains(other: Resources): boolean {
    const bag = this.bag();
    return other.list.every((entry) => {
      const mine = bag.get(key(entry));
      const missing = mine === undefined ? undefined : minus(entry.value, mine.value); // undefined: absent or other kind
      return missing !== undefined && isEmptyValue(missing);
    });
  }

  /** True when both hold exactly the same entries (the text form is canonical). */
  equals(other: Resources): boolean {
    return this.toString() === other.toString();
  }

  /** True when there is nothing here. */
  isEmpty(): boolean {
    return this.list.length === 0;
  }

  /** The scalar `name` in units for `role`, or summed over roles when role is omitted; 0 if absent. */
  scalar(name: string, role?: string): number {
    let milli = 0;
    for (const e of this.list) {
      if (e.name === name && (role === undefined || e.role === role) && e.value.kind === 'scalar') milli += e.value.milli;
    }
    return milli / 1000;
  }

  /** Sorted names of the scalar entries. */
  scalarNames(): string[] {
    return [...this.scalarTotals().keys()];
  }

  /** Each scalar name's total over roles, in units, in name order (the input of DRF shares). */
  scalarTotals(): Map<string, number> {
    const totals = new Map<string, number>();
    for (const e of this.list) {
      if (e.value.kind === 'scalar') totals.set(e.name, (totals.get(e.name) ?? 0) + e.value.milli);
    }
    return new Map([...totals].map(([name, milli]) => [name, milli / 1000]));
  }

  /** The ranges of `name` for `role`, or their union over roles when role is omitted. */
  ranges(name: string, role?: string): Array<[number, number]> {
    const all = this.rangeEntries(name).filter((e) => role === undefined || e.role === role);
    return mergeRanges(all.flatMap((e) => e.ranges)).map(([b, e]): [number, number] => [b, e]);
  }

  /** How many integers the ranges of `name` hold, summed over roles (e.g. ports available). */
  rangeCount(name: string): number {
    return this.rangeEntries(name).reduce((n, e) => n + countRanges(e.ranges), 0);
  }

  /** The lowest `count` integers of ranges `name` (roles kept), or undefined if fewer are held. */
  takeRange(name: string, count: number): Resources | undefined {
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new ResourceArithmeticError(`takeRange count must be a non-negative integer, got ${count}`);
    }
    const pieces = this.rangeEntries(name)
      .flatMap(({ role, ranges }) => ranges.map((range) => ({ role, range })))
      .sort((x, y) => x.range[0] - y.range[0] || compare(x.role, y.role));
    const taken = new Map<string, StoredEntry>();
    let need = count;
    for (const { role, range } of pieces) {
      if (need === 0) break;
      const n = Math.min(need, range[1] - range[0] + 1);
      accumulate(taken, { name, role, value: { kind: 'ranges', ranges: [[range[0], range[0] + n - 1]] } });
      need -= n;
    }
    return need === 0 ? Resources.of(taken) : undefined;
  }

  /** Only the entries of `role`. */
  forRole(role: string): Resources {
    return this.filter((e) => e.role === role);
  }

  /** Only the unreserved entries (role '*'). */
  unreserved(): Resources {
    return this.forRole(UNRESERVED);
  }

  /** The sorted distinct roles of the entries. */
  roles(): string[] {
    return [...new Set(this.list.map((e) => e.role))].sort(compare);
  }

  /** What `role` may be offered: unreserved entries and those reserved to `role` or an ancestor (`a` for `a/b`). */
  allocatableBy(role: string): Resources {
    return this.filter((e) => e.role === UNRESERVED || e.role === role || role.startsWith(`${e.role}/`));
  }

  /** The entries, ordered by name then role. */
  entries(): readonly ResourceEntry[] {
    return this.list.map(({ name, role, value }): ResourceEntry => {
      if (value.kind === 'scalar') return { name, role, kind: 'scalar', value: value.milli / 1000 };
      if (value.kind === 'ranges') return { name, role, kind: 'ranges', value: value.ranges };
      return { name, role, kind: 'set', value: value.items };
    });
  }

  private bag(): Map<string, StoredEntry> {
    return new Map(this.list.map((e) => [key(e), e]));
  }

  private filter(keep: (e: StoredEntry) => boolean): Resources {
    const list = this.list.filter(keep);
    return list.length === 0 ? Resources.EMPTY : new Resources(list);
  }

  private rangeEntries(name: string): Array<{ role: string; ranges: readonly Range[] }> {
    return this.list.flatMap((e) => (e.name === name && e.value.kind === 'ranges' ? [{ role: e.role, ranges: e.value.ranges }] : []));
  }
}

// ---- entries and values --------------------------------------------------------------------

function key(e: StoredEntry): string {
  return `${e.name}(${e.role})`;
}

function keyText(e: StoredEntry): string {
  return e.role === UNRESERVED ? e.name : key(e);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byKey(a: StoredEntry, b: StoredEntry): number {
  return compare(a.name, b.name) || compare(a.role, b.role);
}

function kindClash(mine: StoredEntry, theirs: StoredEntry): string {
  return `${keyText(mine)} is ${mine.value.kind}, not ${theirs.value.kind}`;
}

/** Adds `entry` into `bag` under its key; returns the problem instead when kinds clash or it overflows. */
function accumulate(bag: Map<string, StoredEntry>, entry: StoredEntry): string | undefined {
  const mine = bag.get(key(entry));
  const value = plus(mine?.value ?? emptyOf(entry.value), entry.value);
  if (value === undefined) return kindClash(mine ?? entry, entry);
  if (value.kind === 'scalar' && value.milli > MAX_SCALAR_MILLI) return 'scalar is too large';
  bag.set(key(entry), { name: entry.name, role: entry.role, value });
  return undefined;
}

function emptyOf(value: StoredValue): StoredValue {
  if (value.kind === 'scalar') return { kind: 'scalar', milli: 0 };
  return value.kind === 'ranges' ? { kind: 'ranges', ranges: [] } : { kind: 'set', items: [] };
}

function isEmptyValue(value: StoredValue): boolean {
  if (value.kind === 'scalar') return value.milli === 0;
  return value.kind === 'ranges' ? value.ranges.length === 0 : value.items.length === 0;
}

/** a + b, normalized; undefined when the kinds differ. */
function plus(a: StoredValue, b: StoredValue): StoredValue | undefined {
  if (a.kind === 'scalar' && b.kind === 'scalar') return { kind: 'scalar', milli: a.milli + b.milli };
  if (a.kind === 'ranges' && b.kind === 'ranges') return { kind: 'ranges', ranges: mergeRanges([...a.ranges, ...b.ranges]) };
  if (a.kind === 'set' && b.kind === 'set') return { kind: 'set', items: [...new Set([...a.items, ...b.items])].sort(compare) };
  return undefined;
}

/** a - b, clamped at empty; undefined when the kinds differ. */
function minus(a: StoredValue, b: StoredValue): StoredValue | undefined {
  if (a.kind === 'scalar' && b.kind === 'scalar') return { kind: 'scalar', milli: Math.max(0, a.milli - b.milli) };
  if (a.kind === 'ranges' && b.kind === 'ranges') return { kind: 'ranges', ranges: subtractRanges(a.ranges, b.ranges) };
  if (a.kind === 'set' && b.kind === 'set') {
    const drop = new Set(b.items);
    return { kind: 'set', items: a.items.filter((item) => !drop.has(item)) };
  }
  return undefined;
}

// ---- ranges ----------------------------------------------------------------------------------

/** Sorts and merges overlapping or adjacent ranges. */
function mergeRanges(list: readonly Range[]): Range[] {
  const out: Array<[number, number]> = [];
  for (const [begin, end] of [...list].sort((x, y) => x[0] - y[0])) {
    const last = out[out.length - 1];
    if (last !== undefined && begin <= last[1] + 1) last[1] = Math.max(last[1], end);
    else out.push([begin, end]);
  }
  return out;
}

/** The integers of `a` not in `b`; both normalized. */
function subtractRanges(a: readonly Range[], b: readonly Range[]): Range[] {
  const out: Range[] = [];
  for (const [begin, end] of a) {
    let start = begin;
    for (const [cutBegin, cutEnd] of b) {
      if (cutEnd < start) continue;
      if (cutBegin > end) break;
      if (cutBegin > start) out.push([start, cutBegin - 1]);
      start = cutEnd + 1;
      if (start > end) break;
    }
    if (start <= end) out.push([start, end]);
  }
  return out;
}

function countRanges(ranges: readonly Range[]): number {
  return ranges.reduce((n, [b, e]) => n + e - b + 1, 0);
}
