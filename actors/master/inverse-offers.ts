/**
 * Inverse offers in the master, pure (Mesos's maintenance primitives). While an agent is
 * DRAINING, every connected framework that holds resources there (a live task, a custom
 * executor, an outstanding offer) gets an inverse offer: "release this agent by
 * `unavailability.start`, for `unavailability.durationMs`". It answers ACCEPT_INVERSE_OFFERS
 * or DECLINE_INVERSE_OFFERS; the master records its latest answer per agent (UNKNOWN until
 * then), which operators read in the maintenance status. After an answer the agent's inverse
 * offers do not go to that framework for the answer's refuse_seconds (default 5 s); then,
 * if the framework still holds resources there, it is asked again (as Mesos's allocator does).
 *
 * `syncInverseOffers` does all of it from the state and the step's time, so that it can run
 * on every tick and after every maintenance call: it rescinds inverse offers whose agent is
 * no longer DRAINING with the same window (schedule changed, agent DOWN or not active) or that
 * were outstanding for the offer timeout, silently drops those of frameworks that went away or
 * disconnected, forgets answers about a window that is no longer the agent's, and makes the
 * inverse offers that are due, one INVERSE_OFFERS event per framework.
 */
import type { InverseOffer, Unavailability } from '../../protocol/schema.js';
import type { Filters } from '../../protocol/scheduler.js';
import { isTerminal } from '../../protocol/task-state.js';
import { Rejection } from '../runtime/actor.js';
import type { Step } from './context.js';
import { unavailabilityOf } from './maintenance.js';
import type { AgentInverseOfferResponses, AgentRecord, FrameworkRecord, InverseOfferRecord, MaintenanceState } from './state.js';

/** An answer a framework can give. */
export type InverseOfferAnswer = 'ACCEPT' | 'DECLINE';

function sameWindow(a: Unavailability | undefined, b: Unavailability | undefined): boolean {
  return a?.start === b?.start && a?.durationMs === b?.durationMs;
}

function pairKey(agentId: string, frameworkId: string): string {
  return `${agentId}\u0000${frameworkId}`;
}

/** The frameworks holding resources on an agent: live tasks, custom executors, outstanding offers. */
export function holdersOf(step: Step, agent: AgentRecord): Set<string> {
  const holders = new Set<string>();
  for (const key of agent.tasks) {
    const task = step.state.tasks.get(key);
    if (task !== undefined && !isTerminal(task.state)) holders.add(task.frameworkId);
  }
  for (const executor of agent.executors?.values() ?? []) holders.add(executor.frameworkId);
  for (const offerId of agent.offers) {
    const offer = step.state.offers.get(offerId);
    if (offer !== undefined) holders.add(offer.frameworkId);
  }
  return holders;
}

/** Why an outstanding inverse offer no longer stands (`rescind`: tell the framework), or undefined. */
function staleness(step: Step, offer: InverseOfferRecord): { rescind: boolean; why: string } | undefined {
  const m = step.state.maintenance;
  const framework = step.state.frameworks.get(offer.frameworkId);
  if (framework === undefined) return { rescind: false, why: 'its framework was removed' };
  if (!framework.connected) return { rescind: false, why: 'its framework disconnected' };
  if (step.state.agents.get(offer.agentId)?.status !== 'active') return { rescind: true, why: `agent ${offer.agentId} is not active` };
  if (!sameWindow(unavailabilityOf(m, offer.agentId), offer.unavailability)) return { rescind: true, why: `agent ${offer.agentId}'s maintenance window changed or it is no longer DRAINING` };
  const timeout = step.config.offerTimeoutMs;
  if (timeout > 0 && step.now - offer.createdAtMs >= timeout) return { rescind: true, why: 'it was outstanding for the offer timeout' };
  return undefined;
}

/** The answers about an agent's window `unavailability`, made empty if they were about another. */
function answersFor(m: MaintenanceState, agentId: string, unavailability: Unavailability): AgentInverseOfferResponses {
  const known = m.responses.get(agentId);
  if (known !== undefined && sameWindow(known.unavailability, unavailability)) return known;
  const fresh: AgentInverseOfferResponses = { unavailability, byFramework: new Map() };
  m.responses.set(agentId, fresh);
  return fresh;
}

/** Rescinds, drops and makes inverse offers so that they match the schedule, the agents and the frameworks now. */
export function syncInverseOffers(step: Step): void {
  const m = step.state.maintenance;
  if (m.windows.length === 0 && m.inverseOffers.size === 0 && m.responses.size === 0) return;

  for (const offer of [...m.inverseOffers.values()]) {
    const stale = staleness(step, offer);
    if (stale === undefined) continue;
    m.inverseOffers.delete(offer.id);
    if (stale.rescind) step.toFramework(offer.frameworkId, { type: 'RESCIND_INVERSE_OFFER', inverseOfferId: offer.id });
    step.log('info', 'inverse offer withdrawn', { inverseOfferId: offer.id, frameworkId: offer.frameworkId, agentId: offer.agentId, why: stale.why });
  }

  for (const [agentId, answers] of m.responses) {
    if (!sameWindow(unavailabilityOf(m, agentId), answers.unavailability)) {
      m.responses.delete(agentId);
      continue;
    }
    for (const frameworkId of [...answers.byFramework.keys()]) {
      if (!step.state.frameworks.has(frameworkId)) answers.byFramework.delete(frameworkId);
    }
  }

  const outstanding = new Set([...m.inverseOffers.values()].map((o) => pairKey(o.agentId, o.frameworkId)));
  const byFramework = new Map<string, InverseOffer[]>();
  for (const window of m.windows) {
    for (const agentId of window.agentIds) {
      const agent = step.state.agents.get(agentId);
      const unavailability = unavailabilityOf(m, agentId);
      if (agent?.status !== 'active' || unavailability === undefined) continue;
      for (const frameworkId of holdersOf(step, agent)) {
        if (step.state.frameworks.get(frameworkId)?.connected !== true || outstanding.has(pairKey(agentId, frameworkId))) continue;
        const answers = answersFor(m, agentId, unavailability);
        const answer = answers.byFramework.get(frameworkId);
        if (answer !== undefined && step.now < answer.refuseUntilMs) continue;
        const record: InverseOfferRecord = { id: step.newId('inverse-offer'), frameworkId, agentId, unavailability, createdAtMs: step.now };
        m.inverseOffers.set(record.id, record);
        if (answer === undefined) answers.byFramework.set(frameworkId, { status: 'UNKNOWN', updatedAtMs: step.now, refuseUntilMs: step.now });
        const list = byFramework.get(frameworkId) ?? [];
        list.push({ id: record.id, frameworkId, agentId, hostname: agent.hostname, unavailability: { ...unavailability } });
        byFramework.set(frameworkId, list);
      }
    }
  }
  for (const [frameworkId, inverseOffers] of byFramework) {
    step.toFramework(frameworkId, { type: 'INVERSE_OFFERS', inverseOffers });
    step.log('info', 'inverse offers sent', { frameworkId, agents: inverseOffers.map((o) => o.agentId) });
  }
}

/**
 * ACCEPT_INVERSE_OFFERS / DECLINE_INVERSE_OFFERS: every id must be an outstanding inverse
 * offer of the framework (else REJECTED UNKNOWN_INVERSE_OFFER or WRONG_FRAMEWORK, and nothing
 * is recorded). Each answered inverse offer is closed, the framework's answer for its agent
 * recorded, and the agent's inverse offers do not go to the framework for
 * `filters.refuseSeconds` (default the master's, 5 s).
 */
export function answerInverseOffers(step: Step, framework: FrameworkRecord, ids: readonly string[], answer: InverseOfferAnswer, filters: Filters | undefined): void {
  const m = step.state.maintenance;
  const offers = [...new Set(ids)].map((id) => {
    const offer = m.inverseOffers.get(id);
    if (offer === undefined) throw new Rejection('UNKNOWN_INVERSE_OFFER', `inverse offer ${id} is unknown, already answered or rescinded`);
    if (offer.frameworkId !== framework.id) throw new Rejection('WRONG_FRAMEWORK', `inverse offer ${id} belongs to another framework`);
    return offer;
  });
  const refuseMs = (filters?.refuseSeconds ?? step.config.defaultRefuseSeconds) * 1000;
  for (const offer of offers) {
    m.inverseOffers.delete(offer.id);
    answersFor(m, offer.agentId, offer.unavailability).byFramework.set(framework.id, { status: answer, updatedAtMs: step.now, refuseUntilMs: step.now + refuseMs });
  }
  step.log('info', `inverse offers ${answer === 'ACCEPT' ? 'accepted' : 'declined'}`, { frameworkId: framework.id, agents: offers.map((o) => o.agentId), refuseSeconds: refuseMs / 1000 });
}

/** A framework (re)subscribed: its outstanding inverse offers are dropped without RESCIND; new ones follow on the next sync. */
export function forgetInverseOffers(step: Step, frameworkId: string): void {
  const m = step.state.maintenance;
  for (const offer of [...m.inverseOffers.values()]) {
    if (offer.frameworkId === frameworkId) m.inverseOffers.delete(offer.id);
  }
}
