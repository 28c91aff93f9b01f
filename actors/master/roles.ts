/**
 * Roles in the master, pure: weights and quota set by operators (checked here, so that a
 * bad value is refused with a reason, then kept in the registry and given to the
 * allocator), replayed from the registry after a failover, and reservations made by
 * operators (RESERVE_RESOURCES / UNRESERVE_RESOURCES) once the allocator has applied them.
 */
import type { z } from 'zod';
import type { QuotaView, WeightView } from '../../protocol/operator-api.js';
import { Resources } from '../../protocol/resources.js';
import { AllocatorError } from '../allocator/errors.js';
import { conversionOf, type Conversion, type ResourceOperation } from '../allocator/operations.js';
import { quotaFromText, validateQuota } from '../allocator/quota.js';
import { validateRole } from '../allocator/roles.js';
import { Rejection } from '../runtime/actor.js';
import { agentEntry } from './agents.js';
import type { Step } from './context.js';
import type { RegistryRole } from './registry.js';
import { rescindOffer } from './offers.js';
import { applyConversion } from './reservations.js';
import type { RoleSettings } from './state.js';

function refuse(e: unknown): never {
  if (e instanceof AllocatorError) throw new Rejection('INVALID', e.message);
  throw e;
}

function persist(step: Step, role: string, settings: RoleSettings): void {
  if (settings.weight === undefined && settings.guarantee === undefined && settings.limit === undefined) {
    step.state.roles.delete(role);
    step.registry({ op: 'delete-role', role });
    return;
  }
  step.state.roles.set(role, settings);
  step.registry({ op: 'put-role', role: { role, ...settings } });
}

/** UPDATE_WEIGHTS: every weight is checked before any is set. */
export function updateWeights(step: Step, weights: ReadonlyArray<z.infer<typeof WeightView>>): void {
  for (const { role, weight } of weights) {
    try {
      validateRole(role);
    } catch (e) {
      refuse(e);
    }
    if (!(weight > 0) || !Number.isFinite(weight)) throw new Rejection('INVALID', `weight of role ${role} must be a positive number, not ${weight}`);
  }
  for (const { role, weight } of weights) {
    step.allocator({ op: 'setWeight', role, weight });
    persist(step, role, { ...step.state.roles.get(role), weight });
  }
}

/** UPDATE_QUOTA: a role with neither guarantee nor limit loses its quota. Every quota is checked before any is set. */
export function updateQuota(step: Step, quotas: ReadonlyArray<z.infer<typeof QuotaView>>): void {
  const parsed = quotas.map((q) => {
    if (q.guarantee === undefined && q.limit === undefined) return { q, quota: undefined };
    try {
      const quota = quotaFromText(q.role, q.guarantee, q.limit);
      validateQuota(q.role, quota);
      return { q, quota };
    } catch (e) {
      return refuse(e);
    }
  });
  for (const { q, quota } of parsed) {
    const { weight } = step.state.roles.get(q.role) ?? {};
    if (quota === undefined) step.allocator({ op: 'removeQuota', role: q.role });
    else step.allocator({ op: 'setQuota', role: q.role, quota });
    persist(step, q.role, { ...(weight !== undefined && { weight }), ...(q.guarantee !== undefined && { guarantee: q.guarantee }), ...(q.limit !== undefined && { limit: q.limit }) });
  }
}

/** Roles from the registry after a failover: their weights and quota go to the allocator again. */
export function recoverRoles(step: Step, roles: readonly RegistryRole[]): void {
  for (const { role, weight, guarantee, limit } of roles) {
    step.state.roles.set(role, { ...(weight !== undefined && { weight }), ...(guarantee !== undefined && { guarantee }), ...(limit !== undefined && { limit }) });
    if (weight !== undefined) step.allocator({ op: 'setWeight', role, weight });
    if (guarantee !== undefined || limit !== undefined) {
      try {
        step.allocator({ op: 'setQuota', role, quota: quotaFromText(role, guarantee, limit) });
      } catch {
        step.log('warn', `the registry holds a quota of role ${role} that no longer parses; it is ignored`);
      }
    }
  }
}

/** An operator's RESERVE_RESOURCES / UNRESERVE_RESOURCES, checked, with the agent's offers rescinded so that the resources are free. */
export function prepareReservation(step: Step, type: 'RESERVE' | 'UNRESERVE', agentId: string, text: string): { operation: ResourceOperation; conversion: Conversion } {
  const agent = step.state.agents.get(agentId);
  if (agent === undefined || agent.status !== 'active') throw new Rejection('UNKNOWN_AGENT', `agent ${agentId} is not active: list agents with \`nesos agents\``);
  const parsed = Resources.tryParse(text);
  if (!parsed.ok) throw new Rejection('INVALID', `resources "${text}": ${parsed.error.message}`);
  const operation: ResourceOperation = { type, resources: parsed.value };
  let conversion: Conversion;
  try {
    conversion = conversionOf(operation);
  } catch (e) {
    return refuse(e);
  }
  if (!agent.total.contains(conversion.from)) {
    throw new Rejection('INVALID', `agent ${agentId} does not have ${conversion.from.toString()} (it has ${agent.total.toString()})`);
  }
  for (const offerId of [...agent.offers]) rescindOffer(step, offerId, true);
  return { operation, conversion };
}

/** The allocator applied an operator's reservation: the agent's total and the registry follow. */
export function reservationApplied(step: Step, agentId: string, conversion: Conversion): void {
  const agent = step.state.agents.get(agentId);
  if (agent === undefined) return;
  agent.checkpointed = applyConversion(agent, conversion);
  step.registry({ op: 'put-agent', agent: agentEntry(agent.info, agent.registeredAtMs, agent.checkpointed, agent.deactivated === true) });
}
