/**
 * The outside forms of resources and their validation: the text form (Mesos's `--resources`
 * syntax, extended for dynamic reservations and persistent volumes) and the wire form (a list
 * of ResourceWire, as a peer sends it). Text grammar, whitespace tolerated around every token:
 *
 *   resources := entry (';' entry)*        blank entries are skipped
 *   entry     := name ('(' reservation ')')? ('[' volume ']')? ':' value
 *   reservation := role (',' 'dynamic' (',' key '=' value)*)?
 *   volume    := id (':' path)?            a persistent volume (reserved disk only)
 *   value     := number | '[' range (',' range)* ']' | '{' item (',' item)* '}'
 *   range     := int ('-' int)?            a single int n means n-n
 *
 * `cpus(eng):2` is a static reservation (made by the agent's operator); `cpus(eng,dynamic):2`
 * a dynamic one (RESERVE), optionally labelled: `cpus(eng,dynamic,team=web):2`.
 * `disk(eng,dynamic)[data1:var/data]:512` is a persistent volume `data1` on that disk.
 *
 * Validators return a problem as a string (undefined when fine); callers wrap it in the error
 * of their own context, naming the entry.
 */

/** A resource entry on the wire: exactly one of scalar, ranges, set; role omitted when '*'. */
export interface ResourceWire {
  name: string;
  role?: string;
  /** True for a dynamic reservation (RESERVE); absent for static reservations and unreserved. */
  dynamic?: boolean;
  /** Labels of a dynamic reservation. */
  labels?: Record<string, string>;
  /** The persistent volume this reserved disk holds. */
  volume?: VolumeInfo;
  scalar?: number;
  ranges?: Array<[number, number]>;
  set?: string[];
}

/** A persistent volume on reserved disk: its id and, optionally, where tasks see it. */
export interface VolumeInfo {
  id: string;
  path?: string;
}

/** An inclusive integer interval [begin, end]. */
export type Range = readonly [number, number];

/** A stored value: scalars are integer thousandths (fixed point, as in Mesos). */
export type StoredValue =
  | { readonly kind: 'scalar'; readonly milli: number }
  | { readonly kind: 'ranges'; readonly ranges: readonly Range[] }
  | { readonly kind: 'set'; readonly items: readonly string[] };

/** The labels of a dynamic reservation, sorted by key. */
export type Labels = ReadonlyArray<readonly [string, string]>;

/** One stored entry; a Resources keeps at most one per (name, role, ext). */
export interface StoredEntry {
  readonly name: string;
  readonly role: string;
  readonly value: StoredValue;
  /** Set for a dynamic reservation: its labels (maybe none). Undefined: static or unreserved. */
  readonly labels?: Labels;
  /** Set for a persistent volume. */
  readonly volume?: Readonly<VolumeInfo>;
  /**
   * '' for a plain entry; otherwise the canonical text of the reservation and volume
   * (`,dynamic,team=web` and `[data1:var/data]`), which tells apart entries of one name and role.
   */
  readonly ext: string;
}

/** The canonical `ext` of an entry with these reservation labels and volume. */
export function extOf(labels: Labels | undefined, volume: Readonly<VolumeInfo> | undefined): string {
  let ext = '';
  if (labels !== undefined) ext += ',dynamic' + labels.map(([k, v]) => `,${k}=${v}`).join('');
  if (volume !== undefined) ext += volume.path === undefined ? `[${volume.id}]` : `[${volume.id}:${volume.path}]`;
  return ext;
}

/** Builds a stored entry, computing its `ext`. */
export function makeEntry(
  name: string,
  role: string,
  value: StoredValue,
  labels?: Labels,
  volume?: Readonly<VolumeInfo>,
): StoredEntry {
  const entry: { -readonly [K in keyof StoredEntry]: StoredEntry[K] } = { name, role, value, ext: extOf(labels, volume) };
  if (labels !== undefined) entry.labels = labels;
  if (volume !== undefined) entry.volume = volume;
  return entry;
}

/** The same entry with another value. */
export function withValue(entry: StoredEntry, value: StoredValue): StoredEntry {
  return { ...entry, value };
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
const LABEL_KEY = /^[A-Za-z0-9_.-]{1,64}$/;
const LABEL_VALUE = /^[A-Za-z0-9_./-]{0,256}$/;
const VOLUME_ID = /^[A-Za-z0-9_.-]{1,128}$/;
const VOLUME_PATH = /^[A-Za-z0-9_./-]{1,1024}$/;
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

/** Why these labels are not valid reservation labels, or undefined. */
export function checkLabel(key: string, value: string): string | undefined {
  if (!LABEL_KEY.test(key)) return `label key "${key}" must match ${LABEL_KEY.source}`;
  return LABEL_VALUE.test(value) ? undefined : `label value "${value}" must match ${LABEL_VALUE.source}`;
}

/** Why `volume` is not a valid persistent volume, or undefined. */
export function checkVolume(volume: VolumeInfo): string | undefined {
  if (typeof volume.id !== 'string' || !VOLUME_ID.test(volume.id)) return `volume id "${String(volume.id)}" must match ${VOLUME_ID.source}`;
  if (volume.path !== undefined && (typeof volume.path !== 'string' || !VOLUME_PATH.test(volume.path))) {
    return `volume path "${String(volume.path)}" must match ${VOLUME_PATH.source}`;
  }
  return undefined;
}

/** Why an entry's reservation and volume do not fit its role and value, or undefined. */
export function checkExtras(entry: StoredEntry): string | undefined {
  if (entry.labels !== undefined && entry.role === UNRESERVED) return 'an unreserved resource cannot carry a dynamic reservation';
  if (entry.volume === undefined) return undefined;
  if (entry.role === UNRESERVED) return 'a persistent volume needs reserved disk';
  if (entry.name !== 'disk' || entry.value.kind !== 'scalar') return 'a persistent volume must be a disk scalar';
  return undefined;
}

/** Labels from a record, sorted by key; or the problem. */
export function labelsFrom(record: Record<string, string>): Labels | string {
  const out: Array<[string, string]> = [];
  for (const [key, value] of Object.entries(record)) {
    if (typeof value !== 'string') return `label "${key}" must have a string value`;
    const problem = checkLabel(key, value);
    if (problem !== undefined) return problem;
    out.push([key, value]);
  }
  return out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
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
  const colon = valueColon(source);
  if (colon < 0) return 'expected name:value or name(role):value';
  const head = /^([^()[\]]*?)\s*(?:\(([^()]*)\))?\s*(?:\[([^[\]]*)\])?$/.exec(source.slice(0, colon).trim());
  if (!head) return 'expected name or name(role) before ":"';
  const name = head[1] ?? '';
  const reservation = parseReservation(head[2]);
  if (typeof reservation === 'string') return reservation;
  const problem = checkName(name) ?? checkRole(reservation.role);
  if (problem !== undefined) return problem;
  let volume: VolumeInfo | undefined;
  if (head[3] !== undefined) {
    const [id = '', ...path] = head[3].split(':').map((part) => part.trim());
    volume = path.length === 0 ? { id } : { id, path: path.join(':') };
    const bad = checkVolume(volume);
    if (bad !== undefined) return bad;
  }
  const value = parseValue(source.slice(colon + 1).trim());
  if (typeof value === 'string') return value;
  const entry = makeEntry(name, reservation.role, value, reservation.labels, volume);
  return checkExtras(entry) ?? entry;
}

/** Index of the ':' between head and value: the first one outside () and []. */
function valueColon(source: string): number {
  let depth = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '(' || c === '[') depth++;
    else if (c === ')' || c === ']') depth--;
    else if (c === ':' && depth === 0) return i;
  }
  return -1;
}

/** `role` or `role,dynamic,k=v,...` inside the parentheses. */
function parseReservation(inner: string | undefined): { role: string; labels?: Labels } | string {
  if (inner === undefined) return { role: UNRESERVED };
  const [role = '', ...rest] = inner.split(',').map((part) => part.trim());
  if (rest.length === 0) return { role };
  if (rest[0] !== 'dynamic') return `expected "dynamic" after the role, got "${rest[0]}"`;
  const record: Record<string, string> = {};
  for (const part of rest.slice(1)) {
    const eq = part.indexOf('=');
    if (eq < 0) return `label "${part}" must be key=value`;
    const key = part.slice(0, eq).trim();
    if (key in record) return `label "${key}" is given twice`;
    record[key] = part.slice(eq + 1).trim();
  }
  const labels = labelsFrom(record);
  return typeof labels === 'string' ? labels : { role, labels };
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

function formatEntry({ name, role, value, labels, volume }: StoredEntry): string {
  const reservation = labels === undefined ? '' : extOf(labels, undefined);
  const head = role === UNRESERVED ? name : `${name}(${role}${reservation})`;
  const vol = volume === undefined ? '' : extOf(undefined, volume);
  return `${head}${vol}:${formatValue(value)}`;
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
  const { name, role = UNRESERVED, scalar, ranges, set, dynamic, labels, volume } = wire;
  if (typeof name !== 'string') return 'name must be a string';
  if (typeof role !== 'string') return 'role must be a string';
  const problem = checkName(name) ?? checkRole(role);
  if (problem !== undefined) return problem;
  const given = [scalar, ranges, set].filter((v) => v !== undefined).length;
  if (given !== 1) return `exactly one of scalar, ranges or set must be given, got ${given}`;
  const value = valueFromWire(scalar, ranges, set);
  if (typeof value === 'string') return value;
  if (dynamic !== undefined && typeof dynamic !== 'boolean') return 'dynamic must be a boolean';
  if (labels !== undefined && (typeof labels !== 'object' || labels === null || dynamic !== true)) {
    return 'labels must be an object and need dynamic: true';
  }
  const sorted = dynamic === true ? labelsFrom(labels ?? {}) : undefined;
  if (typeof sorted === 'string') return sorted;
  if (volume !== undefined) {
    if (typeof volume !== 'object' || volume === null) return 'volume must be an object';
    const bad = checkVolume(volume);
    if (bad !== undefined) return bad;
  }
  const vol = volume === undefined ? undefined : volume.path === undefined ? { id: volume.id } : { id: volume.id, path: volume.path };
  const entry = makeEntry(name, role, value, sorted, vol);
  return checkExtras(entry) ?? entry;
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
