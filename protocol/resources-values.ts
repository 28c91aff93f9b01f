/**
 * Value arithmetic of resources (protocol/resources.ts): sums and differences of scalars
 * (integer thousandths), ranges (sorted, merged intervals) and sets (sorted strings).
 */
import type { Labels, Range, StoredEntry, StoredValue, VolumeInfo } from './resources-parse.js';
import { MAX_SCALAR_MILLI, UNRESERVED, withValue } from './resources-parse.js';

/** Orders entries by name, then role, then `ext` (reservation and volume). */
export function byKey(a: StoredEntry, b: StoredEntry): number {
  return compare(a.name, b.name) || compare(a.role, b.role) || compare(a.ext, b.ext);
}

/** Code-unit order of two strings. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The key of an entry in a map: name, role and ext. */
export function key(e: StoredEntry): string {
  return `${e.name}(${e.role}${e.ext})`;
}

/** How an entry is named in an error message. */
export function keyText(e: StoredEntry): string {
  return e.role === UNRESERVED && e.ext === '' ? e.name : key(e);
}

/** Why two entries of one key cannot be combined. */
export function kindClash(mine: StoredEntry, theirs: StoredEntry): string {
  return `${keyText(mine)} is ${mine.value.kind}, not ${theirs.value.kind}`;
}

/** The empty value of the same kind. */
export function emptyOf(value: StoredValue): StoredValue {
  if (value.kind === 'scalar') return { kind: 'scalar', milli: 0 };
  return value.kind === 'ranges' ? { kind: 'ranges', ranges: [] } : { kind: 'set', items: [] };
}

/** True when the value holds nothing. */
export function isEmptyValue(value: StoredValue): boolean {
  if (value.kind === 'scalar') return value.milli === 0;
  return value.kind === 'ranges' ? value.ranges.length === 0 : value.items.length === 0;
}

/** a + b, normalized; undefined when the kinds differ. */
export function plus(a: StoredValue, b: StoredValue): StoredValue | undefined {
  if (a.kind === 'scalar' && b.kind === 'scalar') return { kind: 'scalar', milli: a.milli + b.milli };
  if (a.kind === 'ranges' && b.kind === 'ranges') return { kind: 'ranges', ranges: unionRanges(a.ranges, b.ranges) };
  if (a.kind === 'set' && b.kind === 'set') return { kind: 'set', items: unionSorted(a.items, b.items) };
  return undefined;
}

/** a - b, clamped at empty; undefined when the kinds differ. */
export function minus(a: StoredValue, b: StoredValue): StoredValue | undefined {
  if (a.kind === 'scalar' && b.kind === 'scalar') return { kind: 'scalar', milli: Math.max(0, a.milli - b.milli) };
  if (a.kind === 'ranges' && b.kind === 'ranges') return { kind: 'ranges', ranges: subtractRanges(a.ranges, b.ranges) };
  if (a.kind === 'set' && b.kind === 'set') {
    const drop = new Set(b.items);
    return { kind: 'set', items: a.items.filter((item) => !drop.has(item)) };
  }
  return undefined;
}

/** True when `inner` is within `outer` (same kind); false when the kinds differ. */
export function within(inner: StoredValue, outer: StoredValue): boolean {
  if (inner.kind === 'scalar') return outer.kind === 'scalar' && inner.milli <= outer.milli;
  if (inner.kind === 'ranges') return outer.kind === 'ranges' && subtractRanges(inner.ranges, outer.ranges).length === 0;
  if (outer.kind !== 'set') return false;
  const have = new Set(outer.items);
  return inner.items.every((item) => have.has(item));
}

/** Deep equality of two values. */
export function sameValue(a: StoredValue, b: StoredValue): boolean {
  if (a.kind === 'scalar') return b.kind === 'scalar' && a.milli === b.milli;
  if (a.kind === 'ranges') {
    return b.kind === 'ranges' && a.ranges.length === b.ranges.length && a.ranges.every((r, i) => r[0] === b.ranges[i]?.[0] && r[1] === b.ranges[i]?.[1]);
  }
  return b.kind === 'set' && a.items.length === b.items.length && a.items.every((item, i) => item === b.items[i]);
}

// ---- entries ---------------------------------------------------------------------------------

/** Adds `entry` into `bag` under its key; returns the problem instead when kinds clash or it overflows. */
export function accumulate(bag: Map<string, StoredEntry>, entry: StoredEntry): string | undefined {
  const k = key(entry);
  const mine = bag.get(k);
  // Raw input may hold unsorted, overlapping ranges: normalize before the linear union.
  const raw = entry.value.kind === 'ranges' ? { kind: 'ranges' as const, ranges: mergeRanges(entry.value.ranges) } : entry.value;
  const value = plus(mine?.value ?? emptyOf(raw), raw);
  if (value === undefined) return kindClash(mine ?? entry, entry);
  if (value.kind === 'scalar' && value.milli > MAX_SCALAR_MILLI) return 'scalar is too large';
  bag.set(k, withValue(entry, value));
  return undefined;
}

/** The optional fields of a ResourceEntry: labels as a record, the volume. */
export function extrasOf(e: StoredEntry): { labels?: Record<string, string>; volume?: VolumeInfo } {
  const extra: { labels?: Record<string, string>; volume?: VolumeInfo } = {};
  if (e.labels !== undefined) extra.labels = labelsRecord(e.labels);
  if (e.volume !== undefined) extra.volume = { ...e.volume };
  return extra;
}

/** Sorted label pairs as a record. */
export function labelsRecord(labels: Labels): Record<string, string> {
  return Object.fromEntries(labels.map(([k, v]) => [k, v]));
}

// ---- ranges ----------------------------------------------------------------------------------

/** Sorts and merges overlapping or adjacent ranges. */
export function mergeRanges(list: readonly Range[]): Range[] {
  const out: Array<[number, number]> = [];
  for (const [begin, end] of [...list].sort((x, y) => x[0] - y[0])) {
    const last = out[out.length - 1];
    if (last !== undefined && begin <= last[1] + 1) last[1] = Math.max(last[1], end);
    else out.push([begin, end]);
  }
  return out;
}

/** The union of two normalized range lists (a linear merge). */
function unionRanges(a: readonly Range[], b: readonly Range[]): Range[] {
  if (b.length === 0) return a.slice();
  if (a.length === 0) return b.slice();
  const out: Array<[number, number]> = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    const next = y === undefined || (x !== undefined && x[0] <= y[0]) ? (i++, x) : (j++, y);
    if (next === undefined) break;
    const last = out[out.length - 1];
    if (last !== undefined && next[0] <= last[1] + 1) last[1] = Math.max(last[1], next[1]);
    else out.push([next[0], next[1]]);
  }
  return out;
}

/** The integers of `a` not in `b`; both normalized. */
export function subtractRanges(a: readonly Range[], b: readonly Range[]): Range[] {
  const out: Range[] = [];
  let j = 0;
  for (const [begin, end] of a) {
    let start = begin;
    while (j < b.length && (b[j] as Range)[1] < start) j++;
    for (let k = j; k < b.length; k++) {
      const [cutBegin, cutEnd] = b[k] as Range;
      if (cutBegin > end) break;
      if (cutBegin > start) out.push([start, cutBegin - 1]);
      start = Math.max(start, cutEnd + 1);
      if (start > end) break;
    }
    if (start <= end) out.push([start, end]);
  }
  return out;
}

/** How many integers the ranges hold. */
export function countRanges(ranges: readonly Range[]): number {
  return ranges.reduce((n, [b, e]) => n + e - b + 1, 0);
}

function unionSorted(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])].sort(compare);
}
