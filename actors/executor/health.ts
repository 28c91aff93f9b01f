/**
 * A task's health checker, as Mesos's: pure state over the clock and the checks' results.
 * The executor core asks `due(now)` on each tick and starts a check when it answers a
 * sequence number; the shell runs the check and feeds `result(seq, ok, now)` back.
 *
 * - The first check is due `delay` after the task started; each next one `interval` after
 *   the previous result (a check never overlaps the previous one).
 * - A failure while the checker is still initializing (no success yet) and within the
 *   grace period of the start is ignored.
 * - Otherwise failures count; `consecutiveFailures` in a row ask for the task to be killed.
 * - Health is reported when it changes (the first result included): `report` is the new
 *   value. (Mesos reports every failure; a framework sees the same transitions.)
 */
import type { HealthCheck } from '../../protocol/schema.js';

/** A health check's timing in milliseconds, with Mesos's defaults filled in. */
export interface HealthTiming {
  delayMs: number;
  intervalMs: number;
  timeoutMs: number;
  gracePeriodMs: number;
  consecutiveFailures: number;
}

/** The timing of `check` (its fields are defaulted by the schema). */
export function healthTiming(check: HealthCheck): HealthTiming {
  return {
    delayMs: Math.round(check.delaySeconds * 1000),
    intervalMs: Math.round(check.intervalSeconds * 1000),
    timeoutMs: Math.round(check.timeoutSeconds * 1000),
    gracePeriodMs: Math.round(check.gracePeriodSeconds * 1000),
    consecutiveFailures: check.consecutiveFailures,
  };
}

/** What a result changes: the health to report (when it changed), and whether to kill the task. */
export interface HealthOutcome {
  report: boolean | undefined;
  kill: boolean;
  /** Failures in a row so far. */
  consecutiveFailures: number;
}

/** One task's health checker. */
export class HealthChecker {
  /** The timing in force. */
  readonly timing: HealthTiming;
  private readonly startedAt: number;
  private nextAt: number;
  private seq = 0;
  private inFlight: number | undefined;
  private failures = 0;
  private initializing = true;
  private healthy: boolean | undefined;
  private stopped = false;

  constructor(timing: HealthTiming, startedAt: number) {
    this.timing = timing;
    this.startedAt = startedAt;
    this.nextAt = startedAt + timing.delayMs;
  }

  /** The last health reported; undefined before the first result. */
  get lastHealthy(): boolean | undefined {
    return this.healthy;
  }

  /** When a check is due and none runs: its sequence number (the check counts as started). */
  due(now: number): number | undefined {
    if (this.stopped || this.inFlight !== undefined || now < this.nextAt) return undefined;
    this.inFlight = ++this.seq;
    return this.inFlight;
  }

  /** The result of check `seq`; undefined for a stale or unknown check. */
  result(seq: number, ok: boolean, now: number): HealthOutcome | undefined {
    if (this.stopped || seq !== this.inFlight) return undefined;
    this.inFlight = undefined;
    this.nextAt = now + this.timing.intervalMs;
    if (ok) {
      this.initializing = false;
      this.failures = 0;
      return { report: this.change(true), kill: false, consecutiveFailures: 0 };
    }
    if (this.initializing && this.timing.gracePeriodMs > 0 && now - this.startedAt <= this.timing.gracePeriodMs) {
      return { report: undefined, kill: false, consecutiveFailures: 0 };
    }
    this.failures += 1;
    return { report: this.change(false), kill: this.failures >= this.timing.consecutiveFailures, consecutiveFailures: this.failures };
  }

  /** No more checks (the task is being killed or has ended). */
  stop(): void {
    this.stopped = true;
    this.inFlight = undefined;
  }

  private change(healthy: boolean): boolean | undefined {
    if (this.healthy === healthy) return undefined;
    this.healthy = healthy;
    return healthy;
  }
}
