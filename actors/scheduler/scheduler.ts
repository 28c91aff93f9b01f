/**
 * The scheduler SDK: a framework's connection to the master, as an actor.
 *
 * `connect` listens on the framework's events subject, makes sure its consumer of the
 * updates stream exists and starts reading it, then sends SUBSCRIBE and waits for
 * SUBSCRIBED (a resubscribe checks the consumer again, but is not held back when JetStream
 * cannot answer yet: the consumer exists since the first subscribe). Events are decoded by the Actor base; those sent as requests (HEARTBEAT) are
 * answered OK on arrival so the master can tell a live framework from a dead one. In the
 * mailbox each event is fenced (an epoch older than the newest seen is dropped), feeds the
 * heartbeat watchdog, and goes to the Dispatcher, which hands it to framework code. Status
 * updates come from the stream (`updates.ts`), one per task at a time, and are acknowledged
 * there. When no event arrives for `missedHeartbeats` intervals the SDK resubscribes with
 * the same id, with jittered exponential backoff, until SUBSCRIBED comes back (a new term
 * announced on the leader key meanwhile ends the pause and restarts the backoff); after every
 * SUBSCRIBED it asks for the state of all tasks (implicit RECONCILE) unless told not to.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { Reply } from '../../protocol/replies.js';
import { SchedulerEvent, type Filters, type OfferOperation, type SchedulerCall } from '../../protocol/scheduler.js';
import type { FrameworkInfo, Offer, TaskInfo, TaskStatus } from '../../protocol/schema.js';
import { Actor } from '../runtime/actor.js';
import { CallRejectedError, NoRespondersError, RequestTimeoutError, isRetryable } from '../runtime/errors.js';
import { followLeader, type LeaderFollower } from '../runtime/leader-follower.js';
import { createRootLogger } from '../runtime/logger.js';
import { connectNats } from '../runtime/nats.js';
import { backoffDelay } from '../runtime/request.js';
import { Dispatcher, type SchedulerEventMap, type SubscribedEvent } from './dispatch.js';
import type { Listener } from './events.js';
import {
  NatsUnreachableError,
  NoFittingOfferError,
  NoMasterError,
  SchedulerClosedError,
  SubscribeRejectedError,
  SubscribeTimeoutError,
} from './errors.js';
import { offerFits, type Needs, toResources } from './offer-pool.js';
import { resolveOptions, type ResolvedOptions, type SchedulerOptions } from './options.js';
import { buildLaunch, type TaskSpec } from './tasks.js';
import { FrameworkUpdates } from './updates.js';

/** Where the connection to the master stands. */
export type SchedulerState = 'subscribing' | 'subscribed' | 'disconnected' | 'ended' | 'closed';

/** Options of `waitForOffer`. */
export interface WaitForOfferOptions {
  /** Give up after this long with NoFittingOfferError; default: wait until `close`. */
  timeoutMs?: number;
  /** Decline the other offers seen while waiting; default true. */
  declineOthers?: boolean;
  /** Filters for those declines; default the master's (5 s). */
  filters?: Filters;
}

interface Waiter {
  resolve(ev: SubscribedEvent): void;
  reject(e: unknown): void;
}

/** A framework's connection to the cluster: subscribe, receive offers and updates, launch and kill tasks. */
export class Scheduler extends Actor {
  /** The framework's id (chosen by the SDK unless given, kept across resubscriptions). */
  readonly frameworkId: string;
  /** The FrameworkInfo sent with SUBSCRIBE. */
  readonly framework: FrameworkInfo;
  /** Events dropped because they came from an older master epoch. */
  fencedEvents = 0;
  private readonly opts: ResolvedOptions;
  private readonly ownsConnection: boolean;
  private readonly servers: string;
  private readonly dispatcher: Dispatcher;
  private readonly statusUpdates: FrameworkUpdates;
  private readonly closing = new AbortController();
  private readonly pending = new Set<Promise<unknown>>();
  private current: SchedulerState = 'subscribing';
  private newestEpoch = -1;
  private eventsSeen = 0;
  private master: string | undefined;
  private heartbeatMs: number | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private waiter: Waiter | undefined;
  private resubscribing: Promise<void> | undefined;
  /** Set when a new term is announced while resubscribing: the next attempt goes at once, its backoff restarted. */
  private termWhileResubscribing = false;
  /** Ends the resubscribe loop's current pause early (a new term was announced). */
  private wakeResubscribe: AbortController | undefined;
  private follower: LeaderFollower | undefined;

  private constructor(opts: ResolvedOptions, nc: NatsConnection, logger: Logger, ownsConnection: boolean) {
    super({ nc, cluster: opts.cluster, kind: 'scheduler', id: opts.framework.id, logger });
    this.opts = opts;
    this.framework = opts.framework;
    this.frameworkId = opts.framework.id;
    this.ownsConnection = ownsConnection;
    this.servers = ownsConnection ? [opts.servers].flat().join(',') : nc.getServer();
    this.dispatcher = new Dispatcher({
      log: this.log,
      mode: opts.acknowledge,
      bufferSize: opts.eventBufferSize,
      onUpdateHandled: (status, ok) => this.statusUpdates.handled(status, ok),
    });
    this.statusUpdates = new FrameworkUpdates({
      nc,
      cluster: opts.cluster,
      frameworkId: opts.framework.id,
      logger: this.log,
      mode: opts.acknowledge,
      deliver: (status) => this.dispatcher.update(status),
      requestTimeoutMs: opts.requestTimeoutMs,
      redeliveryMs: opts.updateRedeliveryMs,
      random: opts.random,
    });
  }

  /**
   * Connects to NATS (unless `nc` is given), subscribes the framework and resolves once the
   * master answered SUBSCRIBED. Attach listeners right after: deliveries start on the next
   * turn of the event loop. Throws NoMasterError, SubscribeTimeoutError, SubscribeRejectedError,
   * NatsUnreachableError, UpdateStreamError (JetStream unavailable) or InvalidOptionsError;
   * `retryable` says whether trying again can help.
   */
  static async connect(options: SchedulerOptions): Promise<Scheduler> {
    const opts = resolveOptions(options);
    const logger = opts.logger ?? createRootLogger();
    let nc = opts.nc;
    if (nc === undefined) {
      try {
        nc = await connectNats({ servers: opts.servers, name: `nesos-framework-${opts.framework.name}` });
      } catch (cause) {
        throw new NatsUnreachableError([opts.servers].flat().join(','), { cause });
      }
    }
    const scheduler = new Scheduler(opts, nc, logger, opts.nc === undefined);
    try {
      await scheduler.start();
    } catch (e) {
      await scheduler.close();
      throw e;
    }
    return scheduler;
  }

  /** Where the connection to the master stands. */
  get state(): SchedulerState {
    return this.current;
  }

  /** The id of the master that last answered SUBSCRIBED. */
  get masterId(): string | undefined {
    return this.master;
  }

  /** The newest master epoch seen (-1 before any event). */
  get epoch(): number {
    return this.newestEpoch;
  }

  /** Adds a listener (awaited before the next event is delivered); returns a function that removes it. */
  on<K extends keyof SchedulerEventMap>(name: K, listener: Listener<SchedulerEventMap[K]>): () => void {
    return this.dispatcher.on(name, listener);
  }

  /** Every event from now on (bounded buffer, oldest dropped); ends at `close`. */
  events(): AsyncIterableIterator<SchedulerEvent> {
    return this.dispatcher.events();
  }

  /** Status updates of `taskId` (or of every task) from now on; ends at `close`. */
  updates(taskId?: string): AsyncIterableIterator<TaskStatus> {
    return this.dispatcher.updates(taskId);
  }

  /** Resolves with the first offered offer that holds `needs`; declines the others it sees unless told not to. */
  waitForOffer(needs: Needs, options: WaitForOfferOptions = {}): Promise<Offer> {
    const wanted = toResources(needs);
    if (this.current === 'closed') return Promise.reject(new SchedulerClosedError('close() was called'));
    return new Promise<Offer>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (): void => {
        off();
        if (timer !== undefined) clearTimeout(timer);
        this.closing.signal.removeEventListener('abort', onClose);
      };
      const onClose = (): void => {
        finish();
        reject(new SchedulerClosedError('close() was called while waiting for an offer'));
      };
      const off = this.on('offers', (offers) => {
        const chosen = offers.find((o) => offerFits(o, wanted));
        if (chosen !== undefined) {
          finish();
          resolve(chosen);
        }
        const others = offers.filter((o) => o !== chosen).map((o) => o.id);
        if (options.declineOthers !== false && others.length > 0) {
          this.track(this.decline(others, options.filters), 'decline');
        }
      });
      this.closing.signal.addEventListener('abort', onClose, { once: true });
      if (options.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          finish();
          reject(new NoFittingOfferError(wanted.toString(), options.timeoutMs ?? 0));
        }, options.timeoutMs);
      }
    });
  }

  /** Launches tasks on one offer (ACCEPT with one LAUNCH); returns the TaskInfos sent (ids filled in). */
  async launch(offer: Offer, tasks: readonly TaskSpec[], filters?: Filters): Promise<TaskInfo[]> {
    const infos = buildLaunch(offer, tasks);
    await this.accept([offer.id], [{ type: 'LAUNCH', tasks: infos }], filters);
    return infos;
  }

  /**
   * Launches a task group on one offer (ACCEPT with one LAUNCH_GROUP): the tasks run in one
   * default executor (`executorId`, default `group-<uuid>`), are delivered together, and
   * when one fails or is killed the others are killed. Returns the TaskInfos sent.
   */
  async launchGroup(offer: Offer, tasks: readonly TaskSpec[], options: { executorId?: string; filters?: Filters } = {}): Promise<TaskInfo[]> {
    const infos = buildLaunch(offer, tasks);
    const executorId = options.executorId ?? `group-${randomUUID()}`;
    await this.accept([offer.id], [{ type: 'LAUNCH_GROUP', executorId, tasks: infos }], options.filters);
    return infos;
  }

  /** Uses offers (all of one agent) for operations; unused resources return with `filters`. */
  async accept(offerIds: string[], operations: OfferOperation[], filters?: Filters): Promise<void> {
    await this.send({ type: 'ACCEPT', frameworkId: this.frameworkId, offerIds, operations, ...(filters && { filters }) });
  }

  /** Gives offers back; their agents are not offered again for `filters.refuseSeconds` (default 5 s). */
  async decline(offerIds: string[], filters?: Filters): Promise<void> {
    await this.send({ type: 'DECLINE', frameworkId: this.frameworkId, offerIds, ...(filters && { filters }) });
  }

  /**
   * Agrees to release the inverse offers' agents by the start of their maintenance. The master
   * records ACCEPT and asks again after `filters.refuseSeconds` (default 5 s) if the framework
   * still holds resources there. Throws CallRejectedError (UNKNOWN_INVERSE_OFFER when one was
   * rescinded or answered already, WRONG_FRAMEWORK); then nothing of the call is recorded.
   */
  async acceptInverseOffers(inverseOfferIds: string[], filters?: Filters): Promise<void> {
    await this.send({ type: 'ACCEPT_INVERSE_OFFERS', frameworkId: this.frameworkId, inverseOfferIds, ...(filters && { filters }) });
  }

  /** Says the framework cannot release the inverse offers' agents in time; asked again after `filters.refuseSeconds` (default 5 s). Throws as `acceptInverseOffers`. */
  async declineInverseOffers(inverseOfferIds: string[], filters?: Filters): Promise<void> {
    await this.send({ type: 'DECLINE_INVERSE_OFFERS', frameworkId: this.frameworkId, inverseOfferIds, ...(filters && { filters }) });
  }

  /** Kills a task; its terminal state arrives as an update. */
  async kill(taskId: string, options: { agentId?: string; gracePeriodMs?: number } = {}): Promise<void> {
    const { agentId, gracePeriodMs } = options;
    await this.send({
      type: 'KILL',
      frameworkId: this.frameworkId,
      taskId,
      ...(agentId !== undefined && { agentId }),
      ...(gracePeriodMs !== undefined && { gracePeriodMs }),
    });
  }

  /**
   * Acknowledges an update (needed in 'manual' mode): an ack on the framework's consumer of
   * the updates stream, after which the update is not delivered again and its task's next
   * update follows. An update without uuid (a reconciliation answer) needs none, and one
   * already acknowledged is ignored.
   */
  async acknowledge(status: TaskStatus): Promise<void> {
    if (this.current === 'closed') throw new SchedulerClosedError('close() was called before acknowledge');
    this.statusUpdates.acknowledge(status);
  }

  /** Asks for the state of the listed tasks, or of all the framework's tasks when none are listed. */
  async reconcile(tasks: Array<{ taskId: string; agentId?: string }> = []): Promise<void> {
    await this.send({ type: 'RECONCILE', frameworkId: this.frameworkId, tasks });
  }

  /** Clears offer filters and resumes offers after `suppress`. */
  async revive(roles?: string[]): Promise<void> {
    await this.send({ type: 'REVIVE', frameworkId: this.frameworkId, ...(roles && { roles }) });
  }

  /** Stops offers until `revive`. */
  async suppress(roles?: string[]): Promise<void> {
    await this.send({ type: 'SUPPRESS', frameworkId: this.frameworkId, ...(roles && { roles }) });
  }

  /** Ends the framework: the master kills its tasks and rescinds its offers. Call `close` afterwards. */
  async teardown(): Promise<void> {
    await this.send({ type: 'TEARDOWN', frameworkId: this.frameworkId });
    this.end();
  }

  /** Sends bytes to one of the framework's executors. */
  async message(agentId: string, executorId: string, data: Uint8Array): Promise<void> {
    await this.send({ type: 'MESSAGE', frameworkId: this.frameworkId, agentId, executorId, data: data as Uint8Array<ArrayBuffer> });
  }

  /** Stops listening, ends iterators, waits for acknowledgements under way; closes NATS if the SDK opened it. */
  async close(): Promise<void> {
    if (this.current === 'closed') return;
    this.current = 'closed';
    this.stopWatchdog();
    this.follower?.stop();
    this.closing.abort();
    this.waiter?.reject(new SchedulerClosedError('close() was called while subscribing'));
    this.waiter = undefined;
    await Promise.allSettled([...this.pending]);
    await this.statusUpdates.stop(); // what was not acknowledged is redelivered to the next process
    this.dispatcher.close();
    await super.stop();
    if (this.ownsConnection && !this.nc.isClosed()) await this.nc.close();
    this.log.info('scheduler closed');
  }

  /** Same as `close`. */
  override stop(): Promise<void> {
    return this.close();
  }

  // ---- subscribing ------------------------------------------------------------------

  private async start(): Promise<void> {
    this.listen(this.subjects.frameworkEvents(this.frameworkId), SchedulerEvent, (ev) => this.onEvent(ev), { ack: true });
    await this.nc.flush(); // the server knows our interest before the master can answer
    if (this.opts.followLeader) {
      this.follower = followLeader({
        nc: this.nc,
        cluster: this.opts.cluster,
        logger: this.log,
        jitterMs: this.opts.resubscribeJitterMs,
        random: this.opts.random,
        onTerm: (term) => this.mailbox.post(() => this.onNewTerm(term.epoch, term.masterId)),
      });
    }
    await this.subscribeOnce();
    setImmediate(() => this.dispatcher.start());
  }

  /** Sends SUBSCRIBE and resolves at SUBSCRIBED; throws the SDK's subscribe errors. */
  private async subscribeOnce(): Promise<SubscribedEvent> {
    const subscribed = new Promise<SubscribedEvent>((resolve, reject) => (this.waiter = { resolve, reject }));
    subscribed.catch(() => {}); // handled below; keeps an early rejection from being unhandled
    const subject = this.subjects.schedulerCall(this.framework.principal);
    try {
      // The consumer exists before the master knows the framework, so before any of its
      // tasks can have an update (an update nobody wants would be dropped at once).
      await this.ensureUpdates();
      this.statusUpdates.start();
      await this.call(subject, { type: 'SUBSCRIBE', framework: this.framework }, Reply, { timeoutMs: this.opts.requestTimeoutMs });
    } catch (e) {
      this.waiter = undefined;
      throw this.subscribeError(e, subject);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new SubscribeTimeoutError(this.opts.cluster, this.servers, this.opts.subscribeTimeoutMs));
      }, this.opts.subscribeTimeoutMs);
    });
    try {
      return await Promise.race([subscribed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Makes sure of the updates stream and the framework's consumer. When resubscribing, a
   * JetStream that cannot answer yet (its Raft groups electing after a partition heals, which
   * can take tens of seconds) does not hold the SUBSCRIBE back: the consumer was made at the
   * first subscribe, the master makes sure of it at every SUBSCRIBE, and the feed reads it
   * again once JetStream answers.
   */
  private async ensureUpdates(): Promise<void> {
    try {
      await this.statusUpdates.ensure();
    } catch (e) {
      if (!this.statusUpdates.ensured || !isRetryable(e)) throw e;
      this.log.warn({ err: e }, 'cannot check the updates consumer now; resubscribing anyway (it was made at the first subscribe)');
    }
  }

  private subscribeError(e: unknown, subject: string): unknown {
    if (e instanceof NoRespondersError) {
      return new NoMasterError(this.opts.cluster, this.servers, `nobody listens on ${subject}`, { cause: e });
    }
    if (e instanceof RequestTimeoutError) {
      return new NoMasterError(this.opts.cluster, this.servers, `SUBSCRIBE got no answer within ${this.opts.requestTimeoutMs} ms`, {
        cause: e,
      });
    }
    if (e instanceof CallRejectedError) return new SubscribeRejectedError(e.code, e.message, { cause: e });
    return e;
  }

  /**
   * Resubscribes with backoff until SUBSCRIBED arrives, the master refuses for good, or
   * `close`. A new term announced meanwhile (the leader key) ends the pause and restarts the
   * backoff: the attempts so far went to a master that no longer leads, or to none.
   */
  private async resubscribe(): Promise<void> {
    this.termWhileResubscribing = false;
    for (let attempt = 1; this.current === 'disconnected'; attempt++) {
      try {
        await this.subscribeOnce();
        return;
      } catch (e) {
        if (this.current !== 'disconnected') return;
        if (e instanceof SubscribeRejectedError && !e.retryable) {
          this.log.error({ err: e }, 'the master refused to resubscribe the framework; giving up');
          this.end();
          return;
        }
        this.log.warn({ err: e, attempt }, 'resubscribe failed; trying again');
      }
      if (!this.termWhileResubscribing) {
        const pause = backoffDelay(attempt, this.opts.resubscribeBackoffMs, this.opts.maxResubscribeBackoffMs, this.opts.random);
        const wake = (this.wakeResubscribe = new AbortController());
        await sleep(pause, undefined, { signal: AbortSignal.any([this.closing.signal, wake.signal]) }).catch(() => {});
        this.wakeResubscribe = undefined;
      }
      if (this.termWhileResubscribing) {
        this.termWhileResubscribing = false;
        attempt = 0; // the next attempt is the first towards the new leader
      }
    }
  }

  // ---- events -----------------------------------------------------------------------

  /** Runs in the mailbox for each decoded event. */
  private onEvent(ev: SchedulerEvent): void {
    if (this.current === 'closed') return;
    if (ev.epoch < this.newestEpoch) {
      this.fencedEvents += 1;
      this.log.debug({ type: ev.type, epoch: ev.epoch, newest: this.newestEpoch }, 'dropped an event from an older master epoch');
      return;
    }
    this.newestEpoch = ev.epoch;
    this.eventsSeen += 1;
    this.watchdog?.refresh();
    if (ev.type === 'SUBSCRIBED') this.onSubscribed(ev);
    if (ev.type === 'ERROR') {
      this.log.error({ message: ev.message }, 'the master ended the framework');
      this.end();
    }
    this.dispatcher.event(ev);
  }

  private onSubscribed(ev: SubscribedEvent): void {
    if (ev.frameworkId !== this.frameworkId) {
      this.log.warn({ frameworkId: ev.frameworkId }, 'ignored SUBSCRIBED for another framework');
      return;
    }
    this.master = ev.masterId;
    this.heartbeatMs = ev.heartbeatIntervalSeconds * 1000;
    if (this.current !== 'ended') {
      this.current = 'subscribed';
      this.armWatchdog();
    }
    this.log.info({ masterId: ev.masterId, epoch: ev.epoch, heartbeatIntervalSeconds: ev.heartbeatIntervalSeconds }, 'subscribed');
    this.waiter?.resolve(ev);
    this.waiter = undefined;
    if (this.opts.reconcileOnSubscribe) this.track(this.reconcile(), 'implicit reconcile');
  }

  /** Starts (or restarts) the missed-heartbeats timer; every accepted event refreshes it. */
  private armWatchdog(): void {
    this.stopWatchdog();
    if (this.heartbeatMs === undefined) return;
    const limitMs = this.heartbeatMs * this.opts.missedHeartbeats;
    this.watchdog = setTimeout(() => {
      const seen = this.eventsSeen;
      this.mailbox.post(() => {
        if (seen === this.eventsSeen) this.onSilence(limitMs); // else an event came in meanwhile and re-armed it
      });
    }, limitMs);
    this.watchdog.unref();
  }

  private stopWatchdog(): void {
    if (this.watchdog !== undefined) clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }

  private onSilence(limitMs: number): void {
    this.lostMaster(`no event from the master for ${this.opts.missedHeartbeats} heartbeat intervals (${limitMs} ms)`);
  }

  /**
   * The leader key names a newer term than any event so far: a failover. Events of older
   * terms are dropped from now on, and the framework subscribes again with its id.
   */
  private onNewTerm(epoch: number, masterId: string): void {
    if (epoch <= this.newestEpoch || this.current === 'closed' || this.current === 'ended') return;
    this.newestEpoch = epoch;
    if (this.current === 'disconnected') {
      // Already resubscribing (silence, or an earlier term): go to the new leader now, not
      // after a backoff grown on attempts that could not succeed.
      this.log.info({ masterId, epoch }, 'a new master leads: resubscribing to it now');
      this.termWhileResubscribing = true;
      this.wakeResubscribe?.abort();
      return;
    }
    this.lostMaster(`master ${masterId} leads now (epoch ${epoch})`);
  }

  /** The subscription is no longer good (silence, a failover, NOT_SUBSCRIBED): resubscribe with backoff. */
  private lostMaster(reason: string): void {
    if (this.current !== 'subscribed') return;
    this.current = 'disconnected';
    this.stopWatchdog();
    this.log.warn({ masterId: this.master }, `${reason}; resubscribing`);
    this.dispatcher.disconnected(reason);
    this.resubscribing ??= this.resubscribe().finally(() => (this.resubscribing = undefined));
  }

  /** The framework is over (ERROR, TEARDOWN, refused resubscribe): no more resubscribing, no more updates. */
  private end(): void {
    if (this.current === 'closed') return;
    this.current = 'ended';
    this.stopWatchdog();
    this.track(this.statusUpdates.stop(), 'stop reading updates');
  }

  // ---- calls ------------------------------------------------------------------------

  private async send(message: SchedulerCall): Promise<void> {
    if (this.current === 'closed') throw new SchedulerClosedError(`close() was called before ${message.type}`);
    try {
      await this.call(this.subjects.schedulerCall(this.framework.principal), message, Reply, {
        timeoutMs: this.opts.requestTimeoutMs,
      });
    } catch (e) {
      // A master that does not know us (a new leader we have not heard of yet): subscribe again.
      if (e instanceof CallRejectedError && e.code === 'NOT_SUBSCRIBED') this.mailbox.post(() => this.lostMaster(`${message.type} was refused: ${e.message}`));
      throw e;
    }
  }

  /** Runs a call nobody awaits: failures are logged, and `close` waits for it. */
  private track(work: Promise<unknown>, what: string): void {
    const p = work.catch((err: unknown) => {
      if (this.current !== 'closed') this.log.warn({ err }, `${what} failed`);
    });
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }
}
