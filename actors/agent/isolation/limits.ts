/**
 * How a container's limits follow from its tasks' resources, and how a memory limitation
 * is described. Pure.
 *
 * Limits are the sum of the tasks' `mem` and `cpus`: the executor process is not in the
 * container (only the tasks' process groups are), so its own memory (~55 MiB for a Node
 * executor) is neither counted nor limited here. See docs/agent.md.
 */
import { Resources } from '../../../protocol/resources.js';
import type { ResourcesWire } from '../../../protocol/schema.js';
import { TaskReason } from '../../../protocol/task-state.js';
import type { ContainerLimitation, ContainerLimits } from './types.js';

/** Bytes in a Mesos megabyte (the `mem` unit): a mebibyte. */
export const MB = 1024 * 1024;

/** The CFS period the cgroup isolators use, microseconds (the kernel's default). */
export const CFS_PERIOD_US = 100_000;

/** The smallest CFS quota the kernel accepts, microseconds. */
export const MIN_CFS_QUOTA_US = 1000;

/** cpu.shares per cpu (v1), as Mesos. */
export const CPU_SHARES_PER_CPU = 1024;

/** The limits of a container running tasks with these resources. */
export function containerLimits(resources: readonly ResourcesWire[]): ContainerLimits {
  const total = resources.reduce((sum, r) => sum.add(Resources.fromWire(r)), Resources.empty());
  const mem = total.scalar('mem');
  const cpus = total.scalar('cpus');
  return {
    ...(mem > 0 && { memBytes: Math.round(mem * MB) }),
    ...(cpus > 0 && { cpus }),
  };
}

/** The CFS quota for `cpus`, microseconds per `CFS_PERIOD_US`. */
export function cfsQuotaUs(cpus: number): number {
  return Math.max(MIN_CFS_QUOTA_US, Math.round(cpus * CFS_PERIOD_US));
}

/** cgroup v1 `cpu.shares` for `cpus` (at least 2, the kernel's minimum). */
export function cpuShares(cpus: number): number {
  return Math.max(2, Math.round(cpus * CPU_SHARES_PER_CPU));
}

/** cgroup v2 `cpu.weight` for `cpus` (1-10000; 100 per cpu, as systemd maps shares). */
export function cpuWeight(cpus: number): number {
  return Math.min(10_000, Math.max(1, Math.round(cpus * 100)));
}

/** Bytes as whole megabytes, for messages. */
export function megabytes(bytes: number): string {
  return `${Math.round(bytes / MB)} MB`;
}

/** The limitation of a container that went over its memory limit. */
export function memoryLimitation(limitBytes: number | undefined, maxUsedBytes: number | undefined, how: string): ContainerLimitation {
  const requested = limitBytes === undefined ? 'unknown' : megabytes(limitBytes);
  const used = maxUsedBytes === undefined ? 'unknown' : megabytes(maxUsedBytes);
  return {
    resource: 'mem',
    reason: TaskReason.MEMORY_LIMIT,
    message: `Memory limit exceeded: requested ${requested}, maximum used ${used} (${how})`,
  };
}

/**
 * The limitations of the containers not reported yet, each once: `limitationOf` looks a
 * container up (its cgroup's OOM record); a container found limited is marked reported.
 */
export function newLimitations(
  containers: ReadonlyMap<string, { reported: boolean }>,
  limitationOf: (containerId: string) => ContainerLimitation | undefined,
): Array<{ containerId: string; limitation: ContainerLimitation }> {
  const out: Array<{ containerId: string; limitation: ContainerLimitation }> = [];
  for (const [containerId, c] of containers) {
    if (c.reported) continue;
    const limitation = limitationOf(containerId);
    if (limitation === undefined) continue;
    c.reported = true;
    out.push({ containerId, limitation });
  }
  return out;
}
