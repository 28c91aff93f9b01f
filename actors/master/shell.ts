/**
 * The master's NATS shell: serves scheduler, agent and operator calls, reads status updates
 * from the updates stream (applied in the mailbox, then acknowledged), runs the allocator
 * actor inside the process, ticks the core, sends framework heartbeats as requests (a
 * dead framework's subscription vanishes, so "no responders" tells us at once), and
 * performs the core's effects.
 */
import { AgentToMaster } from '../../protocol/agent.js';
import { encode } from '../../protocol/codec.js';
import { OperatorCall } from '../../protocol/operator.js';
import { SchedulerCall } from '../../protocol/scheduler.js';
import { AllocatorActor } from '../allocator/actor.js';
import { Actor, type ActorOptions } from '../runtime/actor.js';
import { createRng } from '../runtime/rng.js';
import type { MasterConfig } from './context.js';
import { MasterCore } from './core.js';
import { RegistryStore } from './registry-store.js';
import type { AllocatorOp, MasterEffect } from './effects.js';
import { snapshot } from './snapshot.js';
import { MasterUpdates } from './updates.js';
import type { DeliveredUpdate } from '../runtime/update-feed.js';

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
  /** Maximum age of the updates stream (default 7 days). */
  updatesMaxAgeMs?: number;
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
  private readonly updates: MasterUpdates;

  constructor(options: MasterShellOptions) {
    super({ ...options, kind: 'master', id: options.config.masterId, ...(options.mayAct !== undefined && { gate: options.mayAct }) });
    this.clock = options.clock;
    this.cluster = options.cluster;
    this.startedAt = options.clock();
    this.tickIntervalMs = options.tickIntervalMs ?? 100;
    this.core = new MasterCore(options.config, options.newId);
    this.allocator = new AllocatorActor({
      clock: options.clock,
      rng: createRng(options.seed),
      allocationIntervalMs: options.allocationIntervalMs ?? 1000,
      logger: this.log,
      onOffers: (decisions) => this.mailbox.post(() => this.perform(this.core.onAllocations(decisions, this.clock()))),
    });
    const mayAct = options.mayAct ?? (() => true);
    this.updates = new MasterUpdates({
      nc: options.nc,
      cluster: options.cluster,
      logger: this.log,
      mayAct,
      onUpdate: (update) => this.mailbox.post(() => this.applyUpdate(update)),
      ...(options.updatesMaxAgeMs !== undefined && { maxAgeMs: options.updatesMaxAgeMs }),
    });
  }

  /**
   * Loads the registry, then subscribes to everything and starts the allocator and the
   * ticker. Agents and frameworks from the registry are recovered, not yet active.
   */
  async start(): Promise<void> {
    this.registry = await RegistryStore.open(this.nc, this.cluster, this.log, () => this.open('registry write'));
    const contents = await this.registry.load();
    this.perform(this.core.recover(contents, this.clock()));
    this.log.info({ agents: contents.agents.length, frameworks: contents.frameworks.length }, 'registry loaded');
    this.serve(this.subjects.agentToMasterWildcard(), AgentToMaster, (msg, origin) => {
      const { reply, effects } = this.core.onAgentMessage(msg, origin.principal, this.clock());
      this.perform(effects);
      return reply;
    });
    this.serve(this.subjects.schedulerCallsWildcard(), SchedulerCall, (call, origin) => {
      const { reply, effects } = this.core.onSchedulerCall(call, origin.principal, this.clock());
      this.perform(effects);
      return reply;
    });
    this.serve(this.subjects.operatorCallsWildcard(), OperatorCall, async () => {
      const ids = [...this.core.state.frameworks.keys()];
      const shares = await this.allocator.read((core) => new Map(ids.map((id) => [id, core.frameworkIds().includes(id) ? core.frameworkShare(id) : 0])));
      const state = snapshot(this.core.state, {
        masterId: this.core.config.masterId,
        epoch: this.core.config.epoch,
        cluster: this.cluster,
        startedAt: this.startedAt,
        shareOf: (id) => shares.get(id) ?? 0,
      });
      return { type: 'STATE', epoch: this.core.config.epoch, state };
    });
    this.allocator.start();
    await this.updates.start(); // after the registry and the agents' subjects: updates apply to a term under way
    this.ticker = setInterval(() => this.mailbox.post(() => this.perform(this.core.onTick(this.clock()))), this.tickIntervalMs);
    this.log.info({ epoch: this.core.config.epoch, cluster: this.cluster }, 'master started');
  }

  /** Stops ticking, reading updates, allocating and serving. */
  override async stop(): Promise<void> {
    if (this.ticker !== undefined) clearInterval(this.ticker);
    await this.allocator.stop();
    await this.updates.stopReading(); // updates already in the mailbox are still applied (or given back)
    await super.stop();
    await this.updates.stop();
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
          this.publish(this.subjects.frameworkEvents(effect.frameworkId), effect.message);
          break;
        case 'heartbeat-framework':
          void this.heartbeat(effect.frameworkId, effect.message);
          break;
        case 'allocator':
          void this.callAllocator(effect.call);
          break;
        case 'registry':
          this.registry?.write([effect.op]);
          break;
        case 'publish-update':
          this.updates.publish(effect.frameworkId, effect.status);
          break;
        case 'framework-consumer':
          this.updates.frameworkConsumer(effect.op, effect.frameworkId);
          break;
      }
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
      case 'activateFramework':
        return a.activateFramework(call.frameworkId);
      case 'deactivateFramework':
        return a.deactivateFramework(call.frameworkId);
      case 'recoverResources':
        return a.recoverResources(call.frameworkId, call.agentId, call.resources, call.refuseSeconds);
      case 'suppress':
        return a.suppress(call.frameworkId);
      case 'revive':
        return a.revive(call.frameworkId);
    }
  }
}
