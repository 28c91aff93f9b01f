/**
 * fast-check arbitraries derived from the protocol's zod schemas, so that every message type
 * of every union can be generated without writing an arbitrary per message. Sizes are kept
 * small (short strings and lists) so that runs stay fast; bounds, formats, enums, literals
 * and defaults come from the schema. Refinements that a generic walk cannot satisfy (one
 * resource kind per resource, resource text) are served by `OVERRIDES`. Callers still check
 * `schema.safeParse` on what they get: a value is a candidate, not a guarantee.
 */
import fc from 'fast-check';
import type { z } from 'zod';
import { ResourceText } from '../../protocol/operator-api.js';
import { HealthCheck, ResourceWireSchema } from '../../protocol/schema.js';
import type { MessageUnion } from '../../protocol/union.js';

/** Longest string or list generated where the schema allows more. */
const MAX_SIZE = 4;

interface Check {
  check?: string;
  format?: string;
  pattern?: RegExp;
  minimum?: number;
  maximum?: number;
  value?: number;
  inclusive?: boolean;
}

interface Def {
  type: string;
  checks?: Array<{ _zod: { def: Check } }>;
  innerType?: z.ZodType;
  defaultValue?: unknown;
  values?: unknown[];
  entries?: Record<string, unknown>;
  element?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  keyType?: z.ZodType;
  valueType?: z.ZodType;
  items?: z.ZodType[];
  options?: z.ZodType[];
}

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

function checksOf(def: Def): Check[] {
  return (def.checks ?? []).map((c) => c._zod.def);
}

/** A valid resource on the wire: exactly one of scalar, ranges or set. */
const resourceWire: fc.Arbitrary<unknown> = fc.record(
  {
    name: fc.constantFrom('cpus', 'mem', 'disk', 'ports', 'gpus', 'x'),
    role: fc.constantFrom('*', 'eng', 'eng/web'),
    value: fc.oneof(
      fc.record({ scalar: fc.double({ min: 0, max: 1e6, noNaN: true }) }),
      fc.record({ ranges: fc.array(fc.tuple(fc.nat(1000), fc.nat(100)).map(([b, n]) => [b, b + n]), { maxLength: 3 }) }),
      fc.record({ set: fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }) }),
    ),
  },
  { requiredKeys: ['name', 'value'] },
).map(({ value, ...rest }) => ({ ...rest, ...value }));

/** Schemas whose refinements a generic walk cannot satisfy, with arbitraries that do. */
const OVERRIDES = new Map<z.ZodType, fc.Arbitrary<unknown>>([
  [ResourceWireSchema as unknown as z.ZodType, resourceWire],
  [ResourceText as unknown as z.ZodType, fc.constantFrom('cpus:1', 'cpus:2;mem:1024', 'cpus(eng):1', 'ports:[31000-31010]', 'disk:10')],
  [
    HealthCheck as unknown as z.ZodType,
    fc.oneof(
      fc.record({ type: fc.constant('COMMAND'), command: fc.record({ value: fc.string({ minLength: 1, maxLength: 40 }), environment: fc.constant({}) }) }),
      fc.record({ type: fc.constant('HTTP'), http: fc.record({ port: fc.integer({ min: 1, max: 65_535 }), path: fc.constantFrom('/', '/health') }) }),
      fc.record({ type: fc.constant('TCP'), tcp: fc.record({ port: fc.integer({ min: 1, max: 65_535 }) }) }),
    ),
  ],
]);

function stringArb(def: Def): fc.Arbitrary<string> {
  let min = 0;
  let max = Number.POSITIVE_INFINITY;
  let pattern: RegExp | undefined;
  for (const c of checksOf(def)) {
    if (c.check === 'min_length') min = Math.max(min, c.minimum ?? 0);
    if (c.check === 'max_length') max = Math.min(max, c.maximum ?? max);
    if (c.check === 'string_format' && c.format === 'regex' && c.pattern !== undefined) pattern = c.pattern;
  }
  const cap = Math.max(min, Math.min(max, MAX_SIZE * 3));
  if (pattern !== undefined) return fc.stringMatching(pattern).filter((s) => s.length >= min && s.length <= max && s.length <= Math.max(cap, 40));
  return fc.string({ minLength: min, maxLength: cap });
}

function numberArb(def: Def): fc.Arbitrary<number> {
  let int = false;
  let min = -1e9;
  let max = 1e9;
  let minExcluded = false;
  let maxExcluded = false;
  for (const c of checksOf(def)) {
    if (c.check === 'number_format' && (c.format === 'safeint' || c.format === 'int32')) int = true;
    if (c.check === 'greater_than' && c.value !== undefined) [min, minExcluded] = [c.value, c.inclusive !== true];
    if (c.check === 'less_than' && c.value !== undefined) [max, maxExcluded] = [c.value, c.inclusive !== true];
  }
  if (int) return fc.integer({ min: Math.ceil(min + (minExcluded ? 1 : 0)), max: Math.floor(max - (maxExcluded ? 1 : 0)) });
  return fc.double({ min, max, minExcluded, maxExcluded, noNaN: true, noDefaultInfinity: true });
}

function lengths(def: Def): { minLength: number; maxLength: number } {
  let minLength = 0;
  let maxLength = MAX_SIZE;
  for (const c of checksOf(def)) {
    if (c.check === 'min_length') minLength = c.minimum ?? 0;
    if (c.check === 'max_length') maxLength = Math.min(maxLength, c.maximum ?? maxLength);
  }
  return { minLength, maxLength: Math.max(minLength, Math.min(maxLength, MAX_SIZE)) };
}

/** An arbitrary of (mostly) valid values of `schema`. */
export function arbitraryOf(schema: z.ZodType): fc.Arbitrary<unknown> {
  const override = OVERRIDES.get(schema);
  if (override !== undefined) return override;
  const def = defOf(schema);
  switch (def.type) {
    case 'string':
      return stringArb(def);
    case 'number':
      return numberArb(def);
    case 'boolean':
      return fc.boolean();
    case 'literal':
      return fc.constantFrom(...(def.values ?? []));
    case 'enum':
      return fc.constantFrom(...Object.values(def.entries ?? {}));
    case 'optional':
      return fc.option(arbitraryOf(def.innerType!), { nil: undefined });
    case 'default':
      return fc.option(arbitraryOf(def.innerType!), { nil: undefined });
    case 'array':
      return fc.array(arbitraryOf(def.element!), lengths(def));
    case 'tuple':
      return fc.tuple(...(def.items ?? []).map(arbitraryOf));
    case 'record':
      return fc.dictionary(arbitraryOf(def.keyType!) as fc.Arbitrary<string>, arbitraryOf(def.valueType!), { maxKeys: 3, noNullPrototype: true });
    case 'object': {
      const shape = def.shape ?? {};
      const parts = Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, arbitraryOf(v)]));
      // Optional fields are generated as undefined sometimes; drop those keys (msgpack has no undefined).
      return fc.record(parts).map((o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)));
    }
    case 'union':
      return fc.oneof(...(def.options ?? []).map(arbitraryOf));
    case 'custom':
      // The protocol's only custom type is `z.instanceof(Uint8Array)` (Data).
      return fc.uint8Array({ maxLength: 16 });
    default:
      throw new Error(`zod-arbitrary: no arbitrary for zod type "${def.type}"`);
  }
}

/** One arbitrary per message type of `union`, by type. */
export function arbitrariesOf(union: MessageUnion): Map<string, fc.Arbitrary<unknown>> {
  return new Map([...union.byType].map(([type, schema]) => [type, arbitraryOf(schema as unknown as z.ZodType)]));
}

/** An arbitrary of candidate messages of `union`, every type equally likely. */
export function messageOf(union: MessageUnion): fc.Arbitrary<Record<string, unknown>> {
  return fc.oneof(...arbitrariesOf(union).values()) as fc.Arbitrary<Record<string, unknown>>;
}
