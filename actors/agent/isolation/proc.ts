/**
 * Sampling /proc for the posix isolator and for recovery: one line of /proc/<pid>/stat
 * per process, with what the isolator needs (parent, group, state, cpu times, resident
 * memory, start time). A zombie (state Z) is dead: init reaps orphans late on these hosts.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second of /proc's cpu times (USER_HZ; 100 on Linux). */
export const CLOCK_TICKS = 100;

/** Bytes per page of /proc's rss (4 KiB on x86-64 and on most arm64 kernels). */
export const PAGE_BYTES = 4096;

/** One process, from /proc/<pid>/stat. */
export interface ProcStat {
  pid: number;
  ppid: number;
  pgrp: number;
  /** One letter: R, S, D, Z, T… */
  state: string;
  /** CPU ticks in user mode, own. */
  utime: number;
  /** CPU ticks in kernel mode, own. */
  stime: number;
  /** CPU ticks of waited-for children, user mode. */
  cutime: number;
  /** CPU ticks of waited-for children, kernel mode. */
  cstime: number;
  /** Start time after boot, in clock ticks: with the pid, identifies a process across pid reuse. */
  startTime: number;
  /** Resident memory, bytes. */
  rssBytes: number;
}

/** Parses the text of /proc/<pid>/stat; undefined when it is malformed. */
export function parseProcStat(pid: number, text: string): ProcStat | undefined {
  // "pid (comm) S ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime
  //  priority nice threads itrealvalue starttime vsize rss …" — comm may hold spaces and ')'.
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const f = text.slice(close + 2).split(' ');
  const n = (i: number): number => Number(f[i]);
  const stat = {
    pid,
    state: f[0] ?? '?',
    ppid: n(1),
    pgrp: n(2),
    utime: n(11),
    stime: n(12),
    cutime: n(13),
    cstime: n(14),
    startTime: n(19),
    rssBytes: n(21) * PAGE_BYTES,
  };
  return Number.isFinite(stat.ppid) && Number.isFinite(stat.rssBytes) ? stat : undefined;
}

/** Reads one process; undefined when it is gone. */
export function readProcStat(pid: number, procRoot = '/proc'): ProcStat | undefined {
  try {
    return parseProcStat(pid, readFileSync(`${procRoot}/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Every process /proc shows (empty where there is no /proc). */
export function readProcTable(procRoot = '/proc'): ProcStat[] {
  let names: string[];
  try {
    names = readdirSync(procRoot);
  } catch {
    return [];
  }
  const out: ProcStat[] = [];
  for (const name of names) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue;
    const stat = readProcStat(Number(name), procRoot);
    if (stat !== undefined) out.push(stat);
  }
  return out;
}

/** True when the process runs (a zombie counts as gone). */
export function isRunning(stat: ProcStat | undefined): boolean {
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
}

/**
 * True while `pid` runs and is the process that started at `startTime` (when given): a pid
 * reused by another process after the first one died does not count.
 */
export function isSameProcessRunning(pid: number, startTime: number | undefined, procRoot = '/proc'): boolean {
  const stat = readProcStat(pid, procRoot);
  return isRunning(stat) && (startTime === undefined || stat?.startTime === startTime);
}

/**
 * The processes of a container in the posix isolator: the descendants of the executor
 * (not the executor itself), plus any live process in one of their process groups, or in
 * one of `knownGroups` (a task's children left behind when the task or its executor died).
 */
export function containerProcesses(table: readonly ProcStat[], executorPid: number | undefined, knownGroups: ReadonlySet<number> = new Set()): ProcStat[] {
  const children = new Map<number, ProcStat[]>();
  for (const p of table) {
    const list = children.get(p.ppid);
    if (list === undefined) children.set(p.ppid, [p]);
    else list.push(p);
  }
  const found = new Map<number, ProcStat>();
  if (executorPid !== undefined) {
    const todo = [...(children.get(executorPid) ?? [])];
    for (let next = todo.pop(); next !== undefined; next = todo.pop()) {
      found.set(next.pid, next);
      todo.push(...(children.get(next.pid) ?? []));
    }
  }
  const groups = new Set(knownGroups);
  for (const p of found.values()) groups.add(p.pgrp);
  groups.delete(executorPid ?? -1);
  for (const p of table) if (groups.has(p.pgrp) && p.pgrp > 1 && p.pid !== executorPid) found.set(p.pid, p);
  return [...found.values()].filter((p) => isRunning(p));
}
