/**
 * The one codec: msgpack (msgpackr, plain maps, no records) with validation at decode.
 *
 * `decode` never throws for anything a peer can send: malformed bytes, a payload over the
 * limit, a missing or unknown `type`, and missing or ill-typed fields each come back as a
 * typed `ProtocolError` in the result.
 */
import { Packr } from 'msgpackr';
import type { z } from 'zod';
import {
  InvalidMessageError,
  MalformedMessageError,
  MessageTooLargeError,
  UnknownMessageTypeError,
  type ProtocolError,
} from './errors.js';
import type { MessageUnion } from './union.js';

/** Largest payload the codec decodes by default (1 MiB); nats.conf allows more so these reach us. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false });

/** The result of decoding: the message, or the reason it was refused. */
export type DecodeResult<T> = { ok: true; value: T } | { ok: false; error: ProtocolError };

/** Encodes a message as msgpack. */
export function encode(message: object): Uint8Array {
  return packr.pack(message);
}

/** Options of `decode`. */
export interface DecodeOptions {
  /** Largest payload accepted, in bytes (default 1 MiB). */
  maxBytes?: number;
}

/** Decodes and validates `bytes` as one of `union`'s messages. Never throws. */
export function decode<U extends MessageUnion>(
  union: U,
  bytes: Uint8Array,
  options: DecodeOptions = {},
): DecodeResult<z.infer<U['schema']>> {
  const limit = options.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (bytes.byteLength > limit) return { ok: false, error: new MessageTooLargeError(bytes.byteLength, limit) };
  if (bytes.byteLength === 0) return { ok: false, error: new MalformedMessageError('empty message') };

  let raw: unknown;
  try {
    raw = packr.unpack(bytes);
  } catch (cause) {
    return { ok: false, error: new MalformedMessageError('bytes are not valid msgpack', { cause }) };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || raw instanceof Uint8Array) {
    return { ok: false, error: new MalformedMessageError('message is not a msgpack map') };
  }

  const type = (raw as { type?: unknown }).type;
  const known = [...union.types];
  if (typeof type !== 'string') return { ok: false, error: new UnknownMessageTypeError(undefined, known) };
  const schema = union.byType.get(type);
  if (schema === undefined) return { ok: false, error: new UnknownMessageTypeError(type.slice(0, 64), known) };

  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const detail = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(message)'}: ${i.message}`)
      .join('; ');
    return { ok: false, error: new InvalidMessageError(type, detail, { cause: parsed.error }) };
  }
  return { ok: true, value: parsed.data as z.infer<U['schema']> };
}
