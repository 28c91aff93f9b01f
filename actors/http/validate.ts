/**
 * Validating JSON bodies against a message union, as the codec does for msgpack: a missing or
 * unknown `type` and invalid fields each come back as a typed error value, never a throw.
 */
import type { z } from 'zod';
import type { MessageUnion } from '../../protocol/union.js';
import { BadRequestError } from './errors.js';

/** The result of validating a body: the message, or the 400 error to answer. */
export type ValidateResult<T> = { ok: true; value: T } | { ok: false; error: BadRequestError };

/** Validates an already-parsed JSON value as one of `union`'s messages. Never throws. */
export function validateJson<U extends MessageUnion>(union: U, raw: unknown): ValidateResult<z.infer<U['schema']>> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, error: new BadRequestError('MALFORMED', 'the body must be a JSON object such as {"type":"GET_STATE"}') };
  }
  const type = (raw as { type?: unknown }).type;
  const known = [...union.types].join(', ');
  if (typeof type !== 'string') return { ok: false, error: new BadRequestError('UNKNOWN_TYPE', `the body has no string "type" (expected one of ${known})`) };
  const schema = union.byType.get(type);
  if (schema === undefined) {
    return { ok: false, error: new BadRequestError('UNKNOWN_TYPE', `unknown call type "${type.slice(0, 64)}" (expected one of ${known})`) };
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const detail = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(body)'}: ${i.message}`)
      .join('; ');
    return { ok: false, error: new BadRequestError('INVALID', `invalid ${type}: ${detail}`, { cause: parsed.error }) };
  }
  return { ok: true, value: parsed.data as z.infer<U['schema']> };
}
