// Quota, as Mesos 1.10+: a top-level role may have *guarantees* (scalar quantities held back
// for it: the allocator keeps enough unreserved resources free, the "headroom", so that every
// unmet guarantee could still be met) and *limits* (quantities the role's whole subtree never
// exceeds). A role consumes quota with what its subtree is allocated unreserved plus
// everything reserved to its subtree, allocated or not (reservations are bound to the role).
//
//   required headroom  = Σ over quota roles of max(0, guarantee − consumed), per name
//   available headroom = unreserved resources free on all agents
//   surplus            = available − required: what roles may take beyond their guarantees
import { Resources } from '../../protocol/resources.js';
import type { Books } from './books.js';
import { InvalidQuotaError } from './errors.js';
import { addInto, addQuantities, type Quantities } from './quantities.js';
import { DEFAULT_ROLE, topLevel, validateRole } from './roles.js';

/** A role's quota as given: scalar quantities in units by name (`{ cpus: 4, mem: 4096 }`). */
export interface Quota {
  /** Held back for the role until it uses them; default none. */
  guarantees?: Record<string, number>;
  /** Never exceeded by the role's subtree; default unlimited. Each ≥ the guarantee of its name. */
  limits?: Record<string, number>;
}

/**
 * A quota from resource text (`cpus:4;mem:4096`, as the operator API carries it): the scalar
 * quantities of each, summed over roles. Throws `InvalidQuotaError` on text that does not parse.
 */
export function quotaFromText(role: string, guarantee?: string, limit?: string): Quota {
  const units = (what: string, text: string | undefined): Record<string, number> | undefined => {
    if (text === undefined) return undefined;
    const parsed = Resources.tryParse(text);
    if (!parsed.ok) throw new InvalidQuotaError(role, `${what} "${text}" is not resource text`, { cause: parsed.error });
    return Object.fromEntries(parsed.value.scalarTotals());
  };
  const guarantees = units('guarantee', guarantee);
  const limits = units('limit', limit);
  return { ...(guarantees !== undefined && { guarantees }), ...(limits !== undefined && { limits }) };
}

/** A validated quota in thousandths. */
export interface QuotaMilli {
  readonly guarantees: Quantities;
  readonly limits: Quantities;
}

/** Validates a quota for `role` (top-level, not `*`); throws `InvalidQuotaError`. */
export function validateQuota(role: string, quota: Quota): QuotaMilli {
  validateRole(role);
  if (role === DEFAULT_ROLE) throw new InvalidQuotaError(role, 'the default role "*" cannot have quota');
  if (role.includes('/')) throw new InvalidQuotaError(role, 'quota is set on top-level roles only');
  const guarantees = toMilli(role, 'guarantee', quota.guarantees ?? {});
  const limits = toMilli(role, 'limit', quota.limits ?? {});
  for (const [name, g] of guarantees) {
    const limit = limits.get(name);
    if (limit !== undefined && limit < g) throw new InvalidQuotaError(role, `guarantee of ${name} (${g / 1000}) is above its limit (${limit / 1000})`);
  }
  return { guarantees, limits };
}

function toMilli(role: string, what: string, record: Record<string, number>): Quantities {
  const out: Quantities = new Map();
  for (const [name, units] of Object.entries(record)) {
    if (typeof units !== 'number' || !Number.isFinite(units) || units < 0) {
      throw new InvalidQuotaError(role, `${what} of ${name} must be a finite number >= 0, got ${String(units)}`);
    }
    out.set(name, Math.round(units * 1000));
  }
  return out;
}

/**
 * Quota consumed by each of `tops` (top-level roles): the unreserved allocations of its
 * subtree plus its subtree's reservations. One pass over roles and reservations.
 */
export function consumedBy(books: Books, tops: Iterable<string>): Map<string, Quantities> {
  const out = new Map<string, Quantities>();
  for (const top of tops) out.set(top, new Map());
  for (const role of books.roles.values()) {
    const consumed = out.get(topLevel(role.name));
    if (consumed === undefined) continue;
    for (const [name, milli] of role.allocated) {
      const unreserved = milli - (role.allocatedReserved.get(name) ?? 0);
      if (unreserved > 0) consumed.set(name, (consumed.get(name) ?? 0) + unreserved);
    }
  }
  for (const [role, reserved] of books.reserved) {
    const consumed = out.get(topLevel(role));
    if (consumed !== undefined) addQuantities(consumed, reserved);
  }
  return out;
}

/**
 * The quota state of one allocation run: consumption per quota role, required and available
 * headroom, updated as the run allocates (consumption only grows during a run).
 */
export class QuotaRun {
  /** Consumption per top-level role with quota. */
  private readonly consumed = new Map<string, Quantities>();
  /** Σ max(0, guarantee − consumed), per name. */
  readonly required: Quantities = new Map();
  /** Unreserved resources free on all agents, per name. */
  readonly available: Quantities = new Map();
  /** Top-level roles that still miss part of a guarantee (a set that only shrinks during a run). */
  private readonly unmetTops = new Set<string>();

  constructor(
    books: Books,
    private readonly quotas: ReadonlyMap<string, QuotaMilli>,
  ) {
    for (const [top, consumed] of consumedBy(books, quotas.keys())) this.consumed.set(top, consumed);
    for (const [top, quota] of quotas) {
      const gap = unmet(quota.guarantees, this.consumed.get(top));
      if (gap.size > 0) this.unmetTops.add(top);
      addQuantities(this.required, gap);
    }
    for (const agent of books.agents.values()) addInto(this.available, agent.available.unreserved());
  }

  /** True when some quota role still misses part of its guarantee. */
  anyUnsatisfied(): boolean {
    return this.unmetTops.size > 0;
  }

  /** True when top-level role `top` still misses part of its guarantee. */
  isUnmet(top: string): boolean {
    return this.unmetTops.has(top);
  }

  /** What `top` still misses of its guarantees (names with a positive gap only). */
  unsatisfied(top: string): Quantities {
    const quota = this.quotas.get(top);
    return quota === undefined || !this.unmetTops.has(top) ? new Map() : unmet(quota.guarantees, this.consumed.get(top));
  }

  /** Room under `top`'s limits (limit − consumed, ≥ 0) for limited names; undefined when unlimited. */
  limitRoom(top: string): Quantities | undefined {
    const quota = this.quotas.get(top);
    if (quota === undefined || quota.limits.size === 0) return undefined;
    const consumed = this.consumed.get(top);
    const room: Quantities = new Map();
    for (const [name, limit] of quota.limits) room.set(name, Math.max(0, limit - (consumed?.get(name) ?? 0)));
    return room;
  }

  /** available − required per name (≥ 0): what may go beyond guarantees without eating headroom. */
  surplus(): Quantities {
    const out: Quantities = new Map();
    for (const [name, milli] of this.available) out.set(name, Math.max(0, milli - (this.required.get(name) ?? 0)));
    return out;
  }

  /** True when `top` is at its limit for every one of `names`: no unreserved scalar can go to it. */
  atLimit(top: string, names: Iterable<string>): boolean {
    const room = this.limitRoom(top);
    if (room === undefined) return false;
    for (const name of names) if ((room.get(name) ?? Number.POSITIVE_INFINITY) > 0) return false;
    return true;
  }

  /** Records that `allocated` (unreserved scalars) went to a role under `top`. */
  charge(top: string, allocated: Resources): void {
    const quota = this.quotas.get(top);
    const q = allocated.scalarMilli();
    for (const [name, milli] of q) this.available.set(name, Math.max(0, (this.available.get(name) ?? 0) - milli));
    if (quota === undefined) return;
    const consumed = this.consumed.get(top) ?? new Map<string, number>();
    for (const [name, milli] of q) {
      const before = consumed.get(name) ?? 0;
      const guarantee = quota.guarantees.get(name) ?? 0;
      const after = before + milli;
      consumed.set(name, after);
      // Required headroom falls by how much of the gap this closed.
      const closed = Math.max(0, guarantee - before) - Math.max(0, guarantee - after);
      if (closed > 0) this.required.set(name, Math.max(0, (this.required.get(name) ?? 0) - closed));
    }
    this.consumed.set(top, consumed);
    if (this.unmetTops.has(top) && unmet(quota.guarantees, consumed).size === 0) this.unmetTops.delete(top);
  }
}

function unmet(guarantees: Quantities, consumed: Quantities | undefined): Quantities {
  const out: Quantities = new Map();
  for (const [name, g] of guarantees) {
    const gap = g - (consumed?.get(name) ?? 0);
    if (gap > 0) out.set(name, gap);
  }
  return out;
}
