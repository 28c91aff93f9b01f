/**
 * Starting and stopping executor processes. A built-in executor is `node <entry>` (a custom
 * one its own command, through `/bin/sh`) started with
 * execa in its sandbox, detached (its own process group, so terminal signals do not reach
 * it), with its stdout and stderr appended to `<sandbox>/executor.log` through a file
 * descriptor, and a minimal environment. Killing walks /proc for the executor's
 * descendants, so that its task's process group (a group of its own) dies with it.
 */
import { closeSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { execa } from 'execa';
import type { ExecutorExit } from './core.js';
import { ExecutorLaunchError } from './errors.js';

/** What to start. */
export interface LaunchOptions {
  executorId: string;
  /** The executor's JS entry point, run by this Node binary. */
  entry: string;
  /** The run's sandbox: working directory, and home of `executor.log`. */
  sandbox: string;
  /** The executor's whole environment (nothing is inherited). */
  env: Record<string, string>;
  /** What to run instead of `node <entry>` (a custom executor's command). */
  argv?: { file: string; args: string[] };
  /** Files (in the sandbox) for stdout and stderr; default both to `executor.log`. */
  output?: { stdout: string; stderr: string };
}

/** A started executor process. */
export interface LaunchedExecutor {
  pid: number;
  /** Settles once the process has ended (never rejects). */
  exited: Promise<ExecutorExit>;
}

/** Starts an executor process; throws ExecutorLaunchError when it cannot even be spawned. */
export function launchExecutor(options: LaunchOptions): LaunchedExecutor {
  const files = options.output ?? { stdout: 'executor.log', stderr: 'executor.log' };
  const fds: number[] = [];
  try {
    for (const name of new Set([files.stdout, files.stderr])) fds.push(openSync(join(options.sandbox, name), 'a'));
  } catch (cause) {
    for (const fd of fds) closeSync(fd);
    throw new ExecutorLaunchError(options.executorId, `cannot open its output files: ${String(cause)}`, { cause });
  }
  // execa hands a numeric fd straight to child_process.spawn (the child writes the file
  // itself, nothing is piped through Node), but its types name only fds 3-9: hence the cast.
  const outFd = fds[0] as 3;
  const errFd = (fds[1] ?? fds[0]) as 3;
  const argv = options.argv ?? { file: process.execPath, args: [options.entry] };
  try {
    const subprocess = execa(argv.file, argv.args, {
      cwd: options.sandbox,
      env: options.env,
      extendEnv: false,
      detached: true,
      stdin: 'ignore',
      stdout: outFd,
      stderr: errFd,
      buffer: false,
      reject: false,
      cleanup: false,
    });
    const exited = exitOf(subprocess);
    if (subprocess.pid === undefined) {
      throw new ExecutorLaunchError(options.executorId, 'the process did not start');
    }
    return { pid: subprocess.pid, exited };
  } finally {
    for (const fd of fds) closeSync(fd); // the child holds its own copies
  }
}

/** How an executor process ended, from its execa result (it never rejects: `reject: false`). */
function exitOf(subprocess: PromiseLike<{ exitCode?: number | undefined; signal?: string | undefined; shortMessage?: string | undefined }>): Promise<ExecutorExit> {
  return Promise.resolve(subprocess).then(
    (r): ExecutorExit => {
      if (r.exitCode !== undefined) return { exitCode: r.exitCode };
      if (r.signal !== undefined) return { signal: r.signal };
      return { error: r.shortMessage ?? 'the process ended without an exit code or signal' };
    },
    (e: unknown): ExecutorExit => ({ error: e instanceof Error ? e.message : String(e) }),
  );
}

/** What to start as a spare executor. */
export interface SpareOptions {
  spareId: string;
  /** The built-in executors' JS entry point, run by this Node binary with `--spare <id>`. */
  entry: string;
  /** Its working directory until bound (the agent's work dir). */
  cwd: string;
  /** Its environment until bound: what every built-in executor of this agent shares (NATS, cluster, agent). */
  env: Record<string, string>;
  /** The file its stdout and stderr are appended to (a bound spare logs to its sandbox). */
  logFile: string;
}

/** A started spare executor: its stdin is a pipe from this process, written once (the BIND) or closed to let it go. */
export interface LaunchedSpare extends LaunchedExecutor {
  stdin: Writable;
}

/**
 * Starts a spare executor: `node <entry> --spare <id>`, detached like every executor (so
 * that once bound it outlives the agent), stdin a pipe from the agent (it exits when that
 * closes before a BIND: the agent let it go or is gone). Throws ExecutorLaunchError when it
 * cannot be spawned.
 */
export function launchSpare(options: SpareOptions): LaunchedSpare {
  let fd: number;
  try {
    fd = openSync(options.logFile, 'a');
  } catch (cause) {
    throw new ExecutorLaunchError(`spare ${options.spareId}`, `cannot open its output file: ${String(cause)}`, { cause });
  }
  try {
    const subprocess = execa(process.execPath, [options.entry, '--spare', options.spareId], {
      cwd: options.cwd,
      env: options.env,
      extendEnv: false,
      detached: true,
      stdin: 'pipe',
      stdout: fd as 3,
      stderr: fd as 3,
      buffer: false,
      reject: false,
      cleanup: false,
    });
    const exited = exitOf(subprocess);
    if (subprocess.pid === undefined || subprocess.stdin === null) {
      throw new ExecutorLaunchError(`spare ${options.spareId}`, 'the process did not start');
    }
    // A write to a spare that has just died fails with EPIPE: its exit tells the rest.
    subprocess.stdin.on('error', () => undefined);
    return { pid: subprocess.pid, exited, stdin: subprocess.stdin };
  } finally {
    closeSync(fd); // the child holds its own copy
  }
}

/** One line of the process table. */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  pgrp: number;
  /** One-letter state from /proc (R, S, D, Z, ...). */
  state: string;
}

/** Reads /proc/<pid>/stat; undefined when the process is gone (or there is no /proc). */
export function readProcess(pid: number): ProcessInfo | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) S ppid pgrp ..." — comm may hold spaces and parentheses: cut at the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { pid, state: fields[0] ?? '?', ppid: Number(fields[1]), pgrp: Number(fields[2]) };
}

/** Every process /proc shows (empty where there is no /proc). */
export function processTable(): ProcessInfo[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  return names.filter((n) => /^\d+$/.test(n)).flatMap((n) => readProcess(Number(n)) ?? []);
}

/** True while `pid` runs (a zombie, dead but not yet reaped, counts as gone). */
export function isAlive(pid: number): boolean {
  const info = readProcess(pid);
  if (info !== undefined) return info.state !== 'Z' && info.state !== 'X';
  try {
    process.kill(pid, 0);
    return process.platform !== 'linux'; // on Linux, no /proc entry means gone
  } catch {
    return false;
  }
}

/** The pids below `pid` in the process tree. */
export function descendants(pid: number, table: readonly ProcessInfo[] = processTable()): number[] {
  const children = new Map<number, number[]>();
  for (const p of table) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const out: number[] = [];
  const todo = [...(children.get(pid) ?? [])];
  for (let next = todo.pop(); next !== undefined; next = todo.pop()) {
    out.push(next);
    todo.push(...(children.get(next) ?? []));
  }
  return out;
}

/**
 * Sends `signal` to `pid`'s process group, to every descendant's process group (a task
 * runs in a group of its own), and to each of those processes. Never signals this
 * process's own group. Returns the pids it found.
 */
export function killProcessTree(pid: number, signal: NodeJS.Signals = 'SIGKILL'): number[] {
  const table = processTable();
  const pids = [pid, ...descendants(pid, table)];
  const own = readProcess(process.pid)?.pgrp;
  const groups = new Set<number>([pid]);
  for (const p of table) if (pids.includes(p.pid)) groups.add(p.pgrp);
  for (const group of groups) {
    if (group <= 1 || group === own) continue;
    try {
      process.kill(-group, signal);
    } catch {
      // already gone
    }
  }
  for (const p of pids) {
    try {
      process.kill(p, signal);
    } catch {
      // already gone
    }
  }
  return pids;
}
