// Property-based fuzzing of the HTTP API's body validation (actors/http/validate.ts): any
// JSON value, valid operator calls (from the zod schemas) and valid calls with a field
// replaced by any JSON value. validateJson never throws; it refuses with a typed 400
// (BadRequestError, code MALFORMED / UNKNOWN_TYPE / INVALID) or accepts a value its schema
// accepts; valid calls are accepted as the schema parses them. Fixed seed (test/fuzz/config.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../../actors/http/errors.js';
import { validateJson } from '../../actors/http/validate.js';
import { OperatorApiCall } from '../../protocol/operator-api.js';
import { runs } from './config.js';
import { messageOf } from './zod-arbitrary.js';

function check(raw: unknown): void {
  let r: ReturnType<typeof validateJson<typeof OperatorApiCall>>;
  try {
    r = validateJson(OperatorApiCall, raw);
  } catch (e) {
    throw new Error(`validateJson threw on ${JSON.stringify(raw)?.slice(0, 200)}: ${String(e)}`);
  }
  if (r.ok) {
    expect(OperatorApiCall.byType.get(r.value.type)!.safeParse(r.value).success).toBe(true);
  } else {
    expect(r.error).toBeInstanceOf(BadRequestError);
    expect(['MALFORMED', 'UNKNOWN_TYPE', 'INVALID']).toContain(r.error.code);
    expect(r.error.status).toBe(400);
  }
}

/** A valid call as JSON would carry it (what JSON.parse gives back). */
const validCall = messageOf(OperatorApiCall)
  .filter((m) => OperatorApiCall.byType.get(String(m.type))!.safeParse(m).success)
  .map((m) => JSON.parse(JSON.stringify(m)) as Record<string, unknown>);

describe('HTTP validate fuzz', () => {
  it('refuses any JSON value with a typed 400 or accepts what the schema accepts', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), check), runs(1000));
    fc.assert(fc.property(fc.dictionary(fc.constantFrom('type', 'agentId', 'frameworkId', 'x'), fc.jsonValue({ maxDepth: 2 })), check), runs(500));
  });

  it('accepts every valid call as its schema parses it', () => {
    fc.assert(
      fc.property(validCall, (call) => {
        const r = validateJson(OperatorApiCall, call);
        expect(r.ok, r.ok ? '' : r.error.message).toBe(true);
        if (r.ok) expect(r.value).toEqual(OperatorApiCall.byType.get(String(call.type))!.parse(call));
      }),
      runs(300),
    );
  });

  it('refuses or accepts validly a valid call with one field replaced by any JSON value', () => {
    fc.assert(
      fc.property(validCall, fc.nat(), fc.jsonValue({ maxDepth: 3 }), (call, pick, value) => {
        const keys = Object.keys(call);
        check({ ...call, [keys[pick % keys.length]!]: value });
      }),
      runs(500),
    );
  });
});
