/**
 * Errors of the scheduler SDK. Each says whether a retry can help (`retryable`), so callers
 * branch on the class or on `retryable`, never on the text; the text tells a person what to do.
 * Calls that the master refuses throw the runtime's `CallRejectedError` (re-exported by
 * `index.ts`), whose `retryable` is true only for NOT_LEADER and INTERNAL.
 */
import type { RejectionCode } from '../../protocol/replies.js';
import type { Retryable } from '../runtime/errors.js';

/** Base class of the SDK's own errors. */
export class SchedulerError extends Error implements Retryable {
  override name = 'SchedulerError';
  /** True when the same operation may succeed later. */
  readonly retryable: boolean;
  constructor(message: string, retryable: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.retryable = retryable;
  }
}

/** The options given to `Scheduler.connect` are invalid; fix them (not retryable). */
export class InvalidOptionsError extends SchedulerError {
  override name = 'InvalidOptionsError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(`invalid scheduler options: ${message}`, false, options);
  }
}

/** The NATS server could not be reached at start-up (retryable: it may be starting). */
export class NatsUnreachableError extends SchedulerError {
  override name = 'NatsUnreachableError';
  constructor(
    readonly servers: string,
    options?: { cause?: unknown },
  ) {
    const detail = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(`cannot reach NATS at ${servers}${detail} (is nats-server running, e.g. through \`nesos up\`?)`, true, options);
  }
}

/** No master answered SUBSCRIBE: none is running on the cluster, or none is reachable (retryable). */
export class NoMasterError extends SchedulerError {
  override name = 'NoMasterError';
  constructor(
    readonly cluster: string,
    readonly servers: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      `no master answered on cluster "${cluster}" at ${servers}: ${detail}; ` +
        'is a master running for this cluster (e.g. `nesos up`), with the same cluster name?',
      true,
      options,
    );
  }
}

/** The master took SUBSCRIBE but no SUBSCRIBED event arrived in time (retryable). */
export class SubscribeTimeoutError extends SchedulerError {
  override name = 'SubscribeTimeoutError';
  constructor(
    readonly cluster: string,
    readonly servers: string,
    timeoutMs: number,
    options?: { cause?: unknown },
  ) {
    super(
      `no master answered on cluster "${cluster}" at ${servers}: SUBSCRIBE was taken but no SUBSCRIBED ` +
        `event arrived within ${timeoutMs} ms (a master failover may be under way)`,
      true,
      options,
    );
  }
}

/** The master refused SUBSCRIBE; `code` says why, `retryable` whether trying again can help. */
export class SubscribeRejectedError extends SchedulerError {
  override name = 'SubscribeRejectedError';
  constructor(
    readonly code: RejectionCode,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`the master refused SUBSCRIBE (${code}): ${reason}`, code === 'NOT_LEADER' || code === 'INTERNAL', options);
  }
}

/** The scheduler was closed, or the master ended the framework; make a new one (not retryable). */
export class SchedulerClosedError extends SchedulerError {
  override name = 'SchedulerClosedError';
  constructor(why: string, options?: { cause?: unknown }) {
    super(`the scheduler is closed: ${why}`, false, options);
  }
}

/** A task description is invalid (bad id, resources or command); fix it (not retryable). */
export class InvalidTaskError extends SchedulerError {
  override name = 'InvalidTaskError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, false, options);
  }
}

/** The tasks need more than the offer holds; use a larger offer or smaller tasks (not retryable). */
export class TasksDoNotFitError extends SchedulerError {
  override name = 'TasksDoNotFitError';
  constructor(
    readonly offerId: string,
    readonly needed: string,
    readonly offered: string,
  ) {
    super(`tasks need ${needed} but offer ${offerId} holds ${offered}`, false);
  }
}

/** No offer that fits arrived in time; the cluster may be full or have no agent (retryable). */
export class NoFittingOfferError extends SchedulerError {
  override name = 'NoFittingOfferError';
  constructor(
    readonly needs: string,
    timeoutMs: number,
  ) {
    super(`no offer holding ${needs} arrived within ${timeoutMs} ms (are agents registered, with enough free resources?)`, true);
  }
}

/** True when `e` is one of the SDK's own errors. */
export function isSchedulerError(e: unknown): e is SchedulerError {
  return e instanceof SchedulerError;
}

/** True when `e` says that no master is running or answering. */
export function isNoMaster(e: unknown): e is NoMasterError | SubscribeTimeoutError {
  return e instanceof NoMasterError || e instanceof SubscribeTimeoutError;
}
