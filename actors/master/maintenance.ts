/**
 * Maintenance in the master, pure: Mesos's maintenance primitives, with agents in place of
 * machines. An agent's mode is
 * - UP: not in the schedule;
 * - DRAINING: in a window of the schedule (whatever the time): it is still offered, and its
 *   offers carry the window as `unavailability`, so frameworks can move work away in time;
 * - DOWN: START_MAINTENANCE took it down: its offers are rescinded, it leaves the allocator,
 *   its tasks are killed on the agent and recorded as TASK_GONE_BY_OPERATOR (TASK_LOST for
 *   frameworks that are not partition-aware), frameworks get FAILURE for it, and it may not
 *   register (AGENT_DOWN) until STOP_MAINTENANCE brings it UP and out of the schedule.
 * Refusals are typed: a malformed schedule is INVALID; a call the agent's mode does not
 * allow is WRONG_MODE (START needs DRAINING, STOP needs DOWN, a DOWN agent must stay in the
 * schedule). The schedule and the DOWN agents are one registry value, so they survive failover.
 * Inverse offers to the frameworks on DRAINING agents, and their answers, are in inverse-offers.ts.
 */
import type { InverseOfferStatus, MaintenanceAgentStatus, MaintenanceMode, MaintenanceView, MaintenanceWindow } from '../../protocol/operator-api.js';
import type { Offer, Unavailability } from '../../protocol/schema.js';
import { TaskReason, TaskState, isTerminal } from '../../protocol/task-state.js';
import { Rejection } from '../runtime/actor.js';
import type { Step } from './context.js';
import { rescindOffer } from './offers.js';
import type { RegistryMaintenance } from './registry.js';
import { inAllocator, type AgentRecord, type MaintenanceState } from './state.js';
import { isPartitionAware, setTaskState } from './tasks.js';

/** The most agents the schedule may hold (it is one registry value, below NATS's 4 MiB payload). */
export const MAX_SCHEDULED_AGENTS = 10_000;

/** The window an agent is scheduled in, if any. */
export function windowOf(m: MaintenanceState, agentId: string): MaintenanceWindow | undefined {
  return m.windows.find((w) => w.agentIds.includes(agentId));
}

/** An agent's maintenance mode. */
export function modeOf(m: MaintenanceState, agentId: string): MaintenanceMode {
  if (m.down.has(agentId)) return 'DOWN';
  return windowOf(m, agentId) === undefined ? 'UP' : 'DRAINING';
}

/**
 * The schedule and the status of every scheduled agent, in schedule order: its mode and, while
 * DRAINING, the frameworks' latest answers to its inverse offers (see inverse-offers.ts) about
 * its current window.
 */
export function maintenanceView(m: MaintenanceState): MaintenanceView {
  return {
    windows: m.windows.map((w) => ({ ...w, agentIds: [...w.agentIds] })),
    agents: m.windows.flatMap((w) => w.agentIds.map((agentId) => agentStatus(m, agentId))),
  };
}

function agentStatus(m: MaintenanceState, agentId: string): MaintenanceAgentStatus {
  if (m.down.has(agentId)) return { agentId, mode: 'DOWN' };
  const answers = m.responses.get(agentId);
  const current = answers !== undefined && sameUnavailability(answers.unavailability, unavailabilityOf(m, agentId)) ? [...answers.byFramework] : [];
  const statuses: InverseOfferStatus[] = current.map(([frameworkId, r]) => ({ frameworkId, status: r.status, updatedAt: r.updatedAtMs }));
  return { agentId, mode: 'DRAINING', ...(statuses.length > 0 && { statuses }) };
}

/** The unavailability an offer of the agent carries: its window while DRAINING. */
export function unavailabilityOf(m: MaintenanceState, agentId: string): Unavailability | undefined {
  const window = m.down.has(agentId) ? undefined : windowOf(m, agentId);
  return window === undefined ? undefined : { start: window.start, durationMs: window.durationMs };
}

/** Adds `unavailability` to the offers of DRAINING agents in the OFFERS events this step queued. */
export function annotateOffers(step: Step): void {
  const m = step.state.maintenance;
  if (m.windows.length === 0) return;
  for (const effect of step.effects) {
    if (effect.kind !== 'to-framework' || effect.message.type !== 'OFFERS') continue;
    const offers: Offer[] = effect.message.offers.map((offer) => {
      const unavailability = unavailabilityOf(m, offer.agentId);
      return unavailability === undefined ? offer : { ...offer, unavailability };
    });
    effect.message = { ...effect.message, offers };
  }
}

function persist(step: Step): void {
  const m = step.state.maintenance;
  const maintenance: RegistryMaintenance = { windows: m.windows, down: [...m.down] };
  step.registry({ op: 'put-maintenance', maintenance });
}

function sameUnavailability(a: Unavailability | undefined, b: Unavailability | undefined): boolean {
  return a?.start === b?.start && a?.durationMs === b?.durationMs;
}

/**
 * UPDATE_MAINTENANCE_SCHEDULE: replaces the schedule. An agent may be in one window only,
 * and an agent that is DOWN must stay scheduled. Agents whose unavailability changes have
 * their offers rescinded, so that they are offered again with (or without) it.
 */
export function updateSchedule(step: Step, windows: readonly MaintenanceWindow[]): void {
  const m = step.state.maintenance;
  const seen = new Set<string>();
  for (const w of windows) {
    for (const agentId of w.agentIds) {
      if (seen.has(agentId)) throw new Rejection('INVALID', `agent ${agentId} is in more than one maintenance window: an agent may be scheduled once`);
      seen.add(agentId);
    }
  }
  if (seen.size > MAX_SCHEDULED_AGENTS) throw new Rejection('INVALID', `the schedule names ${seen.size} agents; at most ${MAX_SCHEDULED_AGENTS} may be scheduled at once`);
  for (const agentId of m.down) {
    if (!seen.has(agentId)) throw new Rejection('WRONG_MODE', `agent ${agentId} is DOWN and must stay in the schedule: bring it up with STOP_MAINTENANCE (\`nesos maintenance stop ${agentId}\`)`);
  }
  const before = new Map([...m.windows.flatMap((w) => w.agentIds)].map((id) => [id, unavailabilityOf(m, id)]));
  m.windows = windows.map((w) => ({ agentIds: [...w.agentIds], start: w.start, durationMs: w.durationMs }));
  for (const agentId of new Set([...before.keys(), ...seen])) {
    if (sameUnavailability(before.get(agentId), unavailabilityOf(m, agentId))) continue;
    const agent = step.state.agents.get(agentId);
    for (const offerId of [...(agent?.offers ?? [])]) rescindOffer(step, offerId, true);
  }
  persist(step);
  step.log('info', 'maintenance schedule updated', { windows: m.windows.length, agents: seen.size });
}

/** START_MAINTENANCE: takes DRAINING agents DOWN. Every agent is checked before any goes down. */
export function startMaintenance(step: Step, agentIds: readonly string[]): void {
  const m = step.state.maintenance;
  const ids = [...new Set(agentIds)];
  for (const agentId of ids) {
    const mode = modeOf(m, agentId);
    if (mode === 'UP') throw new Rejection('WRONG_MODE', `agent ${agentId} is not in the maintenance schedule: schedule it first (\`nesos maintenance schedule ${agentId}\`)`);
    if (mode === 'DOWN') throw new Rejection('WRONG_MODE', `agent ${agentId} is DOWN already`);
  }
  for (const agentId of ids) {
    m.down.add(agentId);
    const agent = step.state.agents.get(agentId);
    if (agent !== undefined && agent.status !== 'gone') takeDown(step, agent);
  }
  persist(step);
  step.log('info', 'maintenance started', { agents: ids });
}

/** An agent goes DOWN: no offers, out of the allocator, its tasks killed and ended, frameworks told. */
function takeDown(step: Step, agent: AgentRecord): void {
  const wasCounted = inAllocator(agent);
  agent.status = 'down';
  agent.reregisterDeadlineMs = undefined;
  for (const offerId of [...agent.offers]) rescindOffer(step, offerId, false);
  if (wasCounted) step.allocator({ op: 'removeAgent', agentId: agent.id });
  for (const key of [...agent.tasks]) {
    const task = step.state.tasks.get(key);
    if (task === undefined || isTerminal(task.state)) continue;
    step.toAgent(agent.id, { type: 'KILL_TASK', frameworkId: task.frameworkId, taskId: task.info.taskId });
    task.resourcesRecovered = true; // the allocator dropped the agent with everything on it
    const aware = isPartitionAware(step.state.frameworks.get(task.frameworkId));
    setTaskState(step, task, aware ? TaskState.GONE_BY_OPERATOR : TaskState.LOST, TaskReason.AGENT_REMOVED, `agent ${agent.id} went down for maintenance`);
  }
  for (const framework of step.state.frameworks.values()) {
    if (framework.connected) step.toFramework(framework.id, { type: 'FAILURE', agentId: agent.id });
  }
}

/**
 * STOP_MAINTENANCE: DOWN agents come back UP and leave the schedule (windows left empty are
 * dropped). Each must register again; until then it is listed as unreachable.
 */
export function stopMaintenance(step: Step, agentIds: readonly string[]): void {
  const m = step.state.maintenance;
  const ids = new Set(agentIds);
  for (const agentId of ids) {
    if (!m.down.has(agentId)) throw new Rejection('WRONG_MODE', `agent ${agentId} is ${modeOf(m, agentId)}, not DOWN: only DOWN agents can be brought up`);
  }
  for (const agentId of ids) {
    m.down.delete(agentId);
    const agent = step.state.agents.get(agentId);
    if (agent?.status === 'down') agent.status = 'unreachable';
  }
  m.windows = m.windows.map((w) => ({ ...w, agentIds: w.agentIds.filter((id) => !ids.has(id)) })).filter((w) => w.agentIds.length > 0);
  persist(step);
  step.log('info', 'maintenance stopped', { agents: [...ids] });
}

/** REGISTER_AGENT of a DOWN agent is refused until STOP_MAINTENANCE. */
export function refuseIfDown(step: Step, agentId: string): void {
  if (step.state.maintenance.down.has(agentId)) {
    throw new Rejection('AGENT_DOWN', `agent ${agentId} is DOWN for maintenance: it may register again once brought up (\`nesos maintenance stop ${agentId}\`)`);
  }
}

/** The schedule from the registry after a failover: DOWN agents stay down. */
export function recoverMaintenance(step: Step, record: RegistryMaintenance | undefined): void {
  if (record === undefined) return;
  const m = step.state.maintenance;
  m.windows = record.windows.map((w) => ({ agentIds: [...w.agentIds], start: w.start, durationMs: w.durationMs }));
  m.down = new Set(record.down);
  for (const agentId of m.down) {
    const agent = step.state.agents.get(agentId);
    if (agent === undefined || agent.status === 'gone') continue;
    agent.status = 'down';
    agent.reregisterDeadlineMs = undefined;
  }
}
