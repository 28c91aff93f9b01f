// Offer filters: when a framework hands resources back with `refuse_seconds`, it is not
// offered those resources on that agent again until the filter expires. As Mesos's
// `RefusedOfferFilter`, a filter only hides offers it covers: if more has become free on the
// agent than was refused, the larger offer goes through.
import type { Resources } from '../../protocol/resources.js';

/** A framework's refusal of `refused` on one agent, in force while `now < expiresAt` (ms). */
export interface RefusalFilter {
  readonly refused: Resources;
  readonly expiresAt: number;
}

/** The refusal filters of every framework, by framework then agent. */
export class OfferFilters {
  private readonly byFramework = new Map<string, Map<string, RefusalFilter[]>>();

  /** Adds a filter for `frameworkId` on `agentId`. */
  add(frameworkId: string, agentId: string, refused: Resources, expiresAt: number): void {
    let byAgent = this.byFramework.get(frameworkId);
    if (byAgent === undefined) {
      byAgent = new Map();
      this.byFramework.set(frameworkId, byAgent);
    }
    const list = byAgent.get(agentId) ?? [];
    list.push({ refused, expiresAt });
    byAgent.set(agentId, list);
  }

  /** True when an unexpired filter of `frameworkId` on `agentId` covers all of `candidate`. */
  filters(frameworkId: string, agentId: string, candidate: Resources, now: number): boolean {
    const list = this.byFramework.get(frameworkId)?.get(agentId) ?? [];
    return list.some((f) => now < f.expiresAt && f.refused.contains(candidate));
  }

  /** Drops every filter that has expired at `now`. */
  expire(now: number): void {
    for (const [frameworkId, byAgent] of this.byFramework) {
      for (const [agentId, list] of byAgent) {
        const live = list.filter((f) => now < f.expiresAt);
        if (live.length === 0) byAgent.delete(agentId);
        else byAgent.set(agentId, live);
      }
      if (byAgent.size === 0) this.byFramework.delete(frameworkId);
    }
  }

  /** Drops every filter of a framework (revive, removal). */
  clearFramework(frameworkId: string): void {
    this.byFramework.delete(frameworkId);
  }

  /** Drops every filter on an agent (agent removed). */
  clearAgent(agentId: string): void {
    for (const [frameworkId, byAgent] of this.byFramework) {
      byAgent.delete(agentId);
      if (byAgent.size === 0) this.byFramework.delete(frameworkId);
    }
  }

  /** Number of filters held (expired ones included until `expire`). */
  count(): number {
    let n = 0;
    for (const byAgent of this.byFramework.values()) {
      for (const list of byAgent.values()) n += list.length;
    }
    return n;
  }
}
