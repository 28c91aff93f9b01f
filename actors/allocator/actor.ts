// The allocator actor: the shell around `AllocatorCore` that lives inside the leading
// master. Callers use the facade; every call becomes one operation on a FIFO mailbox, so the
// core sees one change at a time. Calls that can free or add offerable resources request an
// allocation run; requests coalesce (one run pending at a time). As Mesos's
// `allocationCandidates`, a run triggered by a change of one agent (added, reactivated,
// resources recovered, an operation) visits only the agents that changed; changes of
// frameworks or roles (added, revived, weights, quota) and the periodic run visit all. A requested run is queued on the next turn of the event loop
// (`setImmediate`), behind every call that arrived with the one that asked for it: the master
// handles a burst of messages read from the socket together (a hundred REVIVEs, registrations,
// ACCEPTs) before the run, so the run sees them all. A timer requests a run every
// `allocationIntervalMs` too. Offers leave through `onOffers`, as data; with an offer timeout,
// offers outstanding too long leave through `onExpired` after each run. A bad call is logged
// and counted; it never stops the actor (operations, whose caller must know, reject instead).
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { Resources } from '../../protocol/resources.js';
import type { Rng } from '../runtime/rng.js';
import { AllocatorCore, type ExpiredOffer, type FrameworkOptions, type OfferDecision } from './core.js';
import { ActorStoppedError } from '../runtime/errors.js';
import { Mailbox } from '../runtime/mailbox.js';
import type { ResourceOperation } from './operations.js';
import type { Quota } from './quota.js';
import type { SorterFactory } from './sorter.js';

/** Options of `AllocatorActor`; only `clock`, `rng` and `onOffers` are required. */
export interface AllocatorActorOptions {
  /** Milliseconds now; `Date.now` in production, a manual clock in tests. */
  clock: () => number;
  /** Randomness for the agent shuffle; seed it to replay a run. */
  rng: Rng;
  /** Receives the decisions of each run that produced any. */
  onOffers: (decisions: OfferDecision[]) => void;
  /** Period of the batch allocation; default 1000 ms. */
  allocationIntervalMs?: number;
  /** Makes the core's sorters (default DRF; `() => new RandomSorter(rng)` for random). */
  sorterFactory?: SorterFactory;
  /** Minimum offer handed to the core (see `parseMinAllocatable`). */
  minAllocatable?: Resources[];
  /** Offers outstanding this long are reported through `onExpired` (default: never). */
  offerTimeoutMs?: number;
  /** Receives offers that outstayed the offer timeout: rescind them, then recover their resources. */
  onExpired?: (expired: ExpiredOffer[]) => void;
  /** Where failures and runs are logged. */
  logger?: Logger;
}

/** A run over every active agent (the periodic run, and changes of frameworks or roles). */
const ALL = Symbol('all agents');

/** What a change asks a run to visit: the one agent whose resources changed, or all. */
type RunScope = string | typeof ALL;

/** Default period of the batch allocation (Mesos's `--allocation_interval`). */
export const DEFAULT_ALLOCATION_INTERVAL_MS = 1000;

/** The allocator behind a mailbox: a facade of async methods, offers through a callback. */
export class AllocatorActor {
  private readonly core: AllocatorCore;
  private readonly mailbox = new Mailbox('allocator');
  private readonly clock: () => number;
  private readonly rng: Rng;
  private readonly onOffers: (decisions: OfferDecision[]) => void;
  private readonly onExpired: ((expired: ExpiredOffer[]) => void) | undefined;
  private readonly intervalMs: number;
  private readonly logger: Logger | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private runPending = false;
  /** The agents the pending run visits: those whose resources changed, or all. */
  private candidates: Set<string> | typeof ALL = new Set();
  /** The deferred queueing of a requested run, until it is queued on the mailbox. */
  private deferred: ReturnType<typeof setImmediate> | undefined;
  private stopped = false;
  private runCount = 0;
  private failureCount = 0;
  private runSecondsTotal = 0;
  private runSecondsLast = 0;

  constructor(options: AllocatorActorOptions) {
    this.core = new AllocatorCore({
      ...(options.sorterFactory !== undefined && { sorterFactory: options.sorterFactory }),
      ...(options.minAllocatable !== undefined && { minAllocatable: options.minAllocatable }),
      ...(options.offerTimeoutMs !== undefined && { offerTimeoutMs: options.offerTimeoutMs }),
    });
    this.onExpired = options.onExpired;
    this.clock = options.clock;
    this.rng = options.rng;
    this.onOffers = options.onOffers;
    this.intervalMs = options.allocationIntervalMs ?? DEFAULT_ALLOCATION_INTERVAL_MS;
    this.logger = options.logger?.child({ actor: 'allocator' });
  }

  /** Allocation runs performed so far. */
  get runs(): number {
    return this.runCount;
  }

  /** Time spent in allocation runs so far, in seconds. */
  get secondsTotal(): number {
    return this.runSecondsTotal;
  }

  /** Duration of the latest allocation run, in seconds. */
  get lastSeconds(): number {
    return this.runSecondsLast;
  }

  /** Operations that failed (logged and skipped) so far. */
  get failures(): number {
    return this.failureCount;
  }

  /** Starts the periodic allocation. Calls made before `start` are applied (and may allocate) too. */
  start(): void {
    if (this.timer !== undefined || this.stopped) return;
    this.timer = setInterval(() => this.requestRun(ALL, true), this.intervalMs);
  }

  /** Stops the timer, drops later calls, and resolves once queued work (runs included) is done. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.whenIdle();
  }

  /** Resolves once the mailbox is empty, including any run the queued calls requested (queued at once). */
  async whenIdle(): Promise<void> {
    await this.mailbox.idle();
    while (this.deferred !== undefined) {
      this.queueRun();
      await this.mailbox.idle();
    }
  }

  /** Adds an agent (see `AllocatorCore.addAgent`); requests a run. */
  addAgent(agentId: string, total: Resources, used?: ReadonlyMap<string, Resources>): Promise<void> {
    return this.apply('addAgent', () => this.core.addAgent(agentId, total, used, this.clock()), agentId);
  }

  /** Removes an agent. */
  removeAgent(agentId: string): Promise<void> {
    return this.apply('removeAgent', () => this.core.removeAgent(agentId), false);
  }

  /** Reactivates an agent; requests a run. */
  activateAgent(agentId: string): Promise<void> {
    return this.apply('activateAgent', () => this.core.activateAgent(agentId), agentId);
  }

  /** Deactivates an agent. */
  deactivateAgent(agentId: string): Promise<void> {
    return this.apply('deactivateAgent', () => this.core.deactivateAgent(agentId), false);
  }

  /** Adds a framework; requests a run. */
  addFramework(frameworkId: string, options: FrameworkOptions, used?: ReadonlyMap<string, Resources>): Promise<void> {
    return this.apply('addFramework', () => this.core.addFramework(frameworkId, options, used, this.clock()), ALL);
  }

  /** Changes a framework's roles and/or suppressed roles (MULTI_ROLE UPDATE_FRAMEWORK); requests a run. */
  updateFramework(frameworkId: string, options: { roles?: string[]; suppressed?: string[] }): Promise<void> {
    return this.apply('updateFramework', () => this.core.updateFramework(frameworkId, options), ALL);
  }

  /** Removes a framework; what it held is free again, so requests a run. */
  removeFramework(frameworkId: string): Promise<void> {
    return this.apply('removeFramework', () => this.core.removeFramework(frameworkId), ALL);
  }

  /** Reactivates a framework; requests a run. */
  activateFramework(frameworkId: string): Promise<void> {
    return this.apply('activateFramework', () => this.core.activateFramework(frameworkId), ALL);
  }

  /** Deactivates a framework. */
  deactivateFramework(frameworkId: string): Promise<void> {
    return this.apply('deactivateFramework', () => this.core.deactivateFramework(frameworkId), false);
  }

  /** Returns resources to the pool (from `role`'s holding if given), filtering them for `refuseSeconds` if given; requests a run. */
  recoverResources(
    frameworkId: string,
    agentId: string,
    resources: Resources,
    refuseSeconds?: number,
    role?: string,
  ): Promise<void> {
    return this.apply(
      'recoverResources',
      () => this.core.recoverResources(frameworkId, agentId, resources, refuseSeconds, this.clock(), role),
      agentId,
    );
  }

  /** Marks offered resources as accepted (in use): no longer outstanding offers. */
  offerAccepted(frameworkId: string, agentId: string, resources: Resources, role?: string): Promise<void> {
    return this.apply('offerAccepted', () => this.core.offerAccepted(frameworkId, agentId, resources, role), false);
  }

  /** Suppresses offers to a framework for `roles` (default all). */
  suppress(frameworkId: string, roles?: string[]): Promise<void> {
    return this.apply('suppress', () => this.core.suppress(frameworkId, roles), false);
  }

  /** Revives offers to a framework for `roles` (default all) and clears its filters; requests a run. */
  revive(frameworkId: string, roles?: string[]): Promise<void> {
    return this.apply('revive', () => this.core.revive(frameworkId, roles), ALL);
  }

  /** Sets a role's weight; requests a run. Rejects with `InvalidWeightError`/`InvalidRoleError`. */
  setWeight(role: string, weight: number): Promise<void> {
    return this.attempt(() => this.core.setWeight(role, weight), ALL);
  }

  /** Sets a top-level role's quota; requests a run. Rejects with `InvalidQuotaError`. */
  setQuota(role: string, quota: Quota): Promise<void> {
    return this.attempt(() => this.core.setQuota(role, quota), ALL);
  }

  /** Removes a role's quota; requests a run. */
  removeQuota(role: string): Promise<void> {
    return this.attempt(() => this.core.removeQuota(role), ALL);
  }

  /**
   * Applies RESERVE / UNRESERVE / CREATE / DESTROY (see `AllocatorCore.applyOperation`);
   * requests a run. Rejects with the core's error when the operation is refused.
   */
  applyOperation(agentId: string, op: ResourceOperation, by?: { frameworkId?: string; role?: string }): Promise<void> {
    return this.attempt(() => this.core.applyOperation(agentId, op, by), agentId);
  }

  /** Reads the core through the mailbox, after every call queued before it; rejects on unknown ids. */
  read<T>(view: (core: AllocatorCore) => T): Promise<T> {
    return this.mailbox.run(() => view(this.core));
  }

  /**
   * Queues one mutation; the promise resolves once applied and never rejects (failures are
   * logged). `triggers`: the agent whose resources it changed, `ALL` agents, or none (`false`).
   */
  private apply(op: string, mutate: () => void, triggers: RunScope | false): Promise<void> {
    if (this.stopped) {
      this.logger?.warn({ op }, 'allocator stopped: call dropped');
      return Promise.resolve();
    }
    return this.mailbox.run(() => {
      try {
        mutate();
        if (triggers !== false) this.requestRun(triggers);
      } catch (err) {
        this.failureCount += 1;
        this.logger?.warn({ op, err }, 'allocator call failed');
      }
    });
  }

  /** Queues a call whose caller must know if it failed: the promise rejects with the core's error. */
  private attempt(mutate: () => void, scope: RunScope): Promise<void> {
    if (this.stopped) return Promise.reject(new ActorStoppedError('allocator'));
    return this.mailbox.run(() => {
      mutate();
      this.requestRun(scope);
    });
  }

  /**
   * Marks one run pending over `scope` (an agent, or all), queued on the mailbox on the next
   * turn of the event loop (behind the calls that arrive meanwhile), or at once with `now`
   * (the periodic run); further requests join it and widen its scope.
   */
  private requestRun(scope: RunScope, now = false): void {
    if (scope === ALL) this.candidates = ALL;
    else if (this.candidates !== ALL) this.candidates.add(scope);
    if (this.runPending) {
      if (now && this.deferred !== undefined) this.queueRun();
      return;
    }
    this.runPending = true;
    if (now) this.queueRun();
    else this.deferred = setImmediate(() => this.queueRun());
  }

  /** Queues the pending run on the mailbox now. */
  private queueRun(): void {
    if (this.deferred !== undefined) clearImmediate(this.deferred);
    this.deferred = undefined;
    void this.mailbox.run(() => this.run());
  }

  private run(): void {
    this.runPending = false;
    const candidates = this.candidates;
    this.candidates = new Set();
    this.runCount += 1;
    let decisions: OfferDecision[];
    const started = performance.now();
    try {
      decisions = this.core.allocate(this.clock(), this.rng, candidates === ALL ? undefined : candidates);
    } catch (err) {
      this.failureCount += 1;
      this.logger?.error({ err }, 'allocation run failed');
      return;
    } finally {
      this.runSecondsLast = (performance.now() - started) / 1000;
      this.runSecondsTotal += this.runSecondsLast;
    }
    this.logger?.debug({ run: this.runCount, offers: decisions.length }, 'allocation run');
    if (decisions.length > 0) this.deliver('onOffers', () => this.onOffers(decisions));
    const onExpired = this.onExpired;
    if (onExpired === undefined) return;
    const expired = this.core.expiredOffers(this.clock());
    if (expired.length > 0) this.deliver('onExpired', () => onExpired(expired));
  }

  private deliver(what: string, call: () => void): void {
    try {
      call();
    } catch (err) {
      this.failureCount += 1;
      this.logger?.error({ err }, `${what} failed`);
    }
  }
}
