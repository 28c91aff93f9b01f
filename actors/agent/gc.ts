/**
 * Sandbox garbage collection, the policy (pure), as Mesos's: the sandbox of a run whose
 * executor has ended is removed `gcDelay` after that end, sooner as the disk fills. At
 * disk usage `u` (0..1) the longest a finished sandbox is kept is
 *
 *     gcDelay × max(0, 1 − gcDiskHeadroom − u)
 *
 * so with the defaults (one week, headroom 0.1) a disk 50 % full keeps sandboxes 2.8 days,
 * and one 90 % full or more removes every finished sandbox at the next look.
 */

/** Mesos's default `--gc_delay`: one week. */
export const DEFAULT_GC_DELAY_MS = 7 * 24 * 3600 * 1000;

/** Mesos's default `--gc_disk_headroom`. */
export const DEFAULT_GC_DISK_HEADROOM = 0.1;

/** Mesos's default `--disk_watch_interval`: one minute. */
export const DEFAULT_DISK_WATCH_INTERVAL_MS = 60_000;

/** The longest a finished sandbox is kept at disk usage `usage` (0..1). */
export function maxSandboxAgeMs(gcDelayMs: number, headroom: number, usage: number): number {
  return gcDelayMs * Math.max(0, 1 - headroom - usage);
}

/** A finished run's sandbox, and when its executor ended (the directory's mtime). */
export interface FinishedRun {
  path: string;
  endedAt: number;
}

/** The runs to remove now: not in use, and ended longer ago than the age allowed. */
export function runsToRemove(runs: readonly FinishedRun[], inUse: ReadonlySet<string>, now: number, maxAgeMs: number): string[] {
  return runs.filter((r) => !inUse.has(r.path) && now - r.endedAt >= maxAgeMs).map((r) => r.path);
}
