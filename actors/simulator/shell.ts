/**
 * The simulator's shell: one actor, one NATS connection, many simulated agents. It listens
 * to every agent's master subject with one wildcard subscription, follows the leader key,
 * ticks the core's clock, and performs the core's effects: requests to the master (whose
 * replies go back into the core) and status updates published to the updates stream
 * (whose PubAcks go back into the core), each kind through its own concurrency limit.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { MasterReplyToAgent, MasterToAgent } from '../../protocol/agent.js';
import { decode, encode } from '../../protocol/codec.js';
import type { StatusUpdateRecord, StoredStatus } from '../../protocol/updates.js';
import { Actor } from '../runtime/actor.js';
import { followLeader, type LeaderFollower } from '../runtime/leader-follower.js';
import type { NatsConnection } from '../runtime/nats.js';
import type { Rng } from '../runtime/rng.js';
import { ensureUpdateStream } from '../runtime/update-stream.js';
import { SimulatorCore, type SimulatorConfig, type SimulatorEffect, type SimulatorStats } from './core.js';
import { InboxRequests } from './inbox.js';
import { Limiter } from './limiter.js';

/** Options of the simulator's shell. */
export interface SimulatorShellOptions {
  nc: NatsConnection;
  cluster: string;
  logger: Logger;
  config: SimulatorConfig;
  /** Randomness of the core (jitter, heartbeat phases). */
  random: Rng;
  /** Requests to the master in flight at most (registrations and heartbeats). */
  maxRequestsInFlight: number;
  /** Status update publishes in flight at most. */
  maxPublishesInFlight: number;
  /** Timeout of a registration request (ms). */
  registerTimeoutMs: number;
  /** Timeout of a heartbeat request and of a publish's PubAck (ms). */
  requestTimeoutMs: number;
  /** Period of the core's clock (ms). */
  tickMs: number;
}

/** A promise resolved (with undefined) by `resolve`. */
function abandonment(): { promise: Promise<undefined>; resolve: (v: undefined) => void } {
  let resolve: (v: undefined) => void = () => undefined;
  const promise = new Promise<undefined>((r) => (resolve = r));
  return { promise, resolve };
}

/** Waiters for "every agent registered with a term of at least `epoch`". */
interface Waiter {
  epoch: number;
  resolve: () => void;
}

/** Many simulated agents as one NATS actor. */
export class SimulatorShell extends Actor {
  private readonly core: SimulatorCore;
  private readonly options: SimulatorShellOptions;
  /** Heartbeats, registrations and publishes: every answer on one inbox. */
  private readonly inbox: InboxRequests;
  private readonly requests: Limiter;
  private readonly publishes: Limiter;
  private follower: LeaderFollower | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private waiters: Waiter[] = [];
  /** Resolves when a newer term is announced: requests sent before it stop holding a slot. */
  private termChanged = abandonment();

  constructor(options: SimulatorShellOptions) {
    super({ nc: options.nc, cluster: options.cluster, kind: 'simulator', id: options.config.idPrefix, logger: options.logger });
    this.options = options;
    this.core = new SimulatorCore(options.config, options.random, () => randomUUID());
    this.inbox = new InboxRequests(options.nc);
    this.requests = new Limiter(options.maxRequestsInFlight);
    this.publishes = new Limiter(options.maxPublishesInFlight);
  }

  /** Makes sure the updates stream exists, subscribes, then starts registering, ticking and following the leader. */
  async start(): Promise<void> {
    await ensureUpdateStream(this.nc, this.options.cluster);
    // Urgent: real agents are separate processes, and one's RUN_TASK does not wait behind the
    // PubAcks, heartbeat answers and timers of 50,000 others (at 50,000 agents that queue
    // added ~40 ms at p50 and 100+ ms at p99 between the master's answer and TASK_RUNNING).
    this.listen(
      this.subjects.masterToAgentWildcard(),
      MasterToAgent,
      (m, origin) => {
        const agentId = this.subjects.agentOfMasterToAgent(origin.subject);
        if (agentId !== undefined) this.perform(this.core.onMasterMessage(agentId, m, Date.now()));
      },
      { urgent: true },
    );
    await this.nc.flush(); // subscribed before the master learns of any agent
    this.follower = followLeader({
      nc: this.nc,
      cluster: this.options.cluster,
      logger: this.log,
      onTerm: (term) => {
        // Requests to the old leader (a dead one never answers) give up at once rather than at
        // their timeout: each real agent has its own, and registers again meanwhile.
        const old = this.termChanged;
        this.termChanged = abandonment();
        old.resolve(undefined);
        this.mailbox.post(() => this.perform(this.core.onTerm(term.epoch, Date.now())));
      },
    });
    await this.mailbox.run(() => this.perform(this.core.start(Date.now())));
    this.timer = setInterval(() => this.mailbox.post(() => this.perform(this.core.tick(Date.now()))), this.options.tickMs);
  }

  /** The agents' ids. */
  get agentIds(): string[] {
    return this.core.agentIds;
  }

  /** Counters of the swarm. */
  stats(): SimulatorStats & { requestsQueued: number; publishesQueued: number } {
    return { ...this.core.stats(), requestsQueued: this.requests.queued, publishesQueued: this.publishes.queued };
  }

  /** How many agents are registered with a master of at least `epoch`. */
  registeredWith(epoch: number): number {
    return this.core.registeredWith(epoch);
  }

  /** The oldest term any agent is registered with; 0 while some agent is not registered. */
  lowestRegisteredEpoch(): number {
    return this.core.lowestRegisteredEpoch();
  }

  /** Resolves once every agent has registered with a master of at least `epoch` (≥ 1). */
  allRegisteredWith(epoch: number): Promise<void> {
    if (this.core.registeredWith(epoch) === this.core.stats().agents) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ epoch, resolve }));
  }

  /**
   * Stops ticking, following and listening, and waits (at most `graceMs`) for publishes
   * under way. The agents simply vanish, as machines that went away: the master marks them
   * unreachable once their heartbeats stop.
   */
  override async stop(graceMs = 2000): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.follower?.stop();
    this.requests.clear();
    this.publishes.clear();
    let timeout: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.publishes.whenIdle(), new Promise((r) => (timeout = setTimeout(r, graceMs)))]);
    clearTimeout(timeout);
    this.inbox.close();
    await super.stop();
  }

  private perform(effects: SimulatorEffect[]): void {
    for (const effect of effects) {
      switch (effect.kind) {
        case 'register':
          // ahead of heartbeats: a swarm whose heartbeats queue up still registers at once
          this.requests.addFirst(async () => {
            const reply = await this.ask(effect.agentId, effect.message, this.options.registerTimeoutMs);
            this.mailbox.post(() => {
              this.perform(this.core.onRegisterReply(effect.agentId, reply, Date.now()));
              this.settleWaiters();
            });
          });
          break;
        case 'heartbeat':
          this.requests.add(async () => {
            if (!this.core.heartbeatCurrent(effect.agentId, effect.gen)) return; // it registers again meanwhile
            const reply = await this.ask(effect.agentId, { type: 'HEARTBEAT', agentId: effect.agentId }, this.options.requestTimeoutMs);
            if (reply?.type === 'REJECTED') this.mailbox.post(() => this.perform(this.core.onHeartbeatReply(effect.agentId, reply, Date.now())));
          });
          break;
        case 'publish-update':
          this.publish1(effect.agentId, effect.frameworkId, effect.status);
          break;
        case 'log':
          this.log[effect.level](effect.data ?? {}, effect.msg);
          break;
      }
    }
  }

  /** A request as agent `agentId`; undefined when it fails, times out, or a newer term is announced first. */
  private ask(agentId: string, message: object, timeoutMs: number): Promise<MasterReplyToAgent | undefined> {
    const abandoned = this.termChanged.promise;
    this.counters.sent += 1;
    const answer = this.inbox.request(this.subjects.agentToMaster(agentId), encode(message), timeoutMs).then(
      (msg) => {
        const reply = decode(MasterReplyToAgent, msg.data);
        return reply.ok ? reply.value : undefined;
      },
      () => undefined,
    );
    return Promise.race([answer, abandoned]);
  }

  private publish1(agentId: string, frameworkId: string, status: StoredStatus): void {
    const { taskId, uuid } = status;
    this.publishes.add(async () => {
      try {
        const record: StatusUpdateRecord = { type: 'STATUS_UPDATE', frameworkId, status };
        // as publishUpdate does: the uuid is the message id, so a retried update is stored once
        await this.inbox.publishToStream(this.subjects.statusUpdate(frameworkId, taskId), encode(record), uuid, this.options.requestTimeoutMs);
        this.mailbox.post(() => this.perform(this.core.onPublished(agentId, taskId, uuid)));
      } catch (e) {
        this.log.debug({ err: e, taskId }, 'publishing a status update failed; will retry');
        this.mailbox.post(() => this.perform(this.core.onPublishFailed(agentId, taskId, uuid, Date.now())));
      }
    });
  }

  private settleWaiters(): void {
    if (this.waiters.length === 0) return;
    const total = this.core.stats().agents;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (this.core.registeredWith(w.epoch) === total) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }
}
