/**
 * A small process supervisor for `nesos up`: starts children in their own process groups
 * with their output in log files, restarts one that failed with the same command after the
 * delay its `RestartPolicy` says (when given a policy: `nesos up` does, other users restart
 * on their own), and stops them all in order
 * (SIGTERM, then SIGKILL after a grace period) so nothing is left behind. Once `stopAll`
 * began, nothing is restarted: pending restarts are cancelled and exits are only reported.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { describeExit, RestartPolicy, type ExitStatus, type RestartDecision, type RestartPolicyOptions } from './restart-policy.js';

/**
 * util-linux's setpriv, when present: children are started through
 * `setpriv --pdeathsig SIGKILL`, so the kernel kills them if this process dies without
 * stopping them (SIGKILL of `nesos up` leaves nothing behind, nats-server included).
 */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

/** The variable every child gets: `on-failure` when the supervisor restarts it, `no` when not (`nesos chaos --attach` reads it). */
export const RESTART_ENV = 'NESOS_RESTART';

/** One supervised child: its command, and its current process (a new one after each restart). */
export interface Child {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  env: NodeJS.ProcessEnv;
  /** The current (or last) process. */
  process: ChildProcess;
  /** Resolves with how the current process ended, once it has. */
  exited: Promise<ExitStatus>;
  /** How many times it was restarted. */
  restarts: number;
  /** `running`, `waiting` (to be restarted), `down` (given up on, or left after a clean exit, or stopped). */
  state: 'running' | 'waiting' | 'down';
}

/** Called when a child exited while the supervisor was not stopping: how, and what happens next (absent when restarts are off). `child.process` is still the process that exited. */
export type ExitListener = (child: Child, how: string, decision: RestartDecision | undefined) => void;

/** How the supervisor restarts. */
export interface SupervisorOptions {
  /** The restart policy of every child; false (the default): never restart. */
  restart?: RestartPolicyOptions | false;
  /** Called when a child was started again (its new process is `child.process`). */
  onRestart?: (child: Child) => void;
  /** The clock the policy sees (default Date.now). */
  now?: () => number;
}

/** Starts, restarts and stops children. */
export class Supervisor {
  private readonly children: Child[] = [];
  private readonly policies = new Map<Child, RestartPolicy>();
  private readonly timers = new Map<Child, NodeJS.Timeout>();
  private stopping = false;
  private readonly now: () => number;

  constructor(
    private readonly onExit: ExitListener,
    private readonly options: SupervisorOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Starts `command args` with its stdout and stderr appended to `logFile`. */
  start(name: string, command: string, args: string[], logFile: string, env: NodeJS.ProcessEnv = {}): Child {
    const child = { name, command, args, logFile, env, restarts: 0 } as Child;
    this.children.push(child);
    if (this.options.restart !== undefined && this.options.restart !== false) this.policies.set(child, new RestartPolicy(this.options.restart));
    this.spawn(child);
    return child;
  }

  /** The children started so far. */
  list(): readonly Child[] {
    return this.children;
  }

  /** Stops every child, last started first; SIGKILL to the group after `graceMs`. No restart happens once this is called. */
  async stopAll(graceMs = 5000): Promise<void> {
    this.stopping = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const child of [...this.children].reverse()) {
      await stopChild(child, graceMs);
      child.state = 'down';
    }
  }

  private spawn(child: Child): void {
    const fd = openSync(child.logFile, 'a');
    const [file, argv] = SETPRIV === undefined ? [child.command, child.args] : [SETPRIV, ['--pdeathsig', 'SIGKILL', '--', child.command, ...child.args]];
    const proc = spawn(file, argv, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, ...child.env, NESOS_EXIT_WITH_PARENT: '1', [RESTART_ENV]: this.policies.has(child) ? 'on-failure' : 'no' },
    });
    closeSync(fd);
    const exited = new Promise<ExitStatus>((resolve) => {
      proc.once('exit', (code, signal) => resolve({ code, signal }));
      proc.once('error', (err) => resolve({ code: null, signal: null, error: err.message }));
    });
    child.process = proc;
    child.exited = exited;
    child.state = 'running';
    this.policies.get(child)?.started(this.now());
    void exited.then((status) => this.exitedNow(child, proc, status));
  }

  private exitedNow(child: Child, proc: ChildProcess, status: ExitStatus): void {
    if (this.stopping || child.process !== proc) return;
    const decision = this.policies.get(child)?.exited(status, this.now());
    child.state = decision?.action === 'restart' ? 'waiting' : 'down';
    this.onExit(child, describeExit(status), decision);
    if (decision?.action !== 'restart') return;
    this.timers.set(
      child,
      setTimeout(() => {
        this.timers.delete(child);
        if (this.stopping) return;
        child.restarts = decision.restart;
        this.spawn(child);
        this.options.onRestart?.(child);
      }, decision.delayMs),
    );
  }
}

/** Stops one child's current process: SIGTERM to its process group, SIGKILL after `graceMs`. */
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
