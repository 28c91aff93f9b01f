// Property-based fuzzing of the codec over every message union: valid messages (generated
// from the zod schemas) round-trip; arbitrary bytes, truncations, bit flips, fields replaced
// by arbitrary values and over-sized payloads are refused with the typed protocol errors,
// never a throw. Fixed seed (test/fuzz/config.ts); fast-check prints it on failure.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Packr } from 'msgpackr';
import { decode, encode, type DecodeResult } from '../../protocol/codec.js';
import { MalformedMessageError, MessageTooLargeError, ProtocolError, ProtocolErrorCode } from '../../protocol/errors.js';
import { SchedulerCall } from '../../protocol/scheduler.js';
import type { MessageUnion } from '../../protocol/union.js';
import { runs } from './config.js';
import { ALL_UNIONS } from './unions.js';
import { arbitrariesOf, messageOf } from './zod-arbitrary.js';

const CODES = new Set<string>(Object.values(ProtocolErrorCode));

/**
 * The value with bytes as plain arrays (msgpackr gives Buffers, a Uint8Array subclass, back)
 * and -0 as 0 (msgpackr packs -0 as the integer 0; no receiver can tell them apart).
 */
function plain(value: unknown): unknown {
  if (Object.is(value, -0)) return 0;
  if (value instanceof Uint8Array) return { bytes: Array.from(value) };
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

/** Decodes, failing the property if decode throws or fails with anything but a ProtocolError. */
function decodeSafely(union: MessageUnion, bytes: Uint8Array, maxBytes?: number): DecodeResult<unknown> {
  let result: DecodeResult<unknown>;
  try {
    result = decode(union, bytes, maxBytes === undefined ? {} : { maxBytes });
  } catch (e) {
    throw new Error(`decode(${union.name}) threw on ${Buffer.from(bytes).toString('hex').slice(0, 200)}: ${String(e)}`);
  }
  if (!result.ok) {
    expect(result.error).toBeInstanceOf(ProtocolError);
    expect(CODES.has(result.error.code)).toBe(true);
    expect(result.error.message.length).toBeLessThan(8192);
  }
  return result;
}

/** A valid message of `union` (generated, then kept only if its schema accepts it) and its encoding. */
function validOf(union: MessageUnion): fc.Arbitrary<{ message: Record<string, unknown>; bytes: Uint8Array }> {
  return messageOf(union)
    .filter((m) => union.byType.get(String(m.type))!.safeParse(m).success)
    .map((message) => ({ message, bytes: encode(message) }));
}

describe.each(ALL_UNIONS.map((u) => [u.name, u] as const))('codec fuzz: %s', (_name, union) => {
  it('round-trips every message type (the decoded value is what the schema makes of the sent one)', () => {
    for (const [type, arb] of arbitrariesOf(union)) {
      const schema = union.byType.get(type)!;
      let valid = 0;
      fc.assert(
        fc.property(arb, (message) => {
          const parsed = schema.safeParse(message);
          if (!parsed.success) return;
          valid += 1;
          const r = decodeSafely(union, encode(message as object));
          expect(r.ok, `${type}: ${r.ok ? '' : r.error.message}`).toBe(true);
          if (r.ok) expect(plain(r.value)).toEqual(plain(parsed.data));
        }),
        runs(20),
      );
      // The generator must mostly make valid messages, or this property proves nothing.
      expect(valid, `${union.name}.${type}: valid samples`).toBeGreaterThanOrEqual(10);
    }
  });

  it('refuses arbitrary bytes with a typed error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        decodeSafely(union, bytes);
      }),
      runs(300),
    );
  });

  it('refuses every truncation of a valid message as MALFORMED', () => {
    fc.assert(
      fc.property(validOf(union), fc.nat(), ({ bytes }, cut) => {
        const n = bytes.length <= 1 ? 0 : cut % bytes.length; // a strict prefix, possibly empty
        const r = decodeSafely(union, bytes.subarray(0, n));
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.error).toBeInstanceOf(MalformedMessageError);
      }),
      runs(100),
    );
  });

  it('never throws on bit flips of valid messages; what still decodes is valid and stable', () => {
    fc.assert(
      fc.property(validOf(union), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 6 }), ({ bytes }, flips) => {
        const mutated = Uint8Array.from(bytes);
        for (const [at, bit] of flips) mutated[at % mutated.length] = mutated[at % mutated.length]! ^ (1 << bit);
        const r = decodeSafely(union, mutated);
        if (r.ok) {
          const again = decodeSafely(union, encode(r.value as object));
          expect(again.ok).toBe(true);
          if (again.ok) expect(plain(again.value)).toEqual(plain(r.value));
        }
      }),
      runs(200),
    );
  });

  it('refuses a valid message whose field is replaced by an arbitrary value, or answers with a valid one', () => {
    fc.assert(
      fc.property(validOf(union), fc.nat(), fc.anything({ maxDepth: 3, withBigInt: true, withDate: true, withTypedArray: true, withNullPrototype: true }), ({ message }, pick, value) => {
        const keys = Object.keys(message);
        const key = keys[pick % keys.length]!;
        let bytes: Uint8Array;
        try {
          bytes = encode({ ...message, [key]: value });
        } catch {
          return; // msgpackr cannot encode this value (e.g. a symbol): nothing a peer could send
        }
        const r = decodeSafely(union, bytes);
        if (r.ok) expect(union.byType.get(String((r.value as { type: unknown }).type))!.safeParse(r.value).success).toBe(true);
      }),
      runs(200),
    );
  });

  it('refuses a payload over the limit as TOO_LARGE before parsing, and takes it at the limit', () => {
    fc.assert(
      fc.property(validOf(union), fc.integer({ min: 1, max: 64 }), ({ bytes }, over) => {
        const limit = Math.max(0, bytes.length - over);
        const r = decodeSafely(union, bytes, limit);
        expect(r.ok).toBe(false);
        if (!r.ok) {
          expect(r.error).toBeInstanceOf(MessageTooLargeError);
          expect(r.error).toMatchObject({ size: bytes.length, limit });
        }
        expect(decodeSafely(union, bytes, bytes.length).ok).toBe(true);
      }),
      runs(50),
    );
  });
});

describe('codec fuzz: hostile msgpack', () => {
  const T = [...Buffer.from('type')];
  const TEARDOWN = [0x82, 0xa4, ...T, 0xa8, ...Buffer.from('TEARDOWN'), 0xab, ...Buffer.from('frameworkId')];

  it('refuses msgpack extensions (errors, regexps, sets, typed arrays, timestamps, bigints) in any field', () => {
    for (let ext = -128; ext < 128; ext++) {
      const bytes = Uint8Array.from([...TEARDOWN, 0xc7, 4, ext & 0xff, 0x92, 0xa1, 0x61, 0xc0]);
      const r = decodeSafely(SchedulerCall, bytes);
      expect(r.ok, `extension ${ext}`).toBe(false);
    }
  });

  it('refuses deep nesting, huge declared lengths, trailing bytes and non-string keys as MALFORMED', () => {
    const cases = [
      new Uint8Array(200_000).fill(0x91), // [[[[…]]]]
      Uint8Array.from([...TEARDOWN.slice(0, -12), 0xa3, ...Buffer.from('pad'), ...new Uint8Array(100_000).fill(0x91), 0xc0]),
      Uint8Array.from([0xdf, 0xff, 0xff, 0xff, 0xff]), // a map of 4 G entries
      Uint8Array.from([0x81, 0xa4, ...T, 0xdb, 0xff, 0xff, 0xff, 0xff]), // a 4 GB string
      Uint8Array.from([...encode({ type: 'TEARDOWN', frameworkId: 'f' }), 0x01]), // trailing byte
      Uint8Array.from([0x82, 0x81, 0x01, 0x02, 0x03, 0xa4, ...T, 0xa8, ...Buffer.from('TEARDOWN')]), // a map as a key
    ];
    for (const bytes of cases) {
      const r = decodeSafely(SchedulerCall, bytes);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.code).toBe('MALFORMED');
    }
  });

  it('does not let a __proto__ key pollute prototypes or supply the type', () => {
    const p = new Packr({ useRecords: false, mapsAsObjects: true });
    const cases = [
      p.pack(new Map<string, unknown>([['__proto__', { type: 'TEARDOWN', frameworkId: 'f' }]])),
      p.pack(new Map<string, unknown>([['type', 'TEARDOWN'], ['__proto__', { frameworkId: 'f', polluted: true }]])),
      p.pack(new Map<string, unknown>([['type', 'TEARDOWN'], ['frameworkId', 'f'], ['constructor', { prototype: { polluted: true } }]])),
    ];
    const results = cases.map((bytes) => decodeSafely(SchedulerCall, bytes));
    expect(results[0]!.ok).toBe(false);
    expect(results[1]!.ok).toBe(false);
    expect(results[2]!.ok && results[2]!.value).toEqual({ type: 'TEARDOWN', frameworkId: 'f' });
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });
});
