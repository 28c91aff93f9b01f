/**
 * The master's NATS shell: serves scheduler, agent and operator calls, reads status updates
 * from the updates stream (applied in the mailbox, then acknowledged), runs the allocator
 * actor inside the process, ticks the core, sends framework heartbeats as requests (a
 * dead framework's subscription vanishes, so "no responders" tells us at once), and
 * performs the core's effects.
 */
import { AgentToMaster } from '../../protocol/agent.js';
import { encode } from '../../protocol/codec.js';
import { OperatorApiCall, type ClusterState, type Explanation, type LeaderView, type OperatorApiReply, type RoleView } from '../../protocol/operator-api.js';
import { Resources } from '../../protocol/resources.js';
import { quantitiesText } from '../allocator/views.js';
import { quotasOf, weightsOf } from './role-views.js';
import { maintenanceView } from './maintenance.js';
import { SchedulerCall, type SchedulerEvent } from '../../protocol/scheduler.js';
import { AllocatorActor } from '../allocator/actor.js';
import { RandomSorter } from '../allocator/random-sorter.js';
import { Actor, Rejection, type ActorOptions, type ReplyMessage } from '../runtime/actor.js';
import { createRng } from '../runtime/rng.js';
import type { MasterConfig } from './context.js';
import { MasterCore } from './core.js';
import { RegistryStore } from './registry-store.js';
import type { RegistryContents } from './registry.js';
import type { MasterMetrics } from '../http/types.js';
import type { AllocatorOp, MasterEffect } from './effects.js';
import { snapshot } from './snapshot.js';
import { MasterUpdates } from './updates.js';
import type { DeliveredUpdate } from '../runtime/update-feed.js';

/**
 * Most allocator decisions turned into offers in one mailbox job (a run over 50,000 agents
 * makes 50,000; 500 take ~10 ms): what a call arriving during a big run waits for at most.
 */
export const DECISIONS_PER_JOB = 500;

/** Options of the master shell. */
export interface MasterShellOptions extends Omit<ActorOptions, 'kind' | 'id'> {
  config: MasterConfig;
  /** The clock (ms); the shell's only source of time. */
  clock: () => number;
  /** Seed of the allocator's agent order. */
  seed: number;
  /** Makes ids (offers). */
  newId: (prefix: string) => string;
  /** Period of the batch allocation (default 1000 ms). */
  allocationIntervalMs?: number;
  /** How often the core checks heartbeats and timeouts (default 100 ms). */
  tickIntervalMs?: number;
  /** True while this master may act as leader; nothing is handled or sent otherwise (default: always). */
  mayAct?: () => boolean;
  /** The allocator's fairness policy: DRF (default) or weighted random. */
  sorter?: 'drf' | 'random';
  /** The allocator's minimum offer (Mesos's --min_allocatable_resources), e.g. `cpus:0.01|mem:32`. */
  minAllocatable?: Resources[];
  /** This master's HTTP base URL, if it serves HTTP. */
  url?: string;
  /** Maximum age of the updates stream (default 7 days). */
  updatesMaxAgeMs?: number;
  /** The registry as a warm standby's copy holds it, caught up to the bucket's last revision (default: read the bucket at start). */
  registryContents?: RegistryContents;
}

/** The running master. */
export class MasterShell extends Actor {
  /** The decision logic. */
  readonly core: MasterCore;
  /** The allocator, inside this process. */
  readonly allocator: AllocatorActor;
  private readonly clock: () => number;
  private readonly startedAt: number;
  private readonly cluster: string;
  private readonly tickIntervalMs: number;
  private ticker: ReturnType<typeof setInterval> | undefined;
  private registry: RegistryStore | undefined;
  private readonly mayAct: () => boolean;
  private readonly url: string | undefined;
  private readonly updates: MasterUpdates;
  private preloaded: RegistryContents | undefined;

  constructor(options: MasterShellOptions) {
    super({ ...options, kind: 'master', id: options.config.masterId, epoch: options.config.epoch, ...(options.mayAct !== undefined && { gate: options.mayAct }) });
    this.mayAct = options.mayAct ?? (() => true);
    this.clock = options.clock;
    this.cluster = options.cluster;
    this.startedAt = options.clock();
    this.tickIntervalMs = options.tickIntervalMs ?? 100;
    this.url = options.url;
    this.preloaded = options.registryContents;
    this.core = new MasterCore(options.config, options.newId);
    const sorterRng = createRng(options.seed ^ 0x5eed);
    this.allocator = new AllocatorActor({
      clock: options.clock,
      rng: createRng(options.seed),
      allocationIntervalMs: options.allocationIntervalMs ?? 1000,
      logger: this.log,
      ...(options.sorter === 'random' && { sorterFactory: () => new RandomSorter(sorterRng) }),
      ...(options.minAllocatable !== undefined && { minAllocatable: options.minAllocatable }),
      // in jobs of at most DECISIONS_PER_JOB, each queued behind what arrived meanwhile, so that
      // the event loop breathes between them and calls do not wait for a whole run's offers
      onOffers: (decisions) => this.mailbox.postInChunks(decisions, DECISIONS_PER_JOB, (chunk) => this.perform(this.core.onAllocations(chunk, this.clock()))),
    });
    const mayAct = options.mayAct ?? (() => true);
    this.updates = new MasterUpdates({
      nc: options.nc,
      cluster: options.cluster,
      logger: this.log,
      mayAct,
      onUpdate: (update) => this.mailbox.post(() => this.applyUpdate(update)),
      appliedAfter: (frameworkId, taskId, afterSeq) => this.core.appliedAfter(frameworkId, taskId, afterSeq),
      refusals: this.refusals,
      ...(options.updatesMaxAgeMs !== undefined && { maxAgeMs: options.updatesMaxAgeMs }),
    });
  }

  /**
   * Loads the registry, then subscribes to everything and starts the allocator and the
   * ticker. Agents and frameworks from the registry are recovered, not yet active.
   */
  async start(): Promise<void> {
    const began = this.clock();
    this.registry = await RegistryStore.open(this.nc, this.cluster, this.log, this.mayAct);
    const opened = this.clock();
    const warm = this.preloaded !== undefined;
    const contents = this.preloaded ?? (await this.registry.load());
    this.preloaded = undefined;
    const loaded = this.clock();
    this.perform(this.core.recover(contents, this.clock()));
    const recovered = this.clock();
    this.log.info({ agents: contents.agents.length, frameworks: contents.frameworks.length, warm, openMs: opened - began, loadMs: loaded - opened, recoverMs: recovered - loaded }, 'registry loaded');
    this.serve(this.subjects.agentToMasterWildcard(), AgentToMaster, (msg, origin) => {
      const { reply, effects } = this.core.onAgentMessage(msg, origin.principal, this.clock());
      this.perform(effects);
      return reply;
    });
    // Framework calls go ahead of heartbeats, status updates and offer-making waiting in the
    // mailbox (at most URGENT_RUN_MAX in a row): an ACCEPT on a busy master waits for a few
    // jobs, not for thousands. Their order among themselves is kept.
    this.serve(
      this.subjects.schedulerCallsWildcard(),
      SchedulerCall,
      (call, origin) => {
        const { reply, effects } = this.core.onSchedulerCall(call, origin.principal, this.clock());
        this.perform(effects);
        return reply;
      },
      { urgent: true },
    );
    this.serve(this.subjects.operatorCallsWildcard(), OperatorApiCall, (call) => this.answerOperatorCall(call));
    this.allocator.start();
    await this.updates.start(); // after the registry and the agents' subjects: updates apply to a term under way
    this.ticker = setInterval(() => this.mailbox.post(() => this.perform(this.core.onTick(this.clock()))), this.tickIntervalMs);
    this.log.info({ epoch: this.core.config.epoch, cluster: this.cluster, startMs: this.clock() - began }, 'master started');
  }

  /** The cluster state now (the master's registry, shares from the allocator, the leader). */
  async clusterState(): Promise<ClusterState> {
    const ids = [...this.core.state.frameworks.keys()];
    const shares = await this.allocator.read((core) => new Map(ids.map((id) => [id, core.frameworkIds().includes(id) ? core.frameworkShare(id) : 0])));
    const state = snapshot(this.core.state, {
      masterId: this.core.config.masterId,
      epoch: this.core.config.epoch,
      cluster: this.cluster,
      startedAt: this.startedAt,
      shareOf: (id) => shares.get(id) ?? 0,
      leader: this.leaderView(),
    });
    return {
      ...state,
      roles: await this.roleViews(),
      weights: weightsOf(this.core.state.roles),
      quotas: quotasOf(this.core.state.roles),
      maintenance: maintenanceView(this.core.state.maintenance),
    };
  }

  /** Answers an operator call (NATS or HTTP) in the mailbox, in order with everything else. */
  operatorCall(call: OperatorApiCall): Promise<OperatorApiReply> {
    return this.mailbox.run(async () => {
      if (!this.open('operator call')) return { type: 'REJECTED', code: 'NOT_LEADER', reason: 'this master no longer leads: ask the leader (GET /redirect)' } as OperatorApiReply;
      try {
        return (await this.answerOperatorCall(call)) as OperatorApiReply;
      } catch (e) {
        if (e instanceof Rejection) return { type: 'REJECTED', code: e.code, reason: e.message, epoch: this.core.config.epoch };
        throw e;
      }
    });
  }

  /** Counters for /metrics (the leader changes are counted by the process). */
  metrics(): MasterMetrics {
    return {
      messagesReceived: this.counters.received,
      messagesSent: this.counters.sent,
      decodeErrors: this.refusals.decodeErrors,
      callsRejected: this.refusals.rejectedTotal,
      decodeErrorCounts: this.refusals.decodeErrorCounts(),
      rejectionCounts: this.refusals.rejectionCounts(),
      leaderChanges: 0,
      allocationRuns: this.allocator.runs,
      allocationSecondsTotal: this.allocator.secondsTotal,
      lastAllocationSeconds: this.allocator.lastSeconds,
    };
  }

  private async roleViews(): Promise<RoleView[]> {
    const views = await this.allocator.read((core) => core.roles());
    const frameworksOf = (role: string) => [...this.core.state.frameworks.values()].filter((f) => f.info.roles.includes(role)).map((f) => f.id);
    return views.map((v) => {
      const settings = this.core.state.roles.get(v.role);
      return {
        name: v.role,
        weight: v.weight,
        ...(settings?.guarantee !== undefined || settings?.limit !== undefined
          ? { quota: { role: v.role, ...(settings.guarantee !== undefined && { guarantee: settings.guarantee }), ...(settings.limit !== undefined && { limit: settings.limit }) } }
          : {}),
        frameworks: frameworksOf(v.role),
        allocated: quantitiesText(v.allocated),
        offered: quantitiesText(v.offered),
        reserved: quantitiesText(v.reserved),
        share: v.share,
      };
    });
  }

  private async explain(frameworkId: string, role: string | undefined, resources: string | undefined): Promise<Explanation[]> {
    if (!this.core.state.frameworks.has(frameworkId)) throw new Rejection('NOT_FOUND', `no framework ${frameworkId} is known: list them with \`nesos frameworks\``);
    let request: Resources | undefined;
    if (resources !== undefined) {
      const parsed = Resources.tryParse(resources);
      if (!parsed.ok) throw new Rejection('INVALID', `resources "${resources}": ${parsed.error.message}`);
      request = parsed.value;
    }
    const now = this.clock();
    const found = await this.allocator.read((core) => core.explain(frameworkId, now, { ...(role !== undefined && { role }), ...(request !== undefined && { request }) }));
    return found.map((e) => ({ frameworkId: e.frameworkId, role: e.role, offerable: e.offerable, reasons: [...e.reasons], agents: { ...e.agents } }));
  }

  private leaderView(): LeaderView {
    return { masterId: this.core.config.masterId, epoch: this.core.config.epoch, ...(this.url !== undefined && { url: this.url }) };
  }

  private async answerOperatorCall(call: OperatorApiCall): Promise<ReplyMessage> {
    const epoch = this.core.config.epoch;
    switch (call.type) {
      case 'GET_STATE':
        return { type: 'STATE', epoch, state: await this.clusterState() };
      case 'GET_AGENTS':
        return { type: 'AGENTS', epoch, agents: (await this.clusterState()).agents };
      case 'GET_FRAMEWORKS':
        return { type: 'FRAMEWORKS', epoch, frameworks: (await this.clusterState()).frameworks };
      case 'GET_TASKS': {
        const state = await this.clusterState();
        return { type: 'TASKS', epoch, tasks: state.tasks, completedTasks: state.completedTasks };
      }
      case 'GET_MASTER':
        return { type: 'MASTER', epoch, masterId: this.core.config.masterId, leading: true, leader: this.leaderView(), startedAt: this.startedAt };
      case 'GET_ROLES':
        return { type: 'ROLES', epoch, roles: await this.roleViews() };
      case 'GET_WEIGHTS':
        return { type: 'WEIGHTS', epoch, weights: weightsOf(this.core.state.roles) };
      case 'GET_QUOTA':
        return { type: 'QUOTA', epoch, quotas: quotasOf(this.core.state.roles) };
      case 'RESERVE_RESOURCES':
      case 'UNRESERVE_RESOURCES': {
        const kind = call.type === 'RESERVE_RESOURCES' ? 'RESERVE' : 'UNRESERVE';
        const prepared = this.core.prepareReservation(kind, call.agentId, call.resources, this.clock());
        this.perform(prepared.effects);
        try {
          await this.allocator.applyOperation(call.agentId, prepared.operation);
        } catch (e) {
          throw new Rejection('INVALID', `${kind} refused: ${e instanceof Error ? e.message : String(e)}`);
        }
        this.perform(this.core.onReservationApplied(call.agentId, prepared.conversion, this.clock()));
        return { type: 'OK', epoch };
      }
      case 'EXPLAIN_OFFERS':
        return { type: 'EXPLANATION', epoch, explanations: await this.explain(call.frameworkId, call.role, call.resources) };
      default: {
        const { reply, effects } = this.core.onOperatorCall(call, this.clock());
        this.perform(effects);
        return reply;
      }
    }
  }

  /** Stops ticking, reading updates, allocating and serving. */
  override async stop(): Promise<void> {
    if (this.ticker !== undefined) clearInterval(this.ticker);
    await this.allocator.stop();
    await this.updates.stopReading(); // updates already in the mailbox are still applied (or given back)
    await super.stop();
    await this.updates.stop();
    this.registry?.close();
    await this.registry?.flush();
    this.log.info('master stopped');
  }

  private perform(effects: readonly MasterEffect[]): void {
    if (effects.length > 0 && !this.open('effects')) return; // a deposed leader sends nothing
    for (const effect of effects) {
      switch (effect.kind) {
        case 'to-agent':
          this.publish(this.subjects.masterToAgent(effect.agentId), effect.message);
          break;
        case 'to-framework':
          this.toFramework(effect.frameworkId, effect.message);
          break;
        case 'heartbeat-framework':
          void this.heartbeat(effect.frameworkId, effect.message);
          break;
        case 'allocator':
          this.callAllocator(effect.call).catch((err: unknown) => this.log.error({ err, op: effect.call.op }, 'the allocator refused a call'));
          break;
        case 'registry':
          this.registry?.write([effect.op]);
          break;
        case 'log':
          this.log[effect.level](effect.data ?? {}, effect.msg);
          break;
        case 'publish-update':
          this.updates.publish(effect.frameworkId, effect.status, effect.afterSeq);
          break;
        case 'framework-consumer':
          this.updates.frameworkConsumer(effect.op, effect.frameworkId);
          break;
      }
    }
  }

  /**
   * Publishes an event to a framework. A publish that fails (a closed connection, a payload
   * over the server's limit) is logged; offers it carried are withdrawn and recovered,
   * since the framework cannot have seen them.
   */
  private toFramework(frameworkId: string, message: SchedulerEvent): void {
    try {
      this.publish(this.subjects.frameworkEvents(frameworkId), message);
    } catch (err) {
      this.log.warn({ err, frameworkId, type: message.type }, 'could not publish an event to a framework');
      if (message.type !== 'OFFERS') return;
      const ids = message.offers.map((o) => o.id);
      this.mailbox.post(() => this.perform(this.core.onOffersUndelivered(frameworkId, ids, this.clock())));
    }
  }

  /**
   * One update from the master's consumer, in the mailbox: applied, then acknowledged. A
   * master that may no longer act gives it back at once, for the new leader.
   */
  private applyUpdate(update: DeliveredUpdate): void {
    if (!this.open('status update')) {
      update.nak();
      return;
    }
    this.perform(this.core.onStatusUpdate(update.record.frameworkId, update.record.status, update.seq, this.clock()));
    update.ack();
  }

  private async heartbeat(frameworkId: string, message: object): Promise<void> {
    let answered = false;
    try {
      await this.nc.request(this.subjects.frameworkEvents(frameworkId), encode(message), { timeout: 2000 });
      answered = true;
    } catch {
      answered = false;
    }
    this.mailbox.post(() => this.perform(this.core.onFrameworkHeartbeat(frameworkId, answered, this.clock())));
  }

  private callAllocator(call: AllocatorOp): Promise<void> {
    const a = this.allocator;
    switch (call.op) {
      case 'addAgent':
        return a.addAgent(call.agentId, call.total, call.used);
      case 'removeAgent':
        return a.removeAgent(call.agentId);
      case 'addFramework':
        return a.addFramework(call.frameworkId, { roles: call.roles, suppressed: call.suppressed }, call.used);
      case 'removeFramework':
        return a.removeFramework(call.frameworkId);
      case 'updateFramework':
        return a.updateFramework(call.frameworkId, { roles: call.roles });
      case 'activateFramework':
        return a.activateFramework(call.frameworkId);
      case 'deactivateFramework':
        return a.deactivateFramework(call.frameworkId);
      case 'recoverResources':
        return a.recoverResources(call.frameworkId, call.agentId, call.resources, call.refuseSeconds, call.role);
      case 'offerAccepted':
        return a.offerAccepted(call.frameworkId, call.agentId, call.resources, call.role);
      case 'applyOperation':
        return a.applyOperation(call.agentId, call.operation, {
          ...(call.frameworkId !== undefined && { frameworkId: call.frameworkId }),
          ...(call.role !== undefined && { role: call.role }),
        });
      case 'suppress':
        return a.suppress(call.frameworkId, call.roles);
      case 'revive':
        return a.revive(call.frameworkId, call.roles);
      case 'setWeight':
        return a.setWeight(call.role, call.weight);
      case 'setQuota':
        return a.setQuota(call.role, call.quota);
      case 'removeQuota':
        return a.removeQuota(call.role);
    }
  }
}
