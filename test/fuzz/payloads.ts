/**
 * Bad payloads for the live fuzz, drawn from a seeded RNG: random bytes, truncations and bit
 * flips of valid messages (generated from the zod schemas), and payloads over the codec's
 * limit. Each payload carries what the receiver's codec will make of it, computed with the
 * same `decode`, so the test knows which ones must be refused and with which code.
 */
import fc from 'fast-check';
import { DEFAULT_MAX_MESSAGE_BYTES, decode, encode } from '../../protocol/codec.js';
import type { MessageUnion } from '../../protocol/union.js';
import type { Rng } from '../../actors/runtime/rng.js';
import { messageOf } from './zod-arbitrary.js';

/** How a payload was made. */
export type PayloadKind = 'random' | 'truncated' | 'bit-flipped' | 'over-sized' | 'valid';

/** One payload and the receiver's verdict on it. */
export interface Payload {
  kind: PayloadKind;
  bytes: Uint8Array;
  /** The protocol code the receiver's decode refuses it with; undefined when it decodes. */
  code: string | undefined;
}

/** Valid messages of `union` (types in `types` only, when given), from the seed. */
export function validSamples(union: MessageUnion, seed: number, count: number, types?: readonly string[]): Record<string, unknown>[] {
  const arb = messageOf(union).filter((m) => (types === undefined || types.includes(String(m.type))) && union.byType.get(String(m.type))!.safeParse(m).success);
  return fc.sample(arb, { seed, numRuns: count });
}

function verdict(union: MessageUnion, kind: PayloadKind, bytes: Uint8Array): Payload {
  const r = decode(union, bytes);
  return { kind, bytes, code: r.ok ? undefined : r.error.code };
}

/** `count` payloads for a subject decoding `union`, mutating `samples`. */
export function badPayloads(union: MessageUnion, samples: readonly object[], rng: Rng, count: number): Payload[] {
  const out: Payload[] = [];
  const pick = () => encode(samples[Math.floor(rng() * samples.length)]!);
  for (let i = 0; i < count; i++) {
    switch (i % 4) {
      case 0: {
        const bytes = new Uint8Array(1 + Math.floor(rng() * 300));
        for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rng() * 256);
        out.push(verdict(union, 'random', bytes));
        break;
      }
      case 1: {
        const valid = pick();
        out.push(verdict(union, 'truncated', valid.slice(0, Math.floor(rng() * valid.length))));
        break;
      }
      case 2: {
        const bytes = pick();
        const flips = 1 + Math.floor(rng() * 4);
        for (let f = 0; f < flips; f++) {
          const at = Math.floor(rng() * bytes.length);
          bytes[at] = bytes[at]! ^ (1 << Math.floor(rng() * 8));
        }
        out.push(verdict(union, 'bit-flipped', bytes));
        break;
      }
      default: {
        // Over the limit only every other round: they are 1 MiB each.
        if (i % 8 === 3) {
          const bytes = new Uint8Array(DEFAULT_MAX_MESSAGE_BYTES + 1 + Math.floor(rng() * 1024));
          bytes.set(pick().subarray(0, 64));
          out.push(verdict(union, 'over-sized', bytes));
        } else {
          out.push(verdict(union, 'random', Uint8Array.from([Math.floor(rng() * 256)])));
        }
      }
    }
  }
  return out;
}
