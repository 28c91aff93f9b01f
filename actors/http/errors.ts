/**
 * Errors of the HTTP area. Each carries the HTTP status it is answered with and a `code` from
 * the protocol's `RejectionCode`, so that HTTP and NATS clients branch on the same kinds.
 */
import type { RejectionCode } from '../../protocol/replies.js';

/** Base class: an error answered with `status` and body `{type:"REJECTED", code, reason}`. */
export class HttpApiError extends Error {
  /** HTTP status answered. */
  readonly status: number;
  /** Machine-readable kind, as in REJECTED replies. */
  readonly code: RejectionCode;
  constructor(status: number, code: RejectionCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HttpApiError';
    this.status = status;
    this.code = code;
  }
}

/** The body is not JSON, or not a valid call (400). */
export class BadRequestError extends HttpApiError {
  constructor(code: 'MALFORMED' | 'INVALID' | 'UNKNOWN_TYPE', message: string, options?: { cause?: unknown }) {
    super(400, code, message, options);
    this.name = 'BadRequestError';
  }
}

/** The body is larger than the server accepts (413). */
export class PayloadTooLargeError extends HttpApiError {
  constructor(limit: number, options?: { cause?: unknown }) {
    super(413, 'TOO_LARGE', `the request body exceeds ${limit} bytes`, options);
    this.name = 'PayloadTooLargeError';
  }
}

/** The master answered REJECTED UNKNOWN_TYPE to a call the API defines: not implemented yet (501). */
export class NotImplementedError extends HttpApiError {
  constructor(callType: string, options?: { cause?: unknown }) {
    super(501, 'UNKNOWN_TYPE', `this master does not implement ${callType} yet`, options);
    this.name = 'NotImplementedError';
  }
}

/** This master does not lead and knows no leader to redirect to (503). */
export class NoLeaderError extends HttpApiError {
  constructor(options?: { cause?: unknown }) {
    super(503, 'NOT_LEADER', 'no leading master is known yet: retry in a moment', options);
    this.name = 'NoLeaderError';
  }
}

/** The agent holding a sandbox did not answer (502). */
export class AgentUnreachableError extends HttpApiError {
  constructor(agentId: string, options?: { cause?: unknown }) {
    super(502, 'UNKNOWN_AGENT', `agent ${agentId} did not answer: it may be down or unreachable`, options);
    this.name = 'AgentUnreachableError';
  }
}

/** The HTTP status that answers a REJECTED reply with `code`. */
export function statusOfRejection(code: RejectionCode): number {
  switch (code) {
    case 'MALFORMED':
    case 'INVALID':
    case 'UNKNOWN_TYPE':
      return 400;
    case 'TOO_LARGE':
      return 413;
    case 'WRONG_PRINCIPAL':
    case 'WRONG_FRAMEWORK':
      return 403;
    case 'UNKNOWN_AGENT':
    case 'UNKNOWN_TASK':
    case 'UNKNOWN_EXECUTOR':
    case 'NOT_FOUND':
    case 'UNKNOWN_INVERSE_OFFER':
      return 404;
    case 'NOT_SUBSCRIBED':
    case 'STALE_EPOCH':
    case 'AGENT_GONE':
    case 'AGENT_DOWN':
    case 'WRONG_MODE':
      return 409;
    case 'NOT_LEADER':
      return 503;
    case 'INTERNAL':
      return 500;
  }
}

/** True when `e` is an error of the HTTP API. */
export function isHttpApiError(e: unknown): e is HttpApiError {
  return e instanceof HttpApiError;
}
