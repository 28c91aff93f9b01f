// Offer filters: when a framework hands resources back with `refuse_seconds`, it is not
// offered those resources on that agent again until the filter expires. As Mesos's
// `RefusedOfferFilter`, a filter only hides offers it covers: if more has become free on the
// agent than was refused, the larger offer goes through.
//
// Expired filters are ignored at once and swept lazily: only when `now` passes the earliest
// expiry held, so a run over many long filters (the DeclineOffers benchmark) costs nothing.
import type { Resources } from '../../protocol/resources.js';

/** A framework's refusal of `refused` on one agent, in force while `now < expiresAt` (ms). */
export interface RefusalFilter {
  readonly refused: Resources;
  readonly expiresAt: number;
}

/** The refusal filters of every framework, by framework then agent. */
export class OfferFilters {
  private readonly byFramework = new Map<string, Map<string, RefusalFilter[]>>();
  private held = 0;
  private earliest = Number.POSITIVE_INFINITY;

  /** Adds a filter for `frameworkId` on `agentId`. */
  add(frameworkId: string, agentId: string, refused: Resources, expiresAt: number): void {
    let byAgent = this.byFramework.get(frameworkId);
    if (byAgent === undefined) {
      byAgent = new Map();
      this.byFramework.set(frameworkId, byAgent);
    }
    const list = byAgent.get(agentId);
    if (list === undefined) byAgent.set(agentId, [{ refused, expiresAt }]);
    else list.push({ refused, expiresAt });
    this.held += 1;
    if (expiresAt < this.earliest) this.earliest = expiresAt;
  }

  /** True when an unexpired filter of `frameworkId` on `agentId` covers all of `candidate`. */
  filters(frameworkId: string, agentId: string, candidate: Resources, now: number): boolean {
    const list = this.byFramework.get(frameworkId)?.get(agentId);
    if (list === undefined) return false;
    for (const f of list) if (now < f.expiresAt && f.refused.contains(candidate)) return true;
    return false;
  }

  /** True when `frameworkId` has an unexpired filter on `agentId`, whatever it covers. */
  hasAny(frameworkId: string, agentId: string, now: number): boolean {
    return this.byFramework.get(frameworkId)?.get(agentId)?.some((f) => now < f.expiresAt) ?? false;
  }

  /** Drops every filter that has expired at `now` (a no-op until the earliest expiry passes). */
  expire(now: number): void {
    if (now < this.earliest) return;
    let earliest = Number.POSITIVE_INFINITY;
    for (const [frameworkId, byAgent] of this.byFramework) {
      for (const [agentId, list] of byAgent) {
        const live = list.filter((f) => now < f.expiresAt);
        this.held -= list.length - live.length;
        for (const f of live) if (f.expiresAt < earliest) earliest = f.expiresAt;
        if (live.length === 0) byAgent.delete(agentId);
        else byAgent.set(agentId, live);
      }
      if (byAgent.size === 0) this.byFramework.delete(frameworkId);
    }
    this.earliest = earliest;
  }

  /** Drops every filter of a framework (revive, removal). */
  clearFramework(frameworkId: string): void {
    const byAgent = this.byFramework.get(frameworkId);
    if (byAgent === undefined) return;
    for (const list of byAgent.values()) this.held -= list.length;
    this.byFramework.delete(frameworkId);
  }

  /** Drops every filter on an agent (agent removed). */
  clearAgent(agentId: string): void {
    for (const [frameworkId, byAgent] of this.byFramework) {
      this.held -= byAgent.get(agentId)?.length ?? 0;
      byAgent.delete(agentId);
      if (byAgent.size === 0) this.byFramework.delete(frameworkId);
    }
  }

  /** Number of filters held (expired ones included until swept). */
  count(): number {
    return this.held;
  }
}
