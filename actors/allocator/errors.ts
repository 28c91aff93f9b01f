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

/** A role name is not `*` nor a valid `/`-separated path. */
export class InvalidRoleError extends AllocatorError {
  override name = 'InvalidRoleError';
  constructor(
    readonly role: string,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`invalid role "${role}": ${problem}`, options);
  }
}

/** A quota is malformed: not on a top-level role, negative, or a guarantee above its limit. */
export class InvalidQuotaError extends AllocatorError {
  override name = 'InvalidQuotaError';
  constructor(
    readonly role: string,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`invalid quota for role "${role}": ${problem}`, options);
  }
}

/** A `min_allocatable_resources` text is malformed (`cpus:0.01|mem:32` expected). */
export class InvalidMinAllocatableError extends AllocatorError {
  override name = 'InvalidMinAllocatableError';
  constructor(
    readonly text: string,
    options?: { cause?: unknown },
  ) {
    super(`invalid min_allocatable_resources "${text}": expected scalar alternatives like cpus:0.01|mem:32`, options);
  }
}

/** An operation needs resources that are not there (not free on the agent, or not held by the framework). */
export class InsufficientResourcesError extends AllocatorError {
  override name = 'InsufficientResourcesError';
  constructor(
    readonly agentId: string,
    readonly needed: string,
    options?: { cause?: unknown },
  ) {
    super(`agent ${agentId} does not have ${needed} for this operation`, options);
  }
}

/** A RESERVE, UNRESERVE, CREATE or DESTROY is not valid as asked (say, unreserving a static reservation). */
export class InvalidOperationError extends AllocatorError {
  override name = 'InvalidOperationError';
  constructor(
    readonly operation: string,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`invalid ${operation}: ${problem}`, options);
  }
}

/** A dynamic reservation would take a role's consumption above its quota limit. */
export class QuotaExceededError extends AllocatorError {
  override name = 'QuotaExceededError';
  constructor(
    readonly role: string,
    readonly resource: string,
    options?: { cause?: unknown },
  ) {
    super(`reserving would take role "${role}" above its quota limit of ${resource}`, options);
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

/** True when `e` says an operation or quota call was invalid (the caller's fault, not retryable). */
export function isInvalidRequest(e: unknown): e is InvalidRoleError | InvalidQuotaError | InvalidOperationError | QuotaExceededError {
  return e instanceof InvalidRoleError || e instanceof InvalidQuotaError || e instanceof InvalidOperationError || e instanceof QuotaExceededError;
}

/** True when `e` says an operation's resources were not there (they may be after a recovery). */
export function isInsufficientResources(e: unknown): e is InsufficientResourcesError {
  return e instanceof InsufficientResourcesError;
}
