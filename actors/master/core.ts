/**
 * The master's pure core: registry state plus one method per kind of input, each
 * returning the reply (for requests) and the effects for the shell to perform. It never
 * touches NATS, never reads the clock (every input carries `now`), and makes ids only
 * through the generator it is given.
 */
import type { AgentToMaster } from '../../protocol/agent.js';
import type { OperatorApiCall } from '../../protocol/operator-api.js';
import type { SchedulerCall } from '../../protocol/scheduler.js';
import type { StoredStatus } from '../../protocol/updates.js';
import type { ReplyMessage } from '../runtime/actor.js';
import { checkAgentHealth, markUnreachable, onAgentHeartbeat, onExecutorToFramework, onExitedExecutor, onRegisterAgent, onTasksUnknown, recoverAgent } from './agents.js';
import { Step, type MasterConfig } from './context.js';
import type { MasterEffect } from './effects.js';
import {
  callerFramework,
  checkFrameworks,
  onFrameworkHeartbeatResult,
  onMessage,
  onRevive,
  onSubscribe,
  onSuppress,
  recoverFramework,
  removeFramework,
} from './frameworks.js';
import { answerInverseOffers, forgetInverseOffers, syncInverseOffers } from './inverse-offers.js';
import { annotateOffers, maintenanceView, recoverMaintenance, refuseIfDown, startMaintenance, stopMaintenance, updateSchedule } from './maintenance.js';
import { expireOffers, makeOffers, onAccept, onDecline, type Allocation } from './offers.js';
import { boundOfferEvents, withdrawUndelivered } from './offer-events.js';
import { deactivateAgent, drainAgent, finishDrains, killTask, markAgentGone, reactivateAgent, teardownFramework } from './operator.js';
import type { RegistryContents } from './registry.js';
import { prepareReservation, recoverRoles, reservationApplied, updateQuota, updateWeights } from './roles.js';
import type { Conversion, ResourceOperation } from '../allocator/operations.js';
import { emptyState, taskKey, type MasterState } from './state.js';
import { onKill, onReconcile, onStatusUpdate } from './tasks.js';

/** What a step produced: the reply to send (requests only) and effects to perform. */
export interface StepResult {
  reply: ReplyMessage;
  effects: MasterEffect[];
}

const OK = (epoch: number): ReplyMessage => ({ type: 'OK', epoch });

/** The longest a tick leaves every agent unlooked at: silence is noticed at most this late. */
export const AGENT_SCAN_MAX_MS = 1000;

/** The master's decision logic. */
export class MasterCore {
  /** The registry (read it; change it only through the methods). */
  readonly state: MasterState = emptyState();
  /** The settings. */
  readonly config: MasterConfig;
  private readonly newId: (prefix: string) => string;
  /** When the next tick looks at every agent (silence, re-registration deadlines, drains). */
  private nextAgentScanMs = 0;

  constructor(config: MasterConfig, newId: (prefix: string) => string) {
    this.config = config;
    this.newId = newId;
  }

  private step(now: number): Step {
    return new Step(this.state, this.config, now, this.newId);
  }

  /**
   * Starts a term from the registry: agents become `recovering` (they have
   * `agentReregisterTimeoutMs` to register again with their tasks), frameworks are known but
   * disconnected (they have their failover timeout, at least `frameworkReregisterTimeoutMs`).
   */
  recover(contents: RegistryContents, now: number): MasterEffect[] {
    const step = this.step(now);
    recoverRoles(step, contents.roles ?? []);
    for (const framework of contents.frameworks) recoverFramework(step, framework.info, framework.registeredAt);
    for (const agent of contents.agents) recoverAgent(step, agent);
    recoverMaintenance(step, contents.maintenance);
    return step.effects;
  }

  /** A message from agent `principal` (the subject's last token). Throws `Rejection` to refuse. */
  onAgentMessage(msg: AgentToMaster, principal: string, now: number): StepResult {
    const step = this.step(now);
    const agentId = msg.type === 'REGISTER_AGENT' ? msg.agent.id : msg.agentId;
    if (msg.type !== 'REGISTER_AGENT' && agentId !== principal) {
      return { reply: { type: 'REJECTED', code: 'WRONG_PRINCIPAL', reason: `agent ${principal} cannot speak for agent ${agentId}`, epoch: this.config.epoch }, effects: [] };
    }
    if (msg.type !== 'REGISTER_AGENT' && msg.type !== 'HEARTBEAT') {
      const agent = this.state.agents.get(agentId);
      if (agent === undefined || agent.status !== 'active') {
        return { reply: { type: 'REJECTED', code: 'UNKNOWN_AGENT', reason: `agent ${agentId} is not registered: register again`, epoch: this.config.epoch }, effects: [] };
      }
      agent.lastSeenMs = now;
    }
    let reply = OK(this.config.epoch);
    switch (msg.type) {
      case 'REGISTER_AGENT':
        refuseIfDown(step, agentId);
        reply = onRegisterAgent(step, msg, principal);
        break;
      case 'HEARTBEAT':
        reply = onAgentHeartbeat(step, msg.agentId);
        break;
      case 'EXITED_EXECUTOR':
        onExitedExecutor(step, msg);
        break;
      case 'EXECUTOR_TO_FRAMEWORK':
        onExecutorToFramework(step, msg);
        break;
      case 'TASKS_UNKNOWN':
        onTasksUnknown(step, msg.agentId, msg.tasks);
        break;
    }
    return { reply, effects: step.effects };
  }

  /** A call from framework principal `principal`. Throws `Rejection` to refuse. */
  onSchedulerCall(call: SchedulerCall, principal: string, now: number): StepResult {
    const step = this.step(now);
    if (call.type === 'SUBSCRIBE') {
      onSubscribe(step, call, principal);
      forgetInverseOffers(step, call.framework.id);
      return { reply: OK(this.config.epoch), effects: step.effects };
    }
    const framework = callerFramework(step, call.frameworkId, principal);
    switch (call.type) {
      case 'TEARDOWN':
        removeFramework(step, framework, 'framework was torn down');
        break;
      case 'ACCEPT':
        onAccept(step, framework, call);
        break;
      case 'DECLINE':
        onDecline(step, framework, call);
        break;
      case 'REVIVE':
        onRevive(step, framework, call.roles);
        break;
      case 'SUPPRESS':
        onSuppress(step, framework, call.roles);
        break;
      case 'KILL':
        onKill(step, framework, call);
        break;
      case 'RECONCILE':
        onReconcile(step, framework, call);
        break;
      case 'MESSAGE':
        onMessage(step, framework, call);
        break;
      case 'ACCEPT_INVERSE_OFFERS':
      case 'DECLINE_INVERSE_OFFERS':
        answerInverseOffers(step, framework, call.inverseOfferIds, call.type === 'ACCEPT_INVERSE_OFFERS' ? 'ACCEPT' : 'DECLINE', call.filters);
        break;
    }
    return { reply: OK(this.config.epoch), effects: step.effects };
  }

  /**
   * A status update read from the updates stream (the master's consumer; `seq` is its
   * stream sequence). The shell acknowledges it to the stream once this returns.
   */
  onStatusUpdate(frameworkId: string, status: StoredStatus, seq: number, now: number): MasterEffect[] {
    const step = this.step(now);
    onStatusUpdate(step, frameworkId, status, seq);
    return step.effects;
  }

  /**
   * True when the master has applied an update of the task (live or ended) newer than
   * stream sequence `afterSeq`: a master-made update decided on `afterSeq` is then stale
   * (the newer update was answered when it was applied).
   */
  appliedAfter(frameworkId: string, taskId: string, afterSeq: number): boolean {
    const key = taskKey(frameworkId, taskId);
    const task = this.state.tasks.get(key) ?? this.state.completedTasks.get(key);
    return task?.lastUpdateSeq !== undefined && task.lastUpdateSeq > afterSeq;
  }

  /**
   * The allocator decided: offer these resources, in OFFERS events of bounded count and
   * size (see offer-events.ts).
   */
  onAllocations(decisions: readonly Allocation[], now: number): MasterEffect[] {
    const step = this.step(now);
    makeOffers(step, decisions);
    annotateOffers(step);
    boundOfferEvents(step);
    return step.effects;
  }

  /** The shell could not publish an OFFERS event: its offers are withdrawn and their resources recovered. */
  onOffersUndelivered(frameworkId: string, offerIds: readonly string[], now: number): MasterEffect[] {
    const step = this.step(now);
    withdrawUndelivered(step, frameworkId, offerIds);
    return step.effects;
  }

  /** A framework answered a HEARTBEAT request, or did not. */
  onFrameworkHeartbeat(frameworkId: string, answered: boolean, now: number): MasterEffect[] {
    const step = this.step(now);
    onFrameworkHeartbeatResult(step, frameworkId, answered);
    return step.effects;
  }

  /** Time passed: silent agents become unreachable, heartbeats are due, failover timeouts end, drains finish, inverse offers follow. */
  onTick(now: number): MasterEffect[] {
    const step = this.step(now);
    // every agent, at most every AGENT_SCAN_MAX_MS (half a heartbeat interval when shorter):
    // at 50,000 agents a scan on every 100 ms tick was 4% of a busy master's time
    if (now >= this.nextAgentScanMs) {
      this.nextAgentScanMs = now + Math.min(AGENT_SCAN_MAX_MS, this.config.agentHeartbeatIntervalMs / 2);
      checkAgentHealth(step);
      finishDrains(step);
    }
    checkFrameworks(step);
    expireOffers(step);
    syncInverseOffers(step);
    return step.effects;
  }

  /**
   * An operator's RESERVE_RESOURCES / UNRESERVE_RESOURCES, first half: checked, and the
   * agent's offers rescinded. The shell has the allocator apply `operation`, then calls
   * `onReservationApplied`. Throws `Rejection` to refuse.
   */
  prepareReservation(type: 'RESERVE' | 'UNRESERVE', agentId: string, resources: string, now: number): { operation: ResourceOperation; conversion: Conversion; effects: MasterEffect[] } {
    const step = this.step(now);
    const { operation, conversion } = prepareReservation(step, type, agentId, resources);
    return { operation, conversion, effects: step.effects };
  }

  /** The allocator applied an operator's reservation: the agent's total and the registry follow. */
  onReservationApplied(agentId: string, conversion: Conversion, now: number): MasterEffect[] {
    const step = this.step(now);
    reservationApplied(step, agentId, conversion);
    return step.effects;
  }

  /**
   * An operator call that changes the cluster (TEARDOWN, KILL_TASK, DEACTIVATE_AGENT,
   * REACTIVATE_AGENT, DRAIN_AGENT, MARK_AGENT_GONE, UPDATE_WEIGHTS, UPDATE_QUOTA,
   * UPDATE_MAINTENANCE_SCHEDULE, START_MAINTENANCE, STOP_MAINTENANCE) and the maintenance
   * reads (GET_MAINTENANCE_SCHEDULE, GET_MAINTENANCE_STATUS). Throws
   * `Rejection` to refuse; answers UNKNOWN_TYPE for calls this master does not implement.
   */
  onOperatorCall(call: OperatorApiCall, now: number): StepResult {
    const step = this.step(now);
    switch (call.type) {
      case 'TEARDOWN':
        teardownFramework(step, call.frameworkId);
        break;
      case 'KILL_TASK':
        killTask(step, call);
        break;
      case 'DEACTIVATE_AGENT':
        deactivateAgent(step, call.agentId);
        break;
      case 'REACTIVATE_AGENT':
        reactivateAgent(step, call.agentId);
        break;
      case 'DRAIN_AGENT':
        drainAgent(step, call);
        break;
      case 'MARK_AGENT_GONE':
        markAgentGone(step, call.agentId);
        break;
      case 'UPDATE_WEIGHTS':
        updateWeights(step, call.weights);
        break;
      case 'UPDATE_QUOTA':
        updateQuota(step, call.quotas);
        break;
      case 'GET_MAINTENANCE_SCHEDULE':
        return { reply: { type: 'MAINTENANCE_SCHEDULE', epoch: this.config.epoch, windows: maintenanceView(this.state.maintenance).windows }, effects: [] };
      case 'GET_MAINTENANCE_STATUS':
        return { reply: { type: 'MAINTENANCE_STATUS', epoch: this.config.epoch, agents: maintenanceView(this.state.maintenance).agents }, effects: [] };
      case 'UPDATE_MAINTENANCE_SCHEDULE':
        updateSchedule(step, call.windows);
        syncInverseOffers(step);
        break;
      case 'START_MAINTENANCE':
        startMaintenance(step, call.agentIds);
        syncInverseOffers(step);
        break;
      case 'STOP_MAINTENANCE':
        stopMaintenance(step, call.agentIds);
        syncInverseOffers(step);
        break;
      default:
        return { reply: { type: 'REJECTED', code: 'UNKNOWN_TYPE', reason: `${call.type} is not supported by this master yet`, epoch: this.config.epoch }, effects: [] };
    }
    return { reply: OK(this.config.epoch), effects: step.effects };
  }

  /** Marks an agent unreachable now (an operator action, and a seam for tests). */
  markAgentUnreachable(agentId: string, now: number): MasterEffect[] {
    const step = this.step(now);
    const agent = this.state.agents.get(agentId);
    if (agent !== undefined && agent.status === 'active') markUnreachable(step, agent, `agent ${agentId} was marked unreachable`);
    return step.effects;
  }
}
