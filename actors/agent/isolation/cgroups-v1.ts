/**
 * The cgroups v1 isolator: one cgroup per container in each of the memory, cpu and
 * cpuacct hierarchies, under a per-agent parent (`<parent>/<containerId>`). Only the
 * tasks join it (their shell writes its pid to `cgroup.procs` before it execs the
 * command); the executor stays outside.
 *
 * - memory: `memory.limit_in_bytes` (and `memory.memsw.limit_in_bytes`, when swap is
 *   accounted, to the same value: no swap). The kernel OOM-kills inside the cgroup at the
 *   limit; `memory.oom_control`'s `oom_kill` counter tells us so.
 * - cpu: `cpu.shares` (1024 per cpu) and a CFS quota of `cpus × cpu.cfs_period_us`.
 * - cpuacct: usage (user and system time).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CFS_PERIOD_US, cfsQuotaUs, cpuShares, memoryLimitation, newLimitations } from './limits.js';
import { cgroupPids, killAndRemove, parseKeyValues, readCgroupFile, readCgroupNumber, removeIfEmpty, writeCgroupFile } from './cgroupfs.js';
import { IsolatorKind, type ContainerLaunch, type ContainerLimitation, type ContainerLimits, type ContainerSpec, type ContainerUsage, type Isolator, type RecoveredContainer } from './types.js';

/** The per-agent parent cgroup in each hierarchy (cpu and cpuacct may be the same directory). */
export interface CgroupsV1Parents {
  memory: string;
  cpu: string;
  cpuacct: string;
}

/** Options of the cgroups v1 isolator. */
export interface CgroupsV1Options {
  parents: CgroupsV1Parents;
  /** Why this isolator was chosen, for the agent's state. */
  why?: string;
  /** How long cleanup waits for a cgroup to empty before giving up (default 5000 ms). */
  cleanupTimeoutMs?: number;
}

/** v1 reports cpuacct times in USER_HZ ticks (cpuacct.stat) or nanoseconds (cpuacct.usage_*). */
const USER_HZ = 100;

interface Container {
  limits: ContainerLimits;
  limitation: ContainerLimitation | undefined;
  reported: boolean;
}

/** Memory, cpu and cpuacct cgroups (v1 hierarchies). */
export class CgroupsV1Isolator implements Isolator {
  /** This isolator's kind. */
  readonly kind = IsolatorKind.CGROUPS_V1;
  private readonly parents: CgroupsV1Parents;
  private readonly containers = new Map<string, Container>();
  private readonly why: string | undefined;
  private readonly cleanupTimeoutMs: number;

  constructor(options: CgroupsV1Options) {
    this.parents = options.parents;
    this.why = options.why;
    this.cleanupTimeoutMs = options.cleanupTimeoutMs ?? 5000;
  }

  /** Creates the per-agent parents (throws the fs error when a hierarchy cannot be written). */
  init(): void {
    for (const dir of this.hierarchies()) mkdirSync(dir, { recursive: true });
  }

  /** What the agent's state shows. */
  describe(): Record<string, string> {
    return {
      isolator: this.kind,
      memory: this.parents.memory,
      cpu: this.parents.cpu,
      cpuacct: this.parents.cpuacct,
      ...(this.why !== undefined && { why: this.why }),
    };
  }

  /** Creates the container's cgroups and writes its limits. */
  async prepare(spec: ContainerSpec): Promise<ContainerLaunch> {
    const dirs = this.dirs(spec.containerId);
    for (const dir of new Set(Object.values(dirs))) mkdirSync(dir, { recursive: true });
    this.writeLimits(dirs, spec.limits, undefined);
    this.containers.set(spec.containerId, { limits: spec.limits, limitation: undefined, reported: false });
    return { joinFiles: [...new Set(Object.values(dirs))].map((d) => join(d, 'cgroup.procs')) };
  }

  /** New limits for a running container. */
  async update(spec: ContainerSpec): Promise<void> {
    const c = this.containers.get(spec.containerId);
    if (c === undefined) return;
    this.writeLimits(this.dirs(spec.containerId), spec.limits, c.limits.memBytes);
    c.limits = spec.limits;
  }

  /**
   * memory.limit_in_bytes (and memory.memsw.limit_in_bytes, where swap is accounted, to the
   * same value: no swap; memsw may never be below the limit, so it moves first when the
   * limit grows), cpu.shares and the CFS quota.
   */
  private writeLimits(dirs: CgroupsV1Parents, limits: ContainerLimits, oldMemBytes: number | undefined): void {
    const { memBytes, cpus } = limits;
    if (memBytes !== undefined) {
      const memsw = readCgroupFile(dirs.memory, 'memory.memsw.limit_in_bytes') !== undefined;
      const writeMemsw = (): void => {
        if (!memsw) return;
        try {
          writeCgroupFile(dirs.memory, 'memory.memsw.limit_in_bytes', String(memBytes));
        } catch {
          // swap accounting present but not writable: the memory limit alone holds
        }
      };
      const growing = oldMemBytes !== undefined && memBytes > oldMemBytes;
      if (growing) writeMemsw();
      writeCgroupFile(dirs.memory, 'memory.limit_in_bytes', String(memBytes));
      if (!growing) writeMemsw();
    }
    if (cpus !== undefined) {
      writeCgroupFile(dirs.cpu, 'cpu.shares', String(cpuShares(cpus)));
      writeCgroupFile(dirs.cpu, 'cpu.cfs_period_us', String(CFS_PERIOD_US));
      writeCgroupFile(dirs.cpu, 'cpu.cfs_quota_us', String(cfsQuotaUs(cpus)));
    }
  }

  /** Nothing to do: the tasks join the cgroups themselves. */
  watch(): void {}

  /** An OOM kill inside the container's memory cgroup, if one happened. */
  limitation(containerId: string): ContainerLimitation | undefined {
    const c = this.containers.get(containerId);
    if (c === undefined) return undefined;
    if (c.limitation !== undefined) return c.limitation;
    const dir = this.dirs(containerId).memory;
    const oom = parseKeyValues(readCgroupFile(dir, 'memory.oom_control'));
    // oom_kill counts kernel OOM kills (Linux 4.13+); older kernels only say under_oom.
    const killed = oom.has('oom_kill') ? (oom.get('oom_kill') ?? 0) > 0 : oom.get('under_oom') === 1;
    if (!killed) return undefined;
    const limit = readCgroupNumber(dir, 'memory.limit_in_bytes') ?? c.limits.memBytes;
    c.limitation = memoryLimitation(limit, readCgroupNumber(dir, 'memory.max_usage_in_bytes'), 'cgroups v1: the kernel OOM-killed a process of the task');
    return c.limitation;
  }

  /** Containers whose memory cgroup saw an OOM kill since the last look (once each). */
  check(): Array<{ containerId: string; limitation: ContainerLimitation }> {
    return newLimitations(this.containers, (id) => this.limitation(id));
  }

  /** Usage from cpuacct, memory and cpu.stat. */
  async usage(containerId: string): Promise<ContainerUsage | undefined> {
    const c = this.containers.get(containerId);
    if (c === undefined) return undefined;
    const dirs = this.dirs(containerId);
    const userNs = readCgroupNumber(dirs.cpuacct, 'cpuacct.usage_user');
    const sysNs = readCgroupNumber(dirs.cpuacct, 'cpuacct.usage_sys');
    let user: number;
    let system: number;
    if (userNs !== undefined && sysNs !== undefined) {
      user = userNs / 1e9;
      system = sysNs / 1e9;
    } else {
      const stat = parseKeyValues(readCgroupFile(dirs.cpuacct, 'cpuacct.stat'));
      user = (stat.get('user') ?? 0) / USER_HZ;
      system = (stat.get('system') ?? 0) / USER_HZ;
    }
    return {
      cpuUserSeconds: user,
      cpuSystemSeconds: system,
      memBytes: readCgroupNumber(dirs.memory, 'memory.usage_in_bytes') ?? 0,
      memMaxBytes: readCgroupNumber(dirs.memory, 'memory.max_usage_in_bytes'),
      memLimitBytes: c.limits.memBytes,
      cpusLimit: c.limits.cpus,
      processes: cgroupPids(dirs.memory).length,
      throttledPeriods: parseKeyValues(readCgroupFile(dirs.cpu, 'cpu.stat')).get('nr_throttled'),
    };
  }

  /** Kills what is left in the container's cgroups and removes them. */
  async cleanup(containerId: string): Promise<void> {
    this.containers.delete(containerId);
    for (const dir of new Set(Object.values(this.dirs(containerId)))) await killAndRemove(dir, this.cleanupTimeoutMs);
  }

  /** Takes back the cgroups of executors that outlived the previous agent process. */
  async recover(containers: readonly RecoveredContainer[]): Promise<void> {
    for (const r of containers) this.containers.set(r.containerId, { limits: r.limits, limitation: undefined, reported: false });
  }

  /** Removes the per-agent parents if they are empty. */
  async close(): Promise<void> {
    for (const dir of this.hierarchies()) removeIfEmpty(dir);
  }

  private hierarchies(): string[] {
    return [...new Set([this.parents.memory, this.parents.cpu, this.parents.cpuacct])];
  }

  private dirs(containerId: string): CgroupsV1Parents {
    return {
      memory: join(this.parents.memory, containerId),
      cpu: join(this.parents.cpu, containerId),
      cpuacct: join(this.parents.cpuacct, containerId),
    };
  }
}
