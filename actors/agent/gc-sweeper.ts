/**
 * Sandbox garbage collection, the work: walks `<workDir>/agents/*\/frameworks/*\/executors/*\/runs/*`,
 * removes the runs `gc.ts` says are due, then the `latest` links left dangling and the
 * executor, framework and agent directories left empty. Runs in the background, never in
 * the agent's mailbox; the caller says which runs are in use (those of executors the agent
 * still holds). A run's age is its directory's mtime, which the agent sets when the
 * executor ends.
 */
import { readdir, readlink, rm, rmdir, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { maxSandboxAgeMs, runsToRemove, type FinishedRun } from './gc.js';
import { LATEST } from './sandbox.js';

/** Options of one sweep. */
export interface SweepOptions {
  workDir: string;
  gcDelayMs: number;
  gcDiskHeadroom: number;
  /** Run directories that must stay (executors still held by the agent). */
  inUse: ReadonlySet<string>;
  now: number;
}

/** What a sweep did. */
export interface SweepResult {
  /** Disk usage of the work dir's file system (0..1). */
  diskUsage: number;
  /** The longest a finished sandbox was allowed to be kept. */
  maxAgeMs: number;
  /** Run directories removed. */
  removed: string[];
}

/** The fraction of the file system holding `dir` that is in use. */
export async function diskUsage(dir: string): Promise<number> {
  const fs = await statfs(dir);
  return fs.blocks === 0 ? 0 : 1 - fs.bavail / fs.blocks;
}

/** Removes the finished sandboxes that are due. Never throws for one bad entry. */
export async function sweepSandboxes(options: SweepOptions): Promise<SweepResult> {
  const usage = await diskUsage(options.workDir);
  const maxAgeMs = maxSandboxAgeMs(options.gcDelayMs, options.gcDiskHeadroom, usage);
  const runs: FinishedRun[] = [];
  const executorDirs: string[] = [];
  for (const agent of await entries(join(options.workDir, 'agents'))) {
    for (const fw of await entries(join(agent, 'frameworks'))) {
      for (const ex of await entries(join(fw, 'executors'))) {
        executorDirs.push(ex);
        for (const run of await entries(join(ex, 'runs'))) {
          if (run.endsWith(`/${LATEST}`)) continue;
          try {
            const st = await stat(run);
            if (st.isDirectory()) runs.push({ path: run, endedAt: st.mtimeMs });
          } catch {
            // gone meanwhile
          }
        }
      }
    }
  }
  const removed: string[] = [];
  for (const path of runsToRemove(runs, options.inUse, options.now, maxAgeMs)) {
    try {
      await rm(path, { recursive: true, force: true });
      removed.push(path);
    } catch {
      // busy or not ours: the next sweep tries again
    }
  }
  if (removed.length > 0) for (const ex of executorDirs) await pruneExecutorDir(ex);
  return { diskUsage: usage, maxAgeMs, removed };
}

async function entries(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).map((name) => join(dir, name));
  } catch {
    return [];
  }
}

/** Drops a dangling `latest` link, then the executor's directory and its parents while empty. */
async function pruneExecutorDir(ex: string): Promise<void> {
  const runs = join(ex, 'runs');
  const link = join(runs, LATEST);
  try {
    const target = await readlink(link);
    try {
      await stat(join(runs, target));
    } catch {
      await rm(link, { force: true });
    }
  } catch {
    // no link
  }
  // runs → executor → executors → framework → frameworks → agent: each removed only if empty
  let dir = runs;
  for (let i = 0; i < 6; i++) {
    try {
      await rmdir(dir);
    } catch {
      return;
    }
    dir = join(dir, '..');
  }
}
