/**
 * Real processes for tests: started in their own process group, output kept in a log file
 * (printed when a test fails), and always stopped — SIGTERM, then SIGKILL to the group.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, readlinkSync } from 'node:fs';
import { isAlive, otherPids } from '../../bin/chaos/procs.js';

/** `isAlive` and `killProcessesUnder` (SIGKILL everything working under a dir, at most 5 s) are the chaos tool's, shared. */
export { isAlive, killProcessesUnder } from '../../bin/chaos/procs.js';

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

/** Pids of live processes whose working directory is `dir` or below it. */
export function processesUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const pid of otherPids()) {
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      if ((cwd === dir || cwd.startsWith(`${dir}/`)) && isAlive(pid)) pids.push(pid);
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

