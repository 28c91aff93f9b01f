/**
 * When `nesos up` restarts a child that exited (pure; time is passed in), like systemd's
 * `Restart=on-failure` with a start limit: a child that failed (non-zero exit code, or a
 * signal other than SIGTERM, SIGINT, SIGHUP, SIGPIPE) is restarted after a delay that
 * starts at `initialDelayMs` and doubles up to `maxDelayMs`, and starts again from
 * `initialDelayMs` when the child had stayed up `resetAfterMs`; once it was restarted
 * `maxRestarts` times within `windowMs`, it is given up on. A clean exit is left alone.
 */

/** The knobs of the policy. */
export interface RestartPolicyOptions {
  /** Delay before the first restart (and after a child that stayed up `resetAfterMs`), ms. */
  initialDelayMs: number;
  /** The delay doubles at each consecutive failure up to this, ms. */
  maxDelayMs: number;
  /** A child that ran at least this long before exiting is restarted after `initialDelayMs` again, ms. */
  resetAfterMs: number;
  /** At most this many restarts within `windowMs`; the exit after that is given up on. */
  maxRestarts: number;
  /** The sliding window of `maxRestarts`, ms. */
  windowMs: number;
}

/** The defaults of `nesos up`: 100 ms doubling to 10 s, reset after 10 s up, at most 10 restarts in 5 minutes. */
export const DEFAULT_RESTART_POLICY: Readonly<RestartPolicyOptions> = {
  initialDelayMs: 100,
  maxDelayMs: 10_000,
  resetAfterMs: 10_000,
  maxRestarts: 10,
  windowMs: 5 * 60_000,
};

/** How a process ended: its exit code or the signal that killed it (or why it could not start). */
export interface ExitStatus {
  code: number | null;
  signal: string | null;
  /** Set when the process could not be started at all. */
  error?: string;
}

/** What to do about a child that exited. */
export type RestartDecision =
  | { action: 'restart'; delayMs: number; /** 1 for the child's first restart, and so on. */ restart: number }
  | { action: 'give-up'; /** Restarts within the window. */ restarts: number; windowMs: number }
  | { action: 'leave'; reason: string };

/** Signals after which systemd considers a service to have stopped cleanly. */
const CLEAN_SIGNALS = new Set(['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGPIPE']);

/** True when `status` is a clean stop (exit code 0, or SIGTERM/SIGINT/SIGHUP/SIGPIPE). */
export function isCleanExit(status: ExitStatus): boolean {
  if (status.error !== undefined) return false;
  if (status.signal !== null) return CLEAN_SIGNALS.has(status.signal);
  return status.code === 0;
}

/** `exit code 1`, `SIGKILL`, `failed to start: …`. */
export function describeExit(status: ExitStatus): string {
  if (status.error !== undefined) return `failed to start: ${status.error}`;
  return status.signal ?? `exit code ${status.code ?? '?'}`;
}

/** The restart bookkeeping of one child. */
export class RestartPolicy {
  private readonly o: RestartPolicyOptions;
  private startedAt: number | undefined;
  /** The delay of the last restart, 0 before any (or after a reset). */
  private lastDelayMs = 0;
  private restartTimes: number[] = [];
  private total = 0;

  constructor(options: RestartPolicyOptions = DEFAULT_RESTART_POLICY) {
    this.o = options;
  }

  /** The child (re)started at `now`. */
  started(now: number): void {
    this.startedAt = now;
  }

  /** The child exited with `status` at `now`: restart it (after how long), give up, or leave it. */
  exited(status: ExitStatus, now: number): RestartDecision {
    const ranMs = this.startedAt === undefined ? 0 : now - this.startedAt;
    this.startedAt = undefined;
    if (isCleanExit(status)) return { action: 'leave', reason: `it stopped cleanly (${describeExit(status)})` };
    this.restartTimes = this.restartTimes.filter((t) => now - t < this.o.windowMs);
    if (this.restartTimes.length >= this.o.maxRestarts) return { action: 'give-up', restarts: this.restartTimes.length, windowMs: this.o.windowMs };
    if (ranMs >= this.o.resetAfterMs) this.lastDelayMs = 0;
    const delayMs = this.lastDelayMs === 0 ? this.o.initialDelayMs : Math.min(this.lastDelayMs * 2, this.o.maxDelayMs);
    this.lastDelayMs = delayMs;
    this.restartTimes.push(now);
    this.total += 1;
    return { action: 'restart', delayMs, restart: this.total };
  }
}
