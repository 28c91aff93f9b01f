/**
 * Errors of the protocol area: decoding and validating messages, building subjects,
 * task-state transitions. Callers branch on the class (or its `code`), never on text.
 */

/** Machine-readable kinds of protocol errors; carried in REJECTED replies as `code`. */
export const ProtocolErrorCode = {
  MALFORMED: 'MALFORMED',
  TOO_LARGE: 'TOO_LARGE',
  UNKNOWN_TYPE: 'UNKNOWN_TYPE',
  INVALID: 'INVALID',
} as const;
/** One of the protocol error codes. */
export type ProtocolErrorCode = (typeof ProtocolErrorCode)[keyof typeof ProtocolErrorCode];

/** Base class of every error a peer's bytes can cause at decode. */
export class ProtocolError extends Error {
  /** The machine-readable kind of this error. */
  readonly code: ProtocolErrorCode;
  constructor(code: ProtocolErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProtocolError';
    this.code = code;
  }
}

/** The bytes are not msgpack, or not a msgpack map. */
export class MalformedMessageError extends ProtocolError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ProtocolErrorCode.MALFORMED, message, options);
    this.name = 'MalformedMessageError';
  }
}

/** The payload is larger than the decoder accepts. */
export class MessageTooLargeError extends ProtocolError {
  /** Size of the rejected payload in bytes. */
  readonly size: number;
  /** The limit it exceeded, in bytes. */
  readonly limit: number;
  constructor(size: number, limit: number) {
    super(ProtocolErrorCode.TOO_LARGE, `message of ${size} bytes exceeds the limit of ${limit} bytes`);
    this.name = 'MessageTooLargeError';
    this.size = size;
    this.limit = limit;
  }
}

/** The message's `type` is missing or not one this subject accepts. */
export class UnknownMessageTypeError extends ProtocolError {
  /** The type found (undefined when absent or not a string). */
  readonly messageType: string | undefined;
  constructor(messageType: string | undefined, expected: readonly string[]) {
    super(
      ProtocolErrorCode.UNKNOWN_TYPE,
      messageType === undefined
        ? `message has no string "type" field (expected one of ${expected.join(', ')})`
        : `unknown message type "${messageType}" (expected one of ${expected.join(', ')})`,
    );
    this.name = 'UnknownMessageTypeError';
    this.messageType = messageType;
  }
}

/** The message has a known type but missing or ill-typed fields. */
export class InvalidMessageError extends ProtocolError {
  /** The message's type. */
  readonly messageType: string;
  constructor(messageType: string, detail: string, options?: { cause?: unknown }) {
    super(ProtocolErrorCode.INVALID, `invalid ${messageType}: ${detail}`, options);
    this.name = 'InvalidMessageError';
    this.messageType = messageType;
  }
}

/** A subject token is empty or contains a character NATS treats specially. */
export class SubjectTokenError extends Error {
  constructor(token: string, role: string) {
    super(`invalid ${role} "${token}" in a subject: use letters, digits, '-', '_' or '~' (1-128 characters)`);
    this.name = 'SubjectTokenError';
  }
}

/** A task-state transition that the lifecycle forbids. */
export class IllegalTransitionError extends Error {
  /** State the task was in. */
  readonly from: string;
  /** State that was asked for. */
  readonly to: string;
  constructor(from: string, to: string) {
    super(`illegal task state transition ${from} → ${to}`);
    this.name = 'IllegalTransitionError';
    this.from = from;
    this.to = to;
  }
}

/** True when `e` is a protocol (decode) error. */
export function isProtocolError(e: unknown): e is ProtocolError {
  return e instanceof ProtocolError;
}
