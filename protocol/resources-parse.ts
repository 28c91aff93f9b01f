/**
 * The outside forms of resources and their validation: the text form (Mesos's `--resources`
 * syntax) and the wire form (a list of ResourceWire, as a peer sends it). Text grammar, whitespace tolerated around every token:
 *
 *   resources := entry (';' entry)*        blank entries are skipped
 *   entry     := name ('(' role ')')? ':' value
 *   value     := number | '[' range (',' range)* ']' | '{' item (',' item)* '}'
 *   range     := int ('-' int)?            a single int n means n-n
 *
 * Validators return a problem as a string (undefined when fine); callers wrap it in the error
 * of their own context, naming the entry.
 */

/** A resource entry on the wire: exactly one of scalar, ranges, set; role omitted when '*'. */
export interface ResourceWire {
  name: string;
  role?: string;
  scalar?: number;
  ranges?: Array<[number, number]>;
  set?: string[];
}

/** An inclusive integer interval [begin, end]. */
export type Range = readonly [number, number];

/** A stored value: scalars are integer thousandths (fixed point, as in Mesos). */
export type StoredValue =
  | { readonly kind: 'scalar'; readonly milli: number }
  | { readonly kind: 'ranges'; readonly ranges: readonly Range[] }
  | { readonly kind: 'set'; readonly items: readonly string[] };

/** One stored entry; a Resources keeps at most one per (name, role). */
export interface StoredEntry {
  readonly name: string;
  readonly role: string;
  readonly value: StoredValue;
}

/** The role of unreserved resources. */
export const UNRESERVED = '*';

/** Largest scalar, in thousandths: 10^12 units, below which units print and parse back exactly. */
export const MAX_SCALAR_MILLI = 1e15;

/** Largest range bound: keeps `end + 1` exact in double arithmetic. */
export const MAX_RANGE_BOUND = Number.MAX_SAFE_INTEGER - 1;

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
// A role is '*' or '/'-separated components; a component cannot be '.', '..' or start with '-'.
const ROLE_PART = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const SET_ITEM = /^[^\s,;:{}()[\]]+$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const RANGE = /^(\d+)(?:\s*-\s*(\d+))?$/;

/** Why `name` is not a valid resource name, or undefined. */
export function checkName(name: string): string | undefined {
  return NAME.test(name) ? undefined : `name "${name}" must match ${NAME.source}`;
}

/** Why `role` is not a valid role, or undefined. */
export function checkRole(role: string): string | undefined {
  if (role === UNRESERVED) return undefined;
  if (role === '') return 'role must not be empty';
  return role.split('/').every((part) => ROLE_PART.test(part))
    ? undefined
    : `role "${role}" must be "*" or "/"-separated parts matching ${ROLE_PART.source}`;
}

/** Converts a scalar in units to integer thousandths, or says why it cannot be one. */
export function toMilli(value: number): number | string {
  if (!Number.isFinite(value)) return 'scalar must be finite';
  if (value < 0) return 'scalar must not be negative';
  const milli = Math.round(value * 1000);
  return milli <= MAX_SCALAR_MILLI ? milli : 'scalar is too large';
}

/** Why [begin, end] is not a valid range, or undefined. */
export function checkRange(begin: number, end: number): string | undefined {
  if (!Number.isInteger(begin) || !Number.isInteger(end)) return 'range bounds must be integers';
  if (begin < 0 || end > MAX_RANGE_BOUND) return `range bounds must be within 0-${MAX_RANGE_BOUND}`;
  return begin <= end ? undefined : `range ${begin}-${end} has begin > end`;
}

/** Why `item` is not a valid set item, or undefined. */
export function checkSetItem(item: string): string | undefined {
  return SET_ITEM.test(item) ? undefined : `set item "${item}" must be non-empty, without spaces or ,;:{}()[]`;
}

/** One entry of a resource text, unmerged, with the text it came from (for errors). */
export interface ParsedEntry {
  readonly source: string;
  readonly entry: StoredEntry;
}

/** Splits a resource text into entries; returns the problem and its entry on the first bad one. */
export function parseEntries(text: string): ParsedEntry[] | { source: string; problem: string } {
  const out: ParsedEntry[] = [];
  for (const raw of text.split(';')) {
    const source = raw.trim();
    if (source === '') continue;
    const parsed = parseEntry(source);
    if (typeof parsed === 'string') return { source, problem: parsed };
    out.push({ source, entry: parsed });
  }
  return out;
}

function parseEntry(source: string): StoredEntry | string {
  const colon = source.indexOf(':');
  if (colon < 0) return 'expected name:value or name(role):value';
  const head = /^([^()]*?)\s*(?:\(([^()]*)\))?$/.exec(source.slice(0, colon).trim());
  if (!head) return 'expected name or name(role) before ":"';
  const name = head[1] ?? '';
  const role = head[2] === undefined ? UNRESERVED : head[2].trim();
  const problem = checkName(name) ?? checkRole(role);
  if (problem !== undefined) return problem;
  const value = parseValue(source.slice(colon + 1).trim());
  return typeof value === 'string' ? value : { name, role, value };
}

function parseValue(text: string): StoredValue | string {
  if (text.startsWith('[') || text.startsWith('{')) {
    const close = text.startsWith('[') ? ']' : '}';
    if (!text.endsWith(close) || text.length < 2) return `value "${text}" is missing its closing "${close}"`;
    const items = splitList(text.slice(1, -1));
    return close === ']' ? parseRanges(items) : parseSet(items);
  }
  if (!NUMBER.test(text)) return 'value must be a number, a [ranges] or a {set}';
  const milli = toMilli(Number(text));
  return typeof milli === 'string' ? milli : { kind: 'scalar', milli };
}

function splitList(inner: string): string[] {
  return inner.trim() === '' ? [] : inner.split(',').map((item) => item.trim());
}

function parseRanges(items: readonly string[]): StoredValue | string {
  const ranges: Range[] = [];
  for (const item of items) {
    const m = RANGE.exec(item);
    if (!m) return `range "${item}" must be an integer or begin-end`;
    const begin = Number(m[1]);
    const end = m[2] === undefined ? begin : Number(m[2]);
    const problem = checkRange(begin, end);
    if (problem !== undefined) return problem;
    ranges.push([begin, end]);
  }
  return { kind: 'ranges', ranges };
}

function parseSet(items: readonly string[]): StoredValue | string {
  const problem = items.map(checkSetItem).find((p) => p !== undefined);
  return problem ?? { kind: 'set', items };
}

/** Prints entries in Mesos syntax; the order is the caller's. */
export function formatEntries(entries: readonly StoredEntry[]): string {
  return entries.map(formatEntry).join(';');
}

function formatEntry({ name, role, value }: StoredEntry): string {
  const head = role === UNRESERVED ? name : `${name}(${role})`;
  return `${head}:${formatValue(value)}`;
}

function formatValue(value: StoredValue): string {
  switch (value.kind) {
    case 'scalar':
      return String(value.milli / 1000);
    case 'ranges':
      return `[${value.ranges.map(([b, e]) => `${b}-${e}`).join(',')}]`;
    case 'set':
      return `{${value.items.join(',')}}`;
  }
}

// ---- wire ------------------------------------------------------------------------------------

/** Validates one wire entry (a peer may send anything); returns the entry or the problem. */
export function entryFromWire(wire: ResourceWire): StoredEntry | string {
  if (typeof wire !== 'object' || wire === null) return 'entry must be an object';
  const { name, role = UNRESERVED, scalar, ranges, set } = wire;
  if (typeof name !== 'string') return 'name must be a string';
  if (typeof role !== 'string') return 'role must be a string';
  const problem = checkName(name) ?? checkRole(role);
  if (problem !== undefined) return problem;
  const given = [scalar, ranges, set].filter((v) => v !== undefined).length;
  if (given !== 1) return `exactly one of scalar, ranges or set must be given, got ${given}`;
  const value = valueFromWire(scalar, ranges, set);
  return typeof value === 'string' ? value : { name, role, value };
}

function valueFromWire(scalar: unknown, ranges: unknown, set: unknown): StoredValue | string {
  if (scalar !== undefined) {
    if (typeof scalar !== 'number') return 'scalar must be a number';
    const milli = toMilli(scalar);
    return typeof milli === 'string' ? milli : { kind: 'scalar', milli };
  }
  if (ranges !== undefined) {
    if (!Array.isArray(ranges)) return 'ranges must be an array of [begin, end]';
    for (const range of ranges as unknown[]) {
      if (!Array.isArray(range) || range.length !== 2) return 'ranges must be an array of [begin, end]';
      const [begin, end] = range as unknown[];
      if (typeof begin !== 'number' || typeof end !== 'number') return 'range bounds must be numbers';
      const problem = checkRange(begin, end);
      if (problem !== undefined) return problem;
    }
    return { kind: 'ranges', ranges: ranges as Range[] };
  }
  if (!Array.isArray(set) || !set.every((item): item is string => typeof item === 'string')) {
    return 'set must be an array of strings';
  }
  const problem = set.map(checkSetItem).find((p) => p !== undefined);
  return problem ?? { kind: 'set', items: set };
}

/** Names a wire entry for an error message, even a malformed one. */
export function describeWire(wire: ResourceWire): string {
  const name = typeof wire?.name === 'string' ? wire.name : '?';
  const role = typeof wire?.role === 'string' ? wire.role : UNRESERVED;
  return role === UNRESERVED ? `"${name}"` : `"${name}(${role})"`;
}
