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
 * A reserved entry is static (`cpus(eng):2`, set by the agent's operator) or dynamic
 * (`cpus(eng,dynamic,team=web):2`, made by RESERVE, with labels); reserved disk may hold a
 * persistent volume (`disk(eng,dynamic)[data1:var/data]:512`).
 *
 * Entries are keyed by (name, role, reservation labels, volume); one key holds one kind. Zero scalars and empty ranges or
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
  labelsFrom,
  makeEntry,
  parseEntries,
  withValue,
  type Range,
  type ResourceWire,
  type StoredEntry,
  type StoredValue,
  type VolumeInfo,
} from './resources-parse.js';
import {
  accumulate,
  byKey,
  compare,
  key,
  countRanges,
  extrasOf,
  isEmptyValue,
  keyText,
  kindClash,
  labelsRecord,
  mergeRanges,
  minus,
  plus,
  sameValue,
  within,
} from './resources-values.js';

/** A resource entry on the wire: exactly one of scalar, ranges, set; role omitted when '*'. */
export type { ResourceWire, VolumeInfo } from './resources-parse.js';

/** One entry of a Resources; scalar values are in units (e.g. 0.5 cpus). */
export type ResourceEntry = (
  | { readonly name: string; readonly role: string; readonly kind: 'scalar'; readonly value: number }
  | { readonly name: string; readonly role: string; readonly kind: 'ranges'; readonly value: ReadonlyArray<readonly [number, number]> }
  | { readonly name: string; readonly role: string; readonly kind: 'set'; readonly value: readonly string[] }
) & {
  /** Present for a dynamic reservation: its labels (maybe empty). */
  readonly labels?: Readonly<Record<string, string>>;
  /** Present for a persistent volume. */
  readonly volume?: Readonly<VolumeInfo>;
};

/** How to reserve resources: for a role, dynamically (with labels) or not. */
export interface ReservationSpec {
  /** The role the resources are reserved for (not `*`). */
  role: string;
  /** Labels of a dynamic reservation; giving them (even `{}`) makes the reservation dynamic. */
  labels?: Record<string, string>;
}

/** An immutable bag of resources; every operation returns a new value. */
export class Resources {
  private static readonly EMPTY = new Resources([]);

  /** Scalar totals by name, in thousandths, computed on first use. */
  private milli: Map<string, number> | undefined;

  /** The Mesos text form, computed on first use (the value never changes). */
  private text: string | undefined;

  /** Entries sorted by (name, role, ext), one per key, none empty. */
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

  /** The wire form, ordered as the entries; role omitted when '*', reservation and volume when absent. */
  toWire(): ResourceWire[] {
    return this.list.map(({ name, role, value, labels, volume }) => {
      const wire: ResourceWire = role === UNRESERVED ? { name } : { name, role };
      if (labels !== undefined) {
        wire.dynamic = true;
        if (labels.length > 0) wire.labels = labelsRecord(labels);
      }
      if (volume !== undefined) wire.volume = { ...volume };
      if (value.kind === 'scalar') wire.scalar = value.milli / 1000;
      else if (value.kind === 'ranges') wire.ranges = value.ranges.map(([b, e]): [number, number] => [b, e]);
      else wire.set = [...value.items];
      return wire;
    });
  }

  /** Mesos syntax, deterministic: `cpus:4;cpus(analytics):2;ports:[31000-32000];zones:{a,b}`. */
  toString(): string {
    this.text ??= formatEntries(this.list);
    return this.text;
  }

  /** The sum of many bags in one pass (much cheaper than chained `add`); throws ResourceArithmeticError when kinds clash. */
  static sum(bags: Iterable<Resources>): Resources {
    const all = Array.isArray(bags) ? (bags as readonly Resources[]) : [...bags];
    // A few bags: chained `add` (a linear merge each) allocates less than the totals below.
    if (all.length <= 8) return all.reduce((acc, r) => acc.add(r), Resources.EMPTY);
    // Per key: the first entry seen (name, role, ext) and the running total of its kind. Ranges
    // and set items are collected and merged once at the end, scalars added as integers.
    const totals = new Map<string, { first: StoredEntry; milli: number; ranges: Range[]; items: Set<string> }>();
    for (const r of all) {
      for (const entry of r.list) {
        const k = entry.role === UNRESERVED && entry.ext === '' ? entry.name : key(entry);
        let total = totals.get(k);
        if (total === undefined) {
          total = { first: entry, milli: 0, ranges: [], items: new Set() };
          totals.set(k, total);
        } else if (total.first.value.kind !== entry.value.kind) {
          throw new ResourceArithmeticError(`cannot add ${keyText(entry)}: ${kindClash(total.first, entry)}`);
        }
        const v = entry.value;
        if (v.kind === 'scalar') {
          total.milli += v.milli;
          if (total.milli > MAX_SCALAR_MILLI) throw new ResourceArithmeticError(`cannot add ${keyText(entry)}: scalar is too large`);
        } else if (v.kind === 'ranges') {
          for (const range of v.ranges) total.ranges.push(range);
        } else {
          for (const item of v.items) total.items.add(item);
        }
      }
    }
    const list: StoredEntry[] = [];
    for (const { first, milli, ranges, items } of totals.values()) {
      const kind = first.value.kind;
      const value: StoredValue = kind === 'scalar' ? { kind, milli } : kind === 'ranges' ? { kind, ranges: mergeRanges(ranges) } : { kind, items: [...items].sort(compare) };
      list.push(withValue(first, value));
    }
    return new Resources(list.sort(byKey));
  }

  /** The sum; ranges and sets are united. Throws ResourceArithmeticError when kinds clash. */
  add(other: Resources): Resources {
    if (other.list.length === 0) return this;
    if (this.list.length === 0) return other;
    const a = this.list;
    const b = other.list;
    const out: StoredEntry[] = [];
    let i = 0;
    let j = 0;
    while (i < a.length && j < b.length) {
      const x = a[i] as StoredEntry;
      const y = b[j] as StoredEntry;
      const c = byKey(x, y);
      if (c < 0) {
        out.push(x);
        i++;
      } else if (c > 0) {
        out.push(y);
        j++;
      } else {
        const value = plus(x.value, y.value);
        if (value === undefined) throw new ResourceArithmeticError(`cannot add ${keyText(y)}: ${kindClash(x, y)}`);
        if (value.kind === 'scalar' && value.milli > MAX_SCALAR_MILLI) throw new ResourceArithmeticError(`cannot add ${keyText(y)}: scalar is too large`);
        out.push(withValue(x, value));
        i++;
        j++;
      }
    }
    while (i < a.length) out.push(a[i++] as StoredEntry);
    while (j < b.length) out.push(b[j++] as StoredEntry);
    return new Resources(out);
  }

  /** The difference per entry key: scalars clamp at 0, ranges and sets lose other's members. */
  subtract(other: Resources): Resources {
    if (other === this) return Resources.EMPTY;
    if (other.list.length === 0 || this.list.length === 0) return this;
    const a = this.list;
    const b = other.list;
    const out: StoredEntry[] = [];
    let j = 0;
    let changed = false;
    for (const x of a) {
      while (j < b.length && byKey(b[j] as StoredEntry, x) < 0) j++;
      const y = b[j];
      if (y === undefined || byKey(x, y) !== 0) {
        out.push(x);
        continue;
      }
      const value = minus(x.value, y.value);
      if (value === undefined) throw new ResourceArithmeticError(`cannot subtract ${keyText(y)}: ${kindClash(x, y)}`);
      changed = true;
      if (!isEmptyValue(value)) out.push(withValue(x, value));
    }
    if (!changed) return this;
    return out.length === 0 ? Resources.EMPTY : new Resources(out);
  }

  /** True when every entry of other fits within the entry of the same key here. */
  contains(other: Resources): boolean {
    if (other === this) return true;
    const a = this.list;
    let i = 0;
    for (const y of other.list) {
      while (i < a.length && byKey(a[i] as StoredEntry, y) < 0) i++;
      const x = a[i];
      if (x === undefined || byKey(x, y) !== 0 || !within(y.value, x.value)) return false;
    }
    return true;
  }

  /** True when both hold exactly the same entries. */
  equals(other: Resources): boolean {
    if (other === this) return true;
    if (other.list.length !== this.list.length) return false;
    return this.list.every((x, i) => {
      const y = other.list[i] as StoredEntry;
      return byKey(x, y) === 0 && sameValue(x.value, y.value);
    });
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
    return [...this.scalarMilli().keys()];
  }

  /** Each scalar name's total over roles, in units, in name order (the input of DRF shares). */
  scalarTotals(): Map<string, number> {
    return new Map([...this.scalarMilli()].map(([name, milli]) => [name, milli / 1000]));
  }

  /**
   * Each scalar name's total over roles in integer thousandths, in name order. Computed once
   * per value and shared: callers must not change it.
   */
  scalarMilli(): ReadonlyMap<string, number> {
    if (this.milli !== undefined) return this.milli;
    const totals = new Map<string, number>();
    for (const e of this.list) {
      if (e.value.kind === 'scalar') totals.set(e.name, (totals.get(e.name) ?? 0) + e.value.milli);
    }
    this.milli = totals;
    return totals;
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
    const pieces = this.list
      .flatMap((entry) => (entry.name === name && entry.value.kind === 'ranges' ? entry.value.ranges.map((range) => ({ entry, range })) : []))
      .sort((x, y) => x.range[0] - y.range[0] || byKey(x.entry, y.entry));
    const taken = new Map<string, StoredEntry>();
    let need = count;
    for (const { entry, range } of pieces) {
      if (need === 0) break;
      const n = Math.min(need, range[1] - range[0] + 1);
      accumulate(taken, withValue(entry, { kind: 'ranges', ranges: [[range[0], range[0] + n - 1]] }));
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
    return this.filter((e) => e.role === UNRESERVED);
  }

  /** Only the reserved entries (any role but '*'), static or dynamic. */
  reserved(): Resources {
    return this.filter((e) => e.role !== UNRESERVED);
  }

  /** Only the scalar entries. */
  scalars(): Resources {
    return this.filter((e) => e.value.kind === 'scalar');
  }

  /** Only the entries reserved dynamically (RESERVE), with or without volumes. */
  dynamicallyReserved(): Resources {
    return this.filter((e) => e.labels !== undefined);
  }

  /** Only the persistent volumes. */
  volumes(): Resources {
    return this.filter((e) => e.volume !== undefined);
  }

  /** The sorted distinct roles of the entries. */
  roles(): string[] {
    return [...new Set(this.list.map((e) => e.role))].sort(compare);
  }

  /** What `role` may be offered: unreserved entries and those reserved to `role` or an ancestor (`a` for `a/b`). */
  allocatableBy(role: string): Resources {
    return this.filter((e) => e.role === UNRESERVED || e.role === role || role.startsWith(`${e.role}/`));
  }

  /**
   * The same resources reserved for `spec.role`: statically, or dynamically when labels are
   * given. Volumes are kept. Throws ResourceArithmeticError for role `*` or bad labels.
   */
  reservedFor(spec: ReservationSpec): Resources {
    if (spec.role === UNRESERVED) throw new ResourceArithmeticError('cannot reserve for the unreserved role "*"');
    const labels = spec.labels === undefined ? undefined : labelsFrom(spec.labels);
    if (typeof labels === 'string') throw new ResourceArithmeticError(`cannot reserve: ${labels}`);
    return this.mapEntries((e) => makeEntry(e.name, spec.role, e.value, labels, e.volume));
  }

  /** The same resources, unreserved: roles, reservation labels and volumes dropped. */
  toUnreserved(): Resources {
    return this.mapEntries((e) => makeEntry(e.name, UNRESERVED, e.value));
  }

  /** The same resources without their persistent volume information. */
  withoutVolumes(): Resources {
    return this.mapEntries((e) => (e.volume === undefined ? e : makeEntry(e.name, e.role, e.value, e.labels)));
  }

  /** The same resources as persistent volume `volume` (disk only); throws ResourceArithmeticError otherwise. */
  asVolume(volume: VolumeInfo): Resources {
    return this.mapEntries((e) => {
      if (e.name !== 'disk' || e.role === UNRESERVED || e.value.kind !== 'scalar') {
        throw new ResourceArithmeticError(`a persistent volume must be reserved disk, not ${keyText(e)}`);
      }
      return makeEntry(e.name, e.role, e.value, e.labels, volume.path === undefined ? { id: volume.id } : { ...volume });
    });
  }

  /** The entries, ordered by name, role, then reservation and volume. */
  entries(): readonly ResourceEntry[] {
    return this.list.map((e): ResourceEntry => {
      const { name, role, value } = e;
      const extra = extrasOf(e);
      if (value.kind === 'scalar') return { name, role, kind: 'scalar', value: value.milli / 1000, ...extra };
      if (value.kind === 'ranges') return { name, role, kind: 'ranges', value: value.ranges, ...extra };
      return { name, role, kind: 'set', value: value.items, ...extra };
    });
  }

  private filter(keep: (e: StoredEntry) => boolean): Resources {
    if (this.list.every(keep)) return this;
    const list = this.list.filter(keep);
    return list.length === 0 ? Resources.EMPTY : new Resources(list);
  }

  private mapEntries(map: (e: StoredEntry) => StoredEntry): Resources {
    const bag = new Map<string, StoredEntry>();
    for (const entry of this.list) {
      const problem = accumulate(bag, map(entry));
      if (problem !== undefined) throw new ResourceArithmeticError(`cannot convert ${keyText(entry)}: ${problem}`);
    }
    return Resources.of(bag);
  }

  private rangeEntries(name: string): Array<{ role: string; ranges: readonly Range[] }> {
    return this.list.flatMap((e) => (e.name === name && e.value.kind === 'ranges' ? [{ role: e.role, ranges: e.value.ranges }] : []));
  }
}
