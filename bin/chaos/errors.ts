/** Errors of `nesos chaos`: each says what failed and what to do about it. */
import { UsageError } from '../errors.js';

/** The workload framework could not subscribe within its deadline (or was refused for good). */
export class FrameworkStartError extends Error {
  constructor(attempts: number, options?: { cause?: unknown }) {
    super(`the chaos framework could not subscribe after ${attempts} attempt${attempts === 1 ? '' : 's'}; see its log`, options);
    this.name = 'FrameworkStartError';
  }
}

/** The chaos cluster did not come up (a process failed to start, or agents did not register in time). */
export class ClusterStartError extends Error {
  constructor(what: string, dir: string, options?: { cause?: unknown }) {
    super(`the chaos cluster did not start: ${what}. Logs are in ${dir}/logs (kept: run with --keep to look at them afterwards)`, options);
    this.name = 'ClusterStartError';
  }
}

/** A fault could not be injected for a reason other than "no such process" (e.g. permission denied). */
export class FaultInjectionError extends Error {
  constructor(kind: string, target: string, options?: { cause?: unknown }) {
    super(`cannot inject ${kind} into ${target}: ${options?.cause instanceof Error ? options.cause.message : String(options?.cause)}`, options);
    this.name = 'FaultInjectionError';
  }
}

/** A fault kind asked for with `--faults` cannot be applied (to an attached cluster, or without `--nats-cluster`); a usage error (exit 2). */
export class FaultNotApplicableError extends UsageError {
  /** The kind refused. */
  readonly kind: string;
  constructor(kind: string, reason: string, fix: string, options?: { cause?: unknown }) {
    super(`--faults ${kind} cannot be applied: ${reason}. ${fix}`, options);
    this.name = 'FaultNotApplicableError';
    this.kind = kind;
  }
}
