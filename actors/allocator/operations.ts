// Offer operations that change what resources *are* without changing how much there is, as
// Mesos's RESERVE, UNRESERVE, CREATE and DESTROY: each replaces some resources of an agent
// (`from`) by the same quantities in another form (`to`).
//
//   RESERVE    unreserved → dynamically reserved for a role (with labels)
//   UNRESERVE  dynamically reserved → unreserved (static reservations cannot be undone)
//   CREATE     reserved disk → a persistent volume on it
//   DESTROY    a persistent volume → the reserved disk it was on
//
// A framework applies them to resources it was offered (they stay its own); an operator to
// free resources. Volumes survive task restarts: once the task's resources are recovered the
// volume is free again, and only its role (or a descendant) can be offered it.
import type { Resources } from '../../protocol/resources.js';
import type { Books } from './books.js';
import { InvalidOperationError, QuotaExceededError } from './errors.js';
import { consumedBy, type QuotaMilli } from './quota.js';
import { topLevel } from './roles.js';
import type { AgentState } from './state.js';

/** An operation on one agent's resources, as data. */
export type ResourceOperation =
  /** `resources` in their reserved form (`cpus(eng,dynamic,team=web):2`): reserve that much unreserved. */
  | { type: 'RESERVE'; resources: Resources }
  /** Dynamically reserved `resources` to make unreserved again. */
  | { type: 'UNRESERVE'; resources: Resources }
  /** Persistent volumes to create on reserved disk (`disk(eng,dynamic)[data1:var/data]:512`). */
  | { type: 'CREATE'; volumes: Resources }
  /** Persistent volumes to destroy, giving back their reserved disk. */
  | { type: 'DESTROY'; volumes: Resources };

/** What an operation takes and what it puts in its place. */
export interface Conversion {
  readonly from: Resources;
  readonly to: Resources;
}

/** Validates an operation and returns its conversion; throws `InvalidOperationError`. */
export function conversionOf(op: ResourceOperation): Conversion {
  switch (op.type) {
    case 'RESERVE': {
      const to = op.resources;
      check(op.type, !to.isEmpty(), 'nothing to reserve');
      check(op.type, to.entries().every((e) => e.role !== '*' && e.labels !== undefined), 'every resource must carry a dynamic reservation for a role (e.g. cpus(eng,dynamic):1)');
      check(op.type, to.volumes().isEmpty(), 'reserve the disk first, then CREATE volumes on it');
      return { from: to.toUnreserved(), to };
    }
    case 'UNRESERVE': {
      const from = op.resources;
      check(op.type, !from.isEmpty(), 'nothing to unreserve');
      check(op.type, from.entries().every((e) => e.labels !== undefined), 'only dynamic reservations can be unreserved');
      check(op.type, from.volumes().isEmpty(), 'DESTROY the volumes on this disk first');
      return { from, to: from.toUnreserved() };
    }
    case 'CREATE': {
      const to = op.volumes;
      check(op.type, !to.isEmpty(), 'no volumes');
      check(op.type, to.entries().every((e) => e.volume !== undefined), 'every resource must be a persistent volume (disk(role)[id]:size)');
      return { from: to.withoutVolumes(), to };
    }
    case 'DESTROY': {
      const from = op.volumes;
      check(op.type, !from.isEmpty(), 'no volumes');
      check(op.type, from.entries().every((e) => e.volume !== undefined), 'every resource must be a persistent volume');
      return { from, to: from.withoutVolumes() };
    }
  }
}

/** Ids of the persistent volumes in `resources`. */
export function volumeIds(resources: Resources): string[] {
  return resources.entries().flatMap((e) => (e.volume === undefined ? [] : [e.volume.id]));
}

/** Throws `InvalidOperationError` unless the volume ids are distinct and new on the agent. */
export function checkNewVolumes(agent: AgentState, volumes: Resources): void {
  const ids = volumeIds(volumes);
  const existing = new Set(volumeIds(agent.total));
  if (new Set(ids).size !== ids.length || ids.some((id) => existing.has(id))) {
    throw new InvalidOperationError('CREATE', `volume ids must be new on agent ${agent.id}: ${ids.join(', ')}`);
  }
}

/**
 * Throws `QuotaExceededError` if reserving `reserved` out of free resources would take a
 * top-level role's consumption above its limit (a reservation consumes quota at once).
 */
export function checkWithinLimits(books: Books, quotas: ReadonlyMap<string, QuotaMilli>, reserved: Resources): void {
  const tops = new Set(reserved.roles().map(topLevel));
  for (const [top, used] of consumedBy(books, [...tops].filter((t) => quotas.has(t)))) {
    const limits = quotas.get(top)?.limits;
    if (limits === undefined) continue;
    const adding = new Map<string, number>();
    for (const role of reserved.roles()) {
      if (topLevel(role) !== top) continue;
      for (const [name, milli] of reserved.forRole(role).scalarMilli()) adding.set(name, (adding.get(name) ?? 0) + milli);
    }
    for (const [name, milli] of adding) {
      const limit = limits.get(name);
      if (limit !== undefined && (used.get(name) ?? 0) + milli > limit) throw new QuotaExceededError(top, `${name}:${limit / 1000}`);
    }
  }
}

function check(operation: string, ok: boolean, problem: string): void {
  if (!ok) throw new InvalidOperationError(operation, problem);
}
