/**
 * Real processes for tests: started in their own process group, output kept in a log file
 * (printed when a test fails), and always stopped — SIGTERM, then SIGKILL to the group.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

/** A process a test started. */
export interface TestProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  logFile: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** True once the process has exited. */
  readonly hasExited: boolean;
  /** The process's output so far. */
  output(): string;
}

/** Starts a process whose stdout and stderr go to `logFile`. */
export function startProcess(name: string, command: string, args: string[], logFile: string, env: NodeJS.ProcessEnv = {}): TestProcess {
  const fd = openSync(logFile, 'a');
  const child = spawn(command, args, { detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, ...env } });
  closeSync(fd);
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
    child.once('error', () => {
      done = true;
      resolve({ code: null, signal: null });
    });
  });
  if (child.pid === undefined) throw new Error(`could not start ${name}: ${command}`);
  return {
    name,
    child,
    pid: child.pid,
    logFile,
    exited,
    get hasExited() {
      return done;
    },
    output: () => {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    },
  };
}

/** Sends `signal` to the process's whole group; ignores a group that is gone. */
export function signalGroup(p: TestProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-p.pid, signal);
  } catch {
    // already gone
  }
}

/** Stops a process: SIGTERM to its group, SIGKILL after `graceMs`; resolves once it exited. */
export async function stopProcess(p: TestProcess, graceMs = 3000): Promise<void> {
  if (!p.hasExited) {
    signalGroup(p, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(p, 'SIGKILL'), graceMs);
    await p.exited;
    clearTimeout(timer);
  }
  signalGroup(p, 'SIGKILL');
}

/** True when `pid` is running (not gone, not a zombie). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
