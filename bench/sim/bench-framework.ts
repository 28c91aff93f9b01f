/**
 * A framework of the scale benchmark, written with the scheduler SDK. It holds the offers
 * it gets (declining what is above its share, so that offers spread over the frameworks),
 * and launches short tasks in one of two ways: one at a time, each after the previous one
 * is running (launch overhead on a quiet cluster), or as many as fit into every offer it
 * holds (placements per second). It records, per task, the time from sending ACCEPT to
 * seeing TASK_RUNNING, and the time from REVIVE to its first offer.
 */
import { OfferPool, Scheduler, TaskState, type Offer, type TaskSpec, type TaskStatus } from '../../actors/scheduler/index.js';
import type { Logger } from 'pino';
import { Resources } from '../../protocol/resources.js';
import type { NatsConnection } from '../../actors/runtime/nats.js';

/** How a bench framework behaves. */
export interface BenchFrameworkOptions {
  nc: NatsConnection;
  cluster: string;
  logger: Logger;
  name: string;
  /** Most offers held at once; more are declined (refused for 1 s) so that others get them. */
  holdCap: number;
  /** Resources of each task (Mesos text). */
  taskResources: string;
  /** Most tasks launched into one offer in the throughput mode. */
  tasksPerOffer: number;
  /**
   * Most tasks launched in the throughput mode and not yet seen running (or refused): the
   * framework's back-pressure, as a real framework paces itself on what runs rather than on
   * what the master accepted. Infinity: none (it launches into every offer it holds).
   */
  maxStaging: number;
}

type Mode = 'hold' | 'throughput' | 'stopped';

/**
 * How long an offer declined for being above the framework's share (or too small for a
 * task) is refused: Mesos's default `refuse_seconds` (Spark and Marathon decline for 120 s).
 * With 1 s, every resource a finished task freed went round the 100 frameworks, each
 * declining it in turn, every second: ~100 OFFERS and DECLINEs per finished task, most of
 * the master's work in the quiet phase.
 */
const EXCESS_REFUSE_SECONDS = Number(process.env.NESOS_BENCH_EXCESS_REFUSE_SECONDS ?? 5);

/**
 * ACCEPTs a framework has in flight at most in the throughput mode, as a real framework
 * would: at 10,000 agents each framework holds a hundred offers or more, and launching into
 * all of them at once sent 13,000 ACCEPTs (260,000 tasks) in one burst, most answered after
 * the SDK's 2 s request timeout.
 */
const MAX_ACCEPTS_IN_FLIGHT = 8;

/** One framework of the benchmark. */
export class BenchFramework {
  /** ACCEPT → TASK_RUNNING (ms) of tasks launched one at a time. */
  readonly quietLatencies: number[] = [];
  /**
   * The quiet launches split at the agent, by wall clock (one machine): ACCEPT sent → the
   * agent's TASK_RUNNING timestamp (master and agent), and that timestamp → the framework
   * seeing it (the updates stream and the SDK); and ACCEPT sent → its answer (the master,
   * which sends RUN_TASK before answering).
   */
  readonly quietSplits: { toAgent: number[]; agentToFramework: number[]; acceptAnswered: number[] } = { toAgent: [], agentToFramework: [], acceptAnswered: [] };
  /** ACCEPT → TASK_RUNNING (ms) of tasks launched in the throughput mode. */
  readonly loadedLatencies: number[] = [];
  /** Tasks whose ACCEPT was answered in the throughput mode. */
  launchedUnderLoad = 0;
  /** Tasks launched in the throughput mode and not yet seen running or refused (at most `maxStaging`). */
  staging = 0;
  /** Most tasks staging at once in the throughput mode. */
  stagingPeak = 0;
  /** Times the throughput mode held an offer back because `maxStaging` tasks were staging. */
  heldBack = 0;
  /** Offers declined in the throughput mode because `holdCap` were held. */
  declinedUnderLoad = 0;
  /** Updates seen, by state. */
  readonly updatesByState = new Map<string, number>();
  /** REVIVE → first OFFERS (ms), once revived. */
  offerLatencyMs: number | undefined;
  /** When (performance.now() ms) the latest OFFERS event arrived. */
  lastOffersAt: number | undefined;
  private readonly held = new Map<string, Offer>();
  private readonly sent = new Map<string, { at: number; wallAt: number; loaded: boolean }>();
  private readonly waiters = new Set<() => void>();
  private reviveAt: number | undefined;
  private mode: Mode = 'hold';
  /** ACCEPTs sent in the throughput mode and not answered yet. */
  private accepting = 0;
  private seq = 0;
  /** `taskResources`, parsed once. */
  private readonly need: Resources;

  private constructor(
    readonly sched: Scheduler,
    private readonly options: BenchFrameworkOptions,
  ) {
    this.need = Resources.parse(options.taskResources);
    sched.on('offers', (offers) => this.onOffers(offers));
    sched.on('update', (status) => this.onUpdate(status));
    sched.on('rescind', (offerId) => void this.held.delete(offerId)); // the offer timeout, an agent gone
  }

  /** Subscribes a framework and suppresses its offers at once; returns it and the time SUBSCRIBE took (ms). */
  static async connect(options: BenchFrameworkOptions): Promise<{ framework: BenchFramework; subscribeMs: number }> {
    const t0 = performance.now();
    const sched = await Scheduler.connect({ nc: options.nc, cluster: options.cluster, logger: options.logger, framework: { name: options.name }, resubscribeJitterMs: 1000 });
    const subscribeMs = performance.now() - t0;
    const framework = new BenchFramework(sched, options);
    await sched.suppress();
    return { framework, subscribeMs };
  }

  /** Offers held now. */
  get holding(): number {
    return this.held.size;
  }

  /** Calls that failed (timed out on a busy master, say); the benchmark goes on without them. */
  failedCalls = 0;

  /** Why the latest ACCEPT of the throughput mode failed. */
  lastFailure: string | undefined;

  /** Sends REVIVE (up to 3 attempts); `offerLatencyMs` is set at the first offer after the first attempt. */
  async revive(): Promise<void> {
    this.reviveAt = performance.now();
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.sched.revive();
        return;
      } catch {
        this.failedCalls += 1;
      }
    }
  }

  /** Launches `n` tasks one at a time, each once the previous one runs; stops at `deadline` (performance.now() ms). */
  async launchOneByOne(n: number, deadline: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const offer = await this.until(() => this.firstHeld(), deadline);
      if (offer === undefined) return;
      this.held.delete(offer.id);
      const taskId = this.nextTaskId();
      this.sent.set(taskId, { at: performance.now(), wallAt: Date.now(), loaded: false });
      try {
        const at = performance.now();
        await this.sched.launch(offer, [this.spec(taskId, this.options.taskResources)], { refuseSeconds: 0 });
        this.quietSplits.acceptAnswered.push(performance.now() - at);
      } catch {
        this.failedCalls += 1;
        this.sent.delete(taskId);
        continue;
      }
      if ((await this.until(() => (this.sent.has(taskId) ? undefined : true), deadline)) === undefined) return;
    }
  }

  /** Launches into every offer held and every offer that comes, until `stopLaunching`. */
  startLaunching(): void {
    this.mode = 'throughput';
    this.pump();
  }

  /** Stops launching; declines what it holds. */
  async stopLaunching(): Promise<void> {
    this.mode = 'stopped';
    const ids = [...this.held.keys()];
    this.held.clear();
    if (ids.length > 0) await this.sched.decline(ids, { refuseSeconds: 3600 }).catch(() => undefined);
  }

  /** Tasks launched and not yet seen running. */
  get awaitingRunning(): number {
    return this.sent.size;
  }

  /** Closes the SDK (the shared connection stays open). */
  async close(): Promise<void> {
    for (const w of this.waiters) w();
    await this.sched.close().catch(() => undefined);
  }

  private onOffers(offers: Offer[]): void {
    if (this.reviveAt !== undefined && this.offerLatencyMs === undefined && offers.length > 0) this.offerLatencyMs = performance.now() - this.reviveAt;
    this.lastOffersAt = performance.now();
    const excess: string[] = [];
    for (const offer of offers) {
      if (this.mode === 'stopped' || this.held.size >= this.options.holdCap) excess.push(offer.id);
      else this.held.set(offer.id, offer);
    }
    if (excess.length > 0) {
      if (this.mode === 'throughput') this.declinedUnderLoad += excess.length;
      void this.sched.decline(excess, { refuseSeconds: this.mode === 'stopped' ? 3600 : EXCESS_REFUSE_SECONDS }).catch(() => undefined);
    }
    if (this.mode === 'throughput') this.pump();
    this.wake();
  }

  private onUpdate(status: TaskStatus): void {
    this.updatesByState.set(status.state, (this.updatesByState.get(status.state) ?? 0) + 1);
    const sent = this.sent.get(status.taskId);
    if (sent === undefined || status.state === TaskState.FINISHED) return;
    this.sent.delete(status.taskId); // RUNNING, or refused (ERROR, DROPPED, LOST): no longer awaited
    if (sent.loaded) this.staging -= 1;
    if (status.state === TaskState.RUNNING) (sent.loaded ? this.loadedLatencies : this.quietLatencies).push(performance.now() - sent.at);
    if (status.state === TaskState.RUNNING && !sent.loaded) {
      const agentMs = status.timestamp * 1000;
      this.quietSplits.toAgent.push(agentMs - sent.wallAt);
      this.quietSplits.agentToFramework.push(Date.now() - agentMs);
    }
    if (sent.loaded && this.mode === 'throughput') this.pump();
    this.wake();
  }

  private pump(): void {
    const { tasksPerOffer, maxStaging } = this.options;
    for (const offer of [...this.held.values()]) {
      if (this.accepting >= MAX_ACCEPTS_IN_FLIGHT) return;
      // wait until a whole offer's worth of tasks fits in the window (or the window is empty),
      // so that the window does not turn into a stream of one-task ACCEPTs
      const room = maxStaging - this.staging;
      if (room < Math.min(tasksPerOffer, maxStaging)) {
        this.heldBack += 1;
        return;
      }
      this.held.delete(offer.id);
      const pool = new OfferPool(offer);
      const specs: TaskSpec[] = [];
      const limit = Math.min(tasksPerOffer, room);
      while (specs.length < limit) {
        const r = pool.take(this.need);
        if (r === undefined) break;
        specs.push(this.spec(this.nextTaskId(), r));
      }
      if (specs.length === 0) {
        void this.sched.decline([offer.id], { refuseSeconds: EXCESS_REFUSE_SECONDS }).catch(() => undefined);
        continue;
      }
      const at = performance.now();
      for (const s of specs) this.sent.set(s.taskId!, { at, wallAt: 0, loaded: true });
      this.staging += specs.length;
      this.stagingPeak = Math.max(this.stagingPeak, this.staging);
      this.accepting += 1;
      this.sched
        .launch(offer, specs, { refuseSeconds: 0 })
        .then(
          () => {
            this.launchedUnderLoad += specs.length;
          },
          (e: unknown) => {
            this.failedCalls += 1;
            this.lastFailure = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
            for (const s of specs) if (this.sent.delete(s.taskId!)) this.staging -= 1;
          },
        )
        .finally(() => {
          this.accepting -= 1;
          if (this.mode === 'throughput') this.pump();
        });
    }
  }

  private spec(taskId: string, resources: TaskSpec['resources']): TaskSpec {
    return { taskId, name: 'bench', command: 'true', resources };
  }

  private nextTaskId(): string {
    return `${this.options.name}-t${this.seq++}`;
  }

  private firstHeld(): Offer | undefined {
    return this.held.values().next().value;
  }

  /** Resolves with `get()` once it is defined, or undefined at `deadline`. */
  private until<T>(get: () => T | undefined, deadline: number): Promise<T | undefined> {
    const now = get();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(undefined), Math.max(0, deadline - performance.now()));
      const check = () => {
        const v = get();
        if (v !== undefined) done(v);
      };
      const done = (v: T | undefined) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(v);
      };
      this.waiters.add(check);
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}
