/**
 * The posix isolator: for hosts where cgroups cannot be written. A container is the
 * process tree below its executor (each task runs in a process group of its own), found
 * by sampling /proc; memory is the sum of their resident sets. Over the limit, the
 * isolator reports a memory limitation and the agent kills the executor and its tasks.
 *
 * What it cannot do, and why: cpus are not enforced (no quota without cgroups; nice
 * levels do not bound a share); memory is enforced only as often as it is sampled (a task
 * can overshoot between two samples); no rlimit stands in for the memory limit (RLIMIT_AS
 * counts address space, which runtimes such as Node, the JVM or Go reserve far beyond what
 * they use, and Linux ignores RLIMIT_RSS); a process that leaves its process group
 * (setsid) and is reparented to init escapes.
 */
import { memoryLimitation } from './limits.js';
import { CLOCK_TICKS, containerProcesses, readProcStat, readProcTable, type ProcStat } from './proc.js';
import { IsolatorKind, type ContainerLaunch, type ContainerLimitation, type ContainerLimits, type ContainerSpec, type ContainerUsage, type Isolator, type RecoveredContainer } from './types.js';

/** Options of the posix isolator. */
export interface PosixIsolatorOptions {
  /** Where /proc is (tests point it elsewhere). */
  procRoot?: string;
  /** Why `auto` chose posix, for the agent's state. */
  why?: string;
}

interface Container {
  limits: ContainerLimits;
  pid: number | undefined;
  /** Process groups seen in the container: their members are killed at cleanup. */
  groups: Set<number>;
  maxRssBytes: number;
  limitation: ContainerLimitation | undefined;
  reported: boolean;
}

/** Process groups, /proc sampling and a kill on memory overrun. */
export class PosixIsolator implements Isolator {
  /** This isolator's kind. */
  readonly kind = IsolatorKind.POSIX;
  private readonly containers = new Map<string, Container>();
  private readonly procRoot: string;
  private readonly why: string | undefined;

  constructor(options: PosixIsolatorOptions = {}) {
    this.procRoot = options.procRoot ?? '/proc';
    this.why = options.why;
  }

  /** What the agent's state shows. */
  describe(): Record<string, string> {
    return {
      isolator: this.kind,
      memory: 'sampled from /proc (resident set of the tasks\' process trees); killed when over the limit',
      cpus: 'not enforced',
      ...(this.why !== undefined && { why: this.why }),
    };
  }

  /** Records the container; nothing to create. */
  async prepare(spec: ContainerSpec): Promise<ContainerLaunch> {
    this.containers.set(spec.containerId, { limits: spec.limits, pid: undefined, groups: new Set(), maxRssBytes: 0, limitation: undefined, reported: false });
    return { joinFiles: [] };
  }

  /** New limits for a container (checked from the next sample on). */
  async update(spec: ContainerSpec): Promise<void> {
    const c = this.containers.get(spec.containerId);
    if (c !== undefined) c.limits = spec.limits;
  }

  /** The executor runs as `pid`: its descendants are the container. */
  watch(containerId: string, pid: number): void {
    const c = this.containers.get(containerId);
    if (c !== undefined) c.pid = pid;
  }

  /** The limitation recorded by the last sample (posix cannot know more than it sampled). */
  limitation(containerId: string): ContainerLimitation | undefined {
    return this.containers.get(containerId)?.limitation;
  }

  /** Samples every container once; those over their memory limit are returned (once each). */
  check(): Array<{ containerId: string; limitation: ContainerLimitation }> {
    if (this.containers.size === 0) return [];
    const table = readProcTable(this.procRoot);
    const out: Array<{ containerId: string; limitation: ContainerLimitation }> = [];
    for (const [containerId, c] of this.containers) {
      const rss = this.sample(c, table).reduce((sum, p) => sum + p.rssBytes, 0);
      c.maxRssBytes = Math.max(c.maxRssBytes, rss);
      const limit = c.limits.memBytes;
      if (limit !== undefined && rss > limit && c.limitation === undefined) {
        c.limitation = memoryLimitation(limit, rss, 'posix: resident memory sampled from /proc');
      }
      if (c.limitation !== undefined && !c.reported) {
        c.reported = true;
        out.push({ containerId, limitation: c.limitation });
      }
    }
    return out;
  }

  /** CPU times and resident memory of the container's processes now. */
  async usage(containerId: string): Promise<ContainerUsage | undefined> {
    const c = this.containers.get(containerId);
    if (c === undefined) return undefined;
    const procs = this.sample(c, readProcTable(this.procRoot));
    const rss = procs.reduce((sum, p) => sum + p.rssBytes, 0);
    c.maxRssBytes = Math.max(c.maxRssBytes, rss);
    return {
      cpuUserSeconds: procs.reduce((sum, p) => sum + p.utime + p.cutime, 0) / CLOCK_TICKS,
      cpuSystemSeconds: procs.reduce((sum, p) => sum + p.stime + p.cstime, 0) / CLOCK_TICKS,
      memBytes: rss,
      memMaxBytes: c.maxRssBytes,
      memLimitBytes: c.limits.memBytes,
      cpusLimit: c.limits.cpus,
      processes: procs.length,
      throttledPeriods: undefined,
    };
  }

  /** SIGKILLs what is left of the container's process groups and forgets it. */
  async cleanup(containerId: string): Promise<void> {
    const c = this.containers.get(containerId);
    if (c === undefined) return;
    this.containers.delete(containerId);
    const left = this.sample(c, readProcTable(this.procRoot));
    for (const group of c.groups) kill(-group);
    for (const p of left) kill(p.pid);
  }

  /** Takes back containers whose executors still run. */
  async recover(containers: readonly RecoveredContainer[]): Promise<void> {
    for (const r of containers) {
      this.containers.set(r.containerId, { limits: r.limits, pid: r.pid, groups: new Set(), maxRssBytes: 0, limitation: undefined, reported: false });
    }
  }

  /** Nothing to remove. */
  async close(): Promise<void> {}

  private sample(c: Container, table: readonly ProcStat[]): ProcStat[] {
    const procs = containerProcesses(table, c.pid, c.groups);
    for (const p of procs) c.groups.add(p.pgrp);
    return procs;
  }
}

let ownGroup: number | undefined;

function kill(target: number): void {
  ownGroup ??= readProcStat(process.pid)?.pgrp ?? process.pid;
  if (Math.abs(target) <= 1 || target === -ownGroup || target === process.pid) return;
  try {
    process.kill(target, 'SIGKILL');
  } catch {
    // gone already
  }
}
