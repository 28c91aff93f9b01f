/**
 * A small process supervisor for `nesos up`: starts children in their own process groups
 * with their output in log files, notices when one exits, and stops them all in order
 * (SIGTERM, then SIGKILL after a grace period) so nothing is left behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';

/**
 * util-linux's setpriv, when present: children are started through
 * `setpriv --pdeathsig SIGKILL`, so the kernel kills them if this process dies without
 * stopping them (SIGKILL of `nesos up` leaves nothing behind, nats-server included).
 */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

/** One supervised child. */
export interface Child {
  name: string;
  process: ChildProcess;
  logFile: string;
  /** Resolves with the exit code (or signal) once the child has exited. */
  exited: Promise<string>;
}

/** Starts and stops children. */
export class Supervisor {
  private readonly children: Child[] = [];
  private stopping = false;
  private readonly onUnexpectedExit: (child: Child, how: string) => void;

  constructor(onUnexpectedExit: (child: Child, how: string) => void) {
    this.onUnexpectedExit = onUnexpectedExit;
  }

  /** Starts `command args` with its stdout and stderr appended to `logFile`. */
  start(name: string, command: string, args: string[], logFile: string, env: NodeJS.ProcessEnv = {}): Child {
    const fd = openSync(logFile, 'a');
    const [file, argv] = SETPRIV === undefined ? [command, args] : [SETPRIV, ['--pdeathsig', 'SIGKILL', '--', command, ...args]];
    const proc = spawn(file, argv, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, ...env, NESOS_EXIT_WITH_PARENT: '1' },
    });
    closeSync(fd);
    const exited = new Promise<string>((resolve) => {
      proc.once('exit', (code, signal) => resolve(signal ?? `exit code ${code ?? '?'}`));
      proc.once('error', (err) => resolve(`failed to start: ${err.message}`));
    });
    const child: Child = { name, process: proc, logFile, exited };
    void exited.then((how) => {
      if (!this.stopping) this.onUnexpectedExit(child, how);
    });
    this.children.push(child);
    return child;
  }

  /** The children started so far. */
  list(): readonly Child[] {
    return this.children;
  }

  /** Stops every child, last started first; SIGKILL to the group after `graceMs`. */
  async stopAll(graceMs = 5000): Promise<void> {
    this.stopping = true;
    for (const child of [...this.children].reverse()) await stopChild(child, graceMs);
  }
}

/** Stops one child: SIGTERM to its process group, SIGKILL after `graceMs`. */
export async function stopChild(child: Child, graceMs: number): Promise<void> {
  const pid = child.process.pid;
  if (pid === undefined || child.process.exitCode !== null || child.process.signalCode !== null) return;
  signalGroup(pid, 'SIGTERM');
  const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(timer);
  signalGroup(pid, 'SIGKILL'); // anything the child left in its group
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is already gone
  }
}
