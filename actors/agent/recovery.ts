/**
 * Recovery after the agent restarts with the same work dir: which checkpointed executors
 * are still running (same pid and start time: a pid reused by another process does not
 * count), what becomes of each under `--recover`, and watching the processes the agent
 * did not start itself (it cannot wait for them: they are not its children).
 *
 * - `reconnect` (default, as Mesos): running executors are taken back; they subscribe
 *   again and their tasks keep running. Executors that died meanwhile are reported: their
 *   tasks that had not ended become TASK_FAILED (REASON_EXECUTOR_TERMINATED).
 * - `cleanup`: running executors are killed with their tasks and reported the same way.
 *   (Mesos's agent exits after such a cleanup; this one goes on with an empty slate.)
 */
import { readFileSync, readdirSync } from 'node:fs';
import type { AgentCheckpointFile } from './checkpoint.js';
import { isSameProcessRunning } from './isolation/proc.js';

/** What `--recover` accepts. */
export type RecoverMode = 'reconnect' | 'cleanup';

/** Every value of `--recover`. */
export const RECOVER_MODES: readonly RecoverMode[] = ['reconnect', 'cleanup'];

/** What becomes of one checkpointed executor. */
export interface ExecutorFate {
  executorId: string;
  /** reattach: running, taken back; kill: running, killed (cleanup); gone: died meanwhile; ended: had exited before. */
  fate: 'reattach' | 'kill' | 'gone' | 'ended';
  pid: number | undefined;
  startTime: number | undefined;
  sandbox: string | undefined;
}

/** Decides the fate of each checkpointed executor (`running` says whether a process still runs). */
export function planRecovery(file: AgentCheckpointFile, mode: RecoverMode, running: (pid: number, startTime: number | undefined) => boolean): ExecutorFate[] {
  return file.core.executors.map((e) => {
    const p = file.processes[e.executorId];
    const base = { executorId: e.executorId, pid: p?.pid, startTime: p?.startTime, sandbox: p?.sandbox };
    if (e.exited) return { ...base, fate: 'ended' };
    if (p === undefined || !running(p.pid, p.startTime)) return { ...base, fate: 'gone' };
    return { ...base, fate: mode === 'reconnect' ? 'reattach' : 'kill' };
  });
}

/** Resolves once process `pid` (started at `startTime`) is no longer running; polls every `intervalMs`. */
export function whenGone(pid: number, startTime: number | undefined, intervalMs = 200): Promise<void> {
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (isSameProcessRunning(pid, startTime)) return;
      clearInterval(timer);
      resolve();
    }, intervalMs);
    timer.unref();
  });
}

/**
 * SIGKILLs the process groups of tasks left behind by an executor that died (their
 * environment names its sandbox in NESOS_SANDBOX: a group task's is below it). With
 * cgroups the container's cleanup catches them too; with posix this is the only way.
 */
export function killOrphans(sandbox: string, procRoot = '/proc'): number[] {
  if (sandbox === '') return [];
  const killed: number[] = [];
  let names: string[];
  try {
    names = readdirSync(procRoot);
  } catch {
    return [];
  }
  const wanted = `NESOS_SANDBOX=${sandbox}`;
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    let environ: string;
    try {
      environ = readFileSync(`${procRoot}/${pid}/environ`, 'latin1');
    } catch {
      continue;
    }
    if (!environ.split('\0').some((v) => v === wanted || v.startsWith(`${wanted}/`))) continue;
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // not a group leader, or gone
      }
    }
    killed.push(pid);
  }
  return killed;
}
