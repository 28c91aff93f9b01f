// What the allocator shows of itself (the master's state and the operator API): each role's
// weight, quota, consumption, allocated, offered and reserved quantities and DRF share, and
// each framework's share. Quantities are scalar, in units; a role's figures cover its whole
// subtree (`eng` includes `eng/web`), as Mesos's roles endpoint does.
import type { Books } from './books.js';
import { addQuantities, toUnits, type Quantities } from './quantities.js';
import { consumedBy, type QuotaMilli } from './quota.js';
import { isWithin } from './roles.js';
import type { FrameworkState } from './state.js';

/** One role as the allocator sees it. */
export interface RoleView {
  readonly role: string;
  readonly weight: number;
  /** Guarantees and limits in units, when the role has quota. */
  readonly quota?: { guarantees: Record<string, number>; limits: Record<string, number> };
  /** Quota consumed (unreserved allocations plus reservations of the subtree), when the role has quota. */
  readonly consumed?: Record<string, number>;
  /** Held by the subtree's frameworks (offered or in use). */
  readonly allocated: Record<string, number>;
  /** The part of `allocated` in outstanding offers. */
  readonly offered: Record<string, number>;
  /** Reserved to the subtree on all agents, allocated or not. */
  readonly reserved: Record<string, number>;
  /** The subtree's weighted dominant share among its siblings (0 without frameworks). */
  readonly share: number;
  /** Frameworks subscribed with exactly this role. */
  readonly frameworks: string[];
}

/** One framework's fairness figures. */
export interface FrameworkView {
  readonly frameworkId: string;
  readonly roles: string[];
  readonly active: boolean;
  readonly suppressedRoles: string[];
  /** Dominant share of the cluster over all its roles. */
  readonly share: number;
  /** Its share within each role it is a client of (the framework sorter's). */
  readonly shares: Record<string, number>;
  /** Held over all roles, in units. */
  readonly allocated: Record<string, number>;
}

/** Every role that has frameworks, reservations, quota or a weight (and their ancestors), by name. */
export function roleViews(books: Books, quotas: ReadonlyMap<string, QuotaMilli>): RoleView[] {
  const names = new Set<string>([...books.roles.keys(), ...books.reserved.keys(), ...quotas.keys(), ...books.weights.keys()]);
  for (const name of [...names]) {
    const parts = name.split('/');
    for (let i = 1; i < parts.length; i++) names.add(parts.slice(0, i).join('/'));
  }
  const consumed = consumedBy(books, quotas.keys());
  return [...names].sort().map((name) => {
    const allocated: Quantities = new Map();
    const offered: Quantities = new Map();
    const reserved: Quantities = new Map();
    for (const role of books.roles.values()) {
      if (!isWithin(role.name, name)) continue;
      addQuantities(allocated, role.allocated);
      addQuantities(offered, role.offered);
    }
    for (const [role, q] of books.reserved) if (isWithin(role, name)) addQuantities(reserved, q);
    const quota = quotas.get(name);
    const view: RoleView = {
      role: name,
      weight: books.weights.get(name) ?? 1,
      allocated: toUnits(allocated),
      offered: toUnits(offered),
      reserved: toUnits(reserved),
      share: shareOf(books, name),
      frameworks: [...(books.roles.get(name)?.subscribed ?? [])].sort(),
      ...(quota !== undefined && {
        quota: { guarantees: toUnits(quota.guarantees), limits: toUnits(quota.limits) },
        consumed: toUnits(consumed.get(name) ?? new Map()),
      }),
    };
    return view;
  });
}

/** A framework's roles, activity and shares. */
export function frameworkView(books: Books, framework: FrameworkState): FrameworkView {
  const shares: Record<string, number> = {};
  for (const role of books.roles.values()) {
    if (role.clients.has(framework.id)) shares[role.name] = books.frameworkSorter(role).share(framework.id);
  }
  return {
    frameworkId: framework.id,
    roles: [...framework.roles],
    active: framework.active,
    suppressedRoles: [...framework.suppressed].sort(),
    share: dominantShare(books, framework.heldMilli),
    shares,
    allocated: toUnits(framework.heldMilli),
  };
}

/** Quantities in units as Mesos text (`cpus:2;mem:128`), names in order; '' when empty. */
export function quantitiesText(units: Readonly<Record<string, number>>): string {
  return Object.keys(units)
    .sort()
    .map((name) => `${name}:${units[name]}`)
    .join(';');
}

/** max over cluster scalars of held/total (weight 1). */
export function dominantShare(books: Books, held: ReadonlyMap<string, number>): number {
  let share = 0;
  for (const [name, total] of books.clusterMilli) {
    const milli = held.get(name);
    if (milli !== undefined && total > 0) share = Math.max(share, milli / total);
  }
  return share;
}

function shareOf(books: Books, role: string): number {
  // Outside the role tree (no frameworks below it) a role holds nothing.
  return books.roleSorter.hasPath(role) ? books.roleSorter.share(role) : 0;
}
