/**
 * The cgroups v2 isolator: one cgroup per container in the unified hierarchy, under a
 * per-agent parent whose `cgroup.subtree_control` enables the memory and cpu controllers.
 * Only the tasks join it (their shell writes its pid to `cgroup.procs` before exec).
 *
 * - memory: `memory.max` (and `memory.swap.max` 0 where it exists); the kernel OOM-kills
 *   inside the cgroup at the limit and counts it in `memory.events` (`oom_kill`).
 * - cpu: `cpu.max` ("<quota> <period>") and `cpu.weight`.
 * - usage: `cpu.stat` (user_usec, system_usec, nr_throttled), `memory.current`,
 *   `memory.peak` where the kernel has it.
 *
 * v2 forbids processes in a cgroup that hands controllers to its children (except at the
 * root): the parent chain must hold no processes, which `detect.ts` checks.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CFS_PERIOD_US, cfsQuotaUs, cpuWeight, memoryLimitation, newLimitations } from './limits.js';
import { cgroupPids, killAndRemove, parseKeyValues, readCgroupFile, readCgroupNumber, removeIfEmpty, writeCgroupFile } from './cgroupfs.js';
import { IsolatorKind, type ContainerLaunch, type ContainerLimitation, type ContainerLimits, type ContainerSpec, type ContainerUsage, type Isolator, type RecoveredContainer } from './types.js';

/** Options of the cgroups v2 isolator. */
export interface CgroupsV2Options {
  /** The cgroup the agent may write below (its own, or the hierarchy's root). */
  base: string;
  /** The per-agent parent, below `base` (e.g. `<base>/nesos/<agentId>`). */
  parent: string;
  /** Why this isolator was chosen, for the agent's state. */
  why?: string;
  /** How long cleanup waits for a cgroup to empty before giving up (default 5000 ms). */
  cleanupTimeoutMs?: number;
}

/** The controllers the isolator needs. */
export const V2_CONTROLLERS = ['memory', 'cpu'] as const;

interface Container {
  limits: ContainerLimits;
  limitation: ContainerLimitation | undefined;
  reported: boolean;
}

/** memory and cpu controllers of the unified (v2) hierarchy. */
export class CgroupsV2Isolator implements Isolator {
  /** This isolator's kind. */
  readonly kind = IsolatorKind.CGROUPS_V2;
  private readonly base: string;
  private readonly parent: string;
  private readonly containers = new Map<string, Container>();
  private readonly why: string | undefined;
  private readonly cleanupTimeoutMs: number;

  constructor(options: CgroupsV2Options) {
    this.base = options.base;
    this.parent = options.parent;
    this.why = options.why;
    this.cleanupTimeoutMs = options.cleanupTimeoutMs ?? 5000;
  }

  /**
   * Creates the chain from `base` to the per-agent parent, enabling memory and cpu in the
   * `cgroup.subtree_control` of each level (throws the fs error, e.g. EBUSY when a level
   * holds processes).
   */
  init(): void {
    const enable = V2_CONTROLLERS.map((c) => `+${c}`).join(' ');
    let dir = this.base;
    const below = this.parent.slice(this.base.length).split('/').filter((s) => s !== '');
    for (const segment of [undefined, ...below]) {
      if (segment !== undefined) {
        dir = join(dir, segment);
        mkdirSync(dir, { recursive: true });
      }
      const enabled = (readCgroupFile(dir, 'cgroup.subtree_control') ?? '').split(/\s+/);
      if (!V2_CONTROLLERS.every((c) => enabled.includes(c))) writeCgroupFile(dir, 'cgroup.subtree_control', enable);
    }
  }

  /** What the agent's state shows. */
  describe(): Record<string, string> {
    return { isolator: this.kind, cgroup: this.parent, ...(this.why !== undefined && { why: this.why }) };
  }

  /** Creates the container's cgroup and writes its limits. */
  async prepare(spec: ContainerSpec): Promise<ContainerLaunch> {
    const dir = this.dir(spec.containerId);
    mkdirSync(dir, { recursive: true });
    this.writeLimits(dir, spec.limits);
    this.containers.set(spec.containerId, { limits: spec.limits, limitation: undefined, reported: false });
    return { joinFiles: [join(dir, 'cgroup.procs')] };
  }

  /** New limits for a running container. */
  async update(spec: ContainerSpec): Promise<void> {
    const c = this.containers.get(spec.containerId);
    if (c === undefined) return;
    this.writeLimits(this.dir(spec.containerId), spec.limits);
    c.limits = spec.limits;
  }

  private writeLimits(dir: string, limits: ContainerLimits): void {
    const { memBytes, cpus } = limits;
    if (memBytes !== undefined) {
      writeCgroupFile(dir, 'memory.max', String(memBytes));
      if (readCgroupFile(dir, 'memory.swap.max') !== undefined) {
        try {
          writeCgroupFile(dir, 'memory.swap.max', '0');
        } catch {
          // swap control present but not writable: memory.max alone holds
        }
      }
    }
    if (cpus !== undefined) {
      writeCgroupFile(dir, 'cpu.max', `${cfsQuotaUs(cpus)} ${CFS_PERIOD_US}`);
      writeCgroupFile(dir, 'cpu.weight', String(cpuWeight(cpus)));
    }
  }

  /** Nothing to do: the tasks join the cgroup themselves. */
  watch(): void {}

  /** An OOM kill inside the container's cgroup (memory.events `oom_kill`), if one happened. */
  limitation(containerId: string): ContainerLimitation | undefined {
    const c = this.containers.get(containerId);
    if (c === undefined) return undefined;
    if (c.limitation !== undefined) return c.limitation;
    const dir = this.dir(containerId);
    const events = parseKeyValues(readCgroupFile(dir, 'memory.events'));
    if ((events.get('oom_kill') ?? 0) === 0) return undefined;
    const max = readCgroupNumber(dir, 'memory.max') ?? c.limits.memBytes;
    c.limitation = memoryLimitation(max, readCgroupNumber(dir, 'memory.peak') ?? max, 'cgroups v2: the kernel OOM-killed a process of the task');
    return c.limitation;
  }

  /** Containers whose cgroup saw an OOM kill since the last look (once each). */
  check(): Array<{ containerId: string; limitation: ContainerLimitation }> {
    return newLimitations(this.containers, (id) => this.limitation(id));
  }

  /** Usage from cpu.stat and memory.current / memory.peak. */
  async usage(containerId: string): Promise<ContainerUsage | undefined> {
    const c = this.containers.get(containerId);
    if (c === undefined) return undefined;
    const dir = this.dir(containerId);
    const cpu = parseKeyValues(readCgroupFile(dir, 'cpu.stat'));
    return {
      cpuUserSeconds: (cpu.get('user_usec') ?? 0) / 1e6,
      cpuSystemSeconds: (cpu.get('system_usec') ?? 0) / 1e6,
      memBytes: readCgroupNumber(dir, 'memory.current') ?? 0,
      memMaxBytes: readCgroupNumber(dir, 'memory.peak'),
      memLimitBytes: c.limits.memBytes,
      cpusLimit: c.limits.cpus,
      processes: cgroupPids(dir).length,
      throttledPeriods: cpu.get('nr_throttled'),
    };
  }

  /** Kills what is left (cgroup.kill where the kernel has it) and removes the cgroup. */
  async cleanup(containerId: string): Promise<void> {
    this.containers.delete(containerId);
    const dir = this.dir(containerId);
    if (cgroupPids(dir).length > 0) {
      try {
        writeCgroupFile(dir, 'cgroup.kill', '1');
      } catch {
        // no cgroup.kill (Linux < 5.14): killAndRemove signals each process
      }
    }
    await killAndRemove(dir, this.cleanupTimeoutMs);
  }

  /** Takes back the cgroups of executors that outlived the previous agent process. */
  async recover(containers: readonly RecoveredContainer[]): Promise<void> {
    for (const r of containers) this.containers.set(r.containerId, { limits: r.limits, limitation: undefined, reported: false });
  }

  /** Removes the per-agent parent if it is empty. */
  async close(): Promise<void> {
    removeIfEmpty(this.parent);
  }

  private dir(containerId: string): string {
    return join(this.parent, containerId);
  }
}
