/**
 * Pausing processes the run does not own, and making sure they are resumed: every pid
 * paused (SIGSTOP) is remembered here and told to a guardian process
 * (resume-guard-main.ts) before the signal is sent; `resume` and `resumeAll` send SIGCONT.
 * `resumeAll` runs at the end of the run, on Ctrl-C and on errors (the run's `finally`),
 * and on this process's `exit` event; the guardian resumes whatever is left when this
 * process dies without doing so (SIGKILL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../paths.js';

/** The compiled guardian. */
export const GUARD_SCRIPT = join(PACKAGE_ROOT, 'dist', 'bin', 'chaos', 'resume-guard-main.js');

/** Paused pids, and who resumes them. */
export class ResumeGuard {
  private readonly paused = new Set<number>();
  private guardian: ChildProcess | undefined;
  private readonly onExit = (): void => {
    this.resumeAll();
  };

  /** Starts the guardian (when built) and the `exit` hook. */
  start(): void {
    process.on('exit', this.onExit);
    if (!existsSync(GUARD_SCRIPT)) return;
    const child = spawn(process.execPath, [GUARD_SCRIPT], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    child.stdin?.on('error', () => undefined); // the guardian died: resuming here still works
    child.on('error', () => undefined);
    child.unref();
    this.guardian = child;
  }

  /** True while `pid` is paused by this run. */
  isPaused(pid: number): boolean {
    return this.paused.has(pid);
  }

  /** The pids paused now. */
  pausedPids(): number[] {
    return [...this.paused];
  }

  /** Pauses `pid` (SIGSTOP); throws what `process.kill` throws (ESRCH, EPERM), having remembered nothing. */
  pause(pid: number): void {
    this.paused.add(pid);
    this.tell(`+${pid}`);
    try {
      process.kill(pid, 'SIGSTOP');
    } catch (e) {
      this.paused.delete(pid);
      this.tell(`-${pid}`);
      throw e;
    }
  }

  /** Resumes `pid` (SIGCONT); false when it was gone. */
  resume(pid: number): boolean {
    let sent = true;
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      sent = false;
    }
    this.paused.delete(pid);
    this.tell(`-${pid}`);
    return sent;
  }

  /** Resumes every paused pid; returns them. */
  resumeAll(): number[] {
    const pids = [...this.paused];
    for (const pid of pids) this.resume(pid);
    return pids;
  }

  /** Resumes everything, then lets the guardian go (it exits when its stdin closes). */
  close(): void {
    this.resumeAll();
    process.off('exit', this.onExit);
    this.guardian?.stdin?.end();
    this.guardian = undefined;
  }

  private tell(line: string): void {
    const stdin = this.guardian?.stdin;
    if (stdin !== undefined && stdin !== null && stdin.writable) stdin.write(line + '\n');
  }
}
