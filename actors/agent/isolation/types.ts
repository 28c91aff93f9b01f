/**
 * The isolator contract: how the agent confines an executor's tasks to the cpus and memory
 * they were given, measures what they use, and learns that they went over a limit.
 *
 * A container is one executor's tasks (the executor process itself stays outside: it is
 * Nesos's own overhead, see docs/agent.md). Three implementations share this interface and
 * report the same limitation reasons: cgroups v1, cgroups v2 and a posix fallback. The
 * agent picks one at start (`--isolation auto|cgroups-v1|cgroups-v2|posix`).
 */
import type { TaskReason } from '../../../protocol/task-state.js';

/** The isolators there are. */
export const IsolatorKind = {
  CGROUPS_V1: 'cgroups-v1',
  CGROUPS_V2: 'cgroups-v2',
  POSIX: 'posix',
} as const;
/** One isolator kind. */
export type IsolatorKind = (typeof IsolatorKind)[keyof typeof IsolatorKind];

/** What `--isolation` accepts: a kind, or `auto` (the best the host allows). */
export type IsolationMode = 'auto' | IsolatorKind;

/** Every value `--isolation` accepts. */
export const ISOLATION_MODES: readonly IsolationMode[] = ['auto', IsolatorKind.CGROUPS_V1, IsolatorKind.CGROUPS_V2, IsolatorKind.POSIX];

/** The limits of one container, from its tasks' resources. Absent means unlimited. */
export interface ContainerLimits {
  /** Memory (RSS + page cache for cgroups; RSS for posix), bytes. */
  memBytes?: number;
  /** CPU share, in cpus (0.5 = half a core). */
  cpus?: number;
}

/** A container to create: one per executor, named by the executor's id. */
export interface ContainerSpec {
  containerId: string;
  limits: ContainerLimits;
}

/** What the executor needs to put its tasks in the container. */
export interface ContainerLaunch {
  /**
   * Files a task's shell writes its own pid to before it execs the task's command
   * (`cgroup.procs` of each hierarchy); empty when the isolator needs no joining (posix).
   */
  joinFiles: string[];
}

/** What a container used, as measured now. */
export interface ContainerUsage {
  /** CPU time spent in user mode, seconds. */
  cpuUserSeconds: number;
  /** CPU time spent in the kernel, seconds. */
  cpuSystemSeconds: number;
  /** Memory in use now, bytes. */
  memBytes: number;
  /** Highest memory use seen, bytes (the kernel's for cgroups, the sampled one for posix). */
  memMaxBytes: number | undefined;
  /** The memory limit, bytes. */
  memLimitBytes: number | undefined;
  /** The cpu limit, in cpus. */
  cpusLimit: number | undefined;
  /** Processes in the container now. */
  processes: number;
  /** Times the cpu quota throttled the container (cgroups only). */
  throttledPeriods: number | undefined;
}

/** A limit a container went over: its tasks end TASK_FAILED with `reason`. */
export interface ContainerLimitation {
  resource: 'mem';
  reason: TaskReason;
  /** For people: what was requested and what was used. */
  message: string;
}

/** A container to take back after an agent restart. */
export interface RecoveredContainer extends ContainerSpec {
  /** The executor's pid, when it is still running. */
  pid: number | undefined;
}

/** Confines, meters and watches containers. All paths and processes are the isolator's own. */
export interface Isolator {
  /** Which isolator this is. */
  readonly kind: IsolatorKind;
  /** Facts for the agent's state and logs (hierarchies used, parent cgroup…). */
  describe(): Record<string, string>;
  /** Creates the container with its limits (before the executor starts). */
  prepare(spec: ContainerSpec): Promise<ContainerLaunch>;
  /** Changes a running container's limits (a default executor took another task group). */
  update(spec: ContainerSpec): Promise<void>;
  /** The executor of the container runs as `pid` (the posix isolator watches its process tree). */
  watch(containerId: string, pid: number): void;
  /** The limitation a container has hit, if any (cheap: read at once, no waiting). */
  limitation(containerId: string): ContainerLimitation | undefined;
  /** Looks at every container; returns those that hit a limit since the last look. */
  check(): Array<{ containerId: string; limitation: ContainerLimitation }>;
  /** What the container uses now; undefined when it is unknown. */
  usage(containerId: string): Promise<ContainerUsage | undefined>;
  /** Kills what is left in the container and removes it. Never throws. */
  cleanup(containerId: string): Promise<void>;
  /** Takes back containers of executors that outlived the previous agent process. */
  recover(containers: readonly RecoveredContainer[]): Promise<void>;
  /** Removes the per-agent parent when it is empty (at agent stop). Never throws. */
  close(): Promise<void>;
}
