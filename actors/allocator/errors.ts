// Errors raised by the allocator core and its sorters. Callers branch on the class (or the
// predicates below), never on message text. The actor shell logs them and carries on.

/** Base class of every allocator error. */
export class AllocatorError extends Error {
  override name = 'AllocatorError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** An operation named an agent the allocator does not know (never added, or removed). */
export class UnknownAgentError extends AllocatorError {
  override name = 'UnknownAgentError';
  constructor(
    readonly agentId: string,
    options?: { cause?: unknown },
  ) {
    super(`unknown agent ${agentId}`, options);
  }
}

/** An operation named a framework the allocator does not know (never added, or removed). */
export class UnknownFrameworkError extends AllocatorError {
  override name = 'UnknownFrameworkError';
  constructor(
    readonly frameworkId: string,
    options?: { cause?: unknown },
  ) {
    super(`unknown framework ${frameworkId}`, options);
  }
}

/** A sorter was asked about a client it does not hold. */
export class UnknownClientError extends AllocatorError {
  override name = 'UnknownClientError';
  constructor(
    readonly client: string,
    options?: { cause?: unknown },
  ) {
    super(`unknown sorter client ${client}`, options);
  }
}

/** What kind of id a `DuplicateIdError` is about. */
export type IdKind = 'agent' | 'framework' | 'client';

/** An agent, framework or sorter client was added twice. */
export class DuplicateIdError extends AllocatorError {
  override name = 'DuplicateIdError';
  constructor(
    readonly kind: IdKind,
    readonly id: string,
    options?: { cause?: unknown },
  ) {
    super(`${kind} ${id} already exists`, options);
  }
}

/** A weight was not a finite number greater than zero. */
export class InvalidWeightError extends AllocatorError {
  override name = 'InvalidWeightError';
  constructor(
    readonly weight: number,
    options?: { cause?: unknown },
  ) {
    super(`weight must be a finite number > 0, got ${weight}`, options);
  }
}

/** True when `e` is any allocator error. */
export function isAllocatorError(e: unknown): e is AllocatorError {
  return e instanceof AllocatorError;
}

/** True when `e` names an unknown agent. */
export function isUnknownAgent(e: unknown): e is UnknownAgentError {
  return e instanceof UnknownAgentError;
}

/** True when `e` names an unknown framework. */
export function isUnknownFramework(e: unknown): e is UnknownFrameworkError {
  return e instanceof UnknownFrameworkError;
}
