/** Errors of the actor runtime: requests that got no answer, answers that said no. */
import type { RejectionCode } from '../../protocol/replies.js';

/** Whether retrying the same request may help. */
export interface Retryable {
  /** True when the same request may succeed later. */
  readonly retryable: boolean;
}

/** Nobody answered within the timeout. */
export class RequestTimeoutError extends Error implements Retryable {
  readonly retryable = true;
  constructor(subject: string, timeoutMs: number, options?: { cause?: unknown }) {
    super(`no answer on ${subject} within ${timeoutMs} ms`, options);
    this.name = 'RequestTimeoutError';
  }
}

/** Nobody listens on the subject (the peer is not running, or not yet subscribed). */
export class NoRespondersError extends Error implements Retryable {
  readonly retryable = true;
  constructor(subject: string, options?: { cause?: unknown }) {
    super(`nobody is listening on ${subject}`, options);
    this.name = 'NoRespondersError';
  }
}

/** The answer could not be decoded as one of the expected replies. */
export class BadReplyError extends Error implements Retryable {
  readonly retryable = false;
  constructor(subject: string, detail: string, options?: { cause?: unknown }) {
    super(`bad reply on ${subject}: ${detail}`, options);
    this.name = 'BadReplyError';
  }
}

/** The peer answered REJECTED. */
export class CallRejectedError extends Error implements Retryable {
  /** The peer's reason code. */
  readonly code: RejectionCode;
  readonly retryable: boolean;
  constructor(code: RejectionCode, reason: string, options?: { cause?: unknown }) {
    super(`${code}: ${reason}`, options);
    this.name = 'CallRejectedError';
    this.code = code;
    this.retryable = code === 'NOT_LEADER' || code === 'INTERNAL';
  }
}

/** The actor was stopped while the operation was under way. */
export class ActorStoppedError extends Error implements Retryable {
  readonly retryable = false;
  constructor(actor: string, options?: { cause?: unknown }) {
    super(`actor ${actor} is stopped`, options);
    this.name = 'ActorStoppedError';
  }
}

/** True when `e` says a retry may help. */
export function isRetryable(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as Partial<Retryable>).retryable === true;
}

/** A JetStream KV bucket could not be opened or used. */
export class KvError extends Error implements Retryable {
  readonly retryable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KvError';
  }
}

/** The updates stream (JetStream) could not be set up, published to or read. */
export class UpdateStreamError extends Error implements Retryable {
  readonly retryable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UpdateStreamError';
  }
}

/** NESOS_JETSTREAM_REPLICAS holds something other than a replica count JetStream takes. */
export class InvalidReplicasError extends Error implements Retryable {
  readonly retryable = false;
  constructor(value: string, options?: { cause?: unknown }) {
    super(`NESOS_JETSTREAM_REPLICAS "${value}" is not a replica count: give 1 (one nats-server), or 3 or 5 (a NATS cluster of at least that many servers)`, options);
    this.name = 'InvalidReplicasError';
  }
}
