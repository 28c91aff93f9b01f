/**
 * The chaos workload framework: a process of its own (`node dist/bin/chaos/framework-main.js
 * <config.json>`), so that the chaos run can SIGKILL, SIGSTOP and restart it. Every start
 * reads its journal, subscribes with the same framework id (partition-aware, with a
 * failover timeout), reconciles what it had not settled, and goes on launching a steady
 * stream of tasks of every kind; every status update it sees is journaled before it is
 * acknowledged. When the drain file appears it stops launching, kills what is left, waits
 * (bounded) until every task settled, tears the framework down and exits.
 */
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LevelWithSilent, Logger } from 'pino';
import { createRootLogger } from '../../actors/runtime/logger.js';
import { createRng, type Rng } from '../../actors/runtime/rng.js';
import { OfferPool, Scheduler, isRetryable, type Offer, type TaskSpec, type TaskStatus } from '../../actors/scheduler/index.js';
import { FrameworkStartError } from './errors.js';
import { DEFAULT_PLAN_TIMINGS, planStep } from './framework-plan.js';
import { appendJournal, readJournal } from './journal.js';
import { taskViews } from './task-views.js';
import type { JournalEntry, TaskKind } from './types.js';
import { TASK_RESOURCES, nextTaskKind, taskSpec } from './workload.js';

/** The framework's configuration, written by the chaos run as JSON. */
export interface FrameworkConfig {
  servers: string[];
  cluster: string;
  frameworkId: string;
  journal: string;
  /** When this file exists the framework drains; it holds the wall-clock deadline (ms) for settling. */
  drainFile: string;
  seed: number;
  logLevel: string;
  /** Unsettled tasks at most. */
  maxInFlight: number;
  /** Tasks launched per second at most. */
  launchesPerSecond: number;
  /** The process ends after this long whatever happens, ms (a bound on its loop). */
  maxRunMs: number;
  /** How long the master keeps the framework's tasks once it is gone, s (default 600). */
  failoverTimeoutSeconds?: number;
}

const TICK_MS = 250;
/** How long a start keeps trying to subscribe (a master may be down, or NATS), ms. */
const CONNECT_DEADLINE_MS = 90_000;

class Workload {
  private readonly journal: JournalEntry[];
  private readonly asked = new Map<string, number>();
  private readonly killed = new Map<string, number>();
  private readonly rng: Rng;
  private launchTokens = 0;
  private lastRefill = Date.now();
  private draining = false;
  private seq = 0;

  constructor(
    private readonly config: FrameworkConfig,
    private readonly sched: Scheduler,
    private readonly log: Logger,
    journal: JournalEntry[],
    incarnation: number,
  ) {
    this.journal = journal;
    this.rng = createRng((config.seed * 7919 + incarnation) >>> 0);
  }

  record(entry: JournalEntry): void {
    appendJournal(this.config.journal, entry);
    this.journal.push(entry);
  }

  onUpdate(s: TaskStatus): void {
    this.record({
      t: 'update',
      at: Date.now(),
      taskId: s.taskId,
      state: s.state,
      source: s.source,
      ...(s.uuid !== undefined && { uuid: s.uuid }),
      ...(s.agentId !== undefined && { agentId: s.agentId }),
      ...(s.reason !== undefined && { reason: s.reason }),
      ...(s.healthy !== undefined && { healthy: s.healthy }),
    });
  }

  async onOffers(offers: Offer[]): Promise<void> {
    this.refill();
    const plan = planStep(taskViews(this.journal), Date.now(), this.draining, this.asked, this.killed, { ...DEFAULT_PLAN_TIMINGS, maxInFlight: this.config.maxInFlight });
    let room = Math.min(plan.launchRoom, Math.floor(this.launchTokens));
    for (const offer of offers) {
      const pool = new OfferPool(offer);
      const specs: Array<{ spec: TaskSpec; kind: TaskKind }> = [];
      while (room > 0 && pool.fits(TASK_RESOURCES)) {
        const kind = nextTaskKind(this.rng);
        const taskId = `${kind}-${this.config.seed}-${process.pid}-${++this.seq}`;
        specs.push({ kind, spec: { ...taskSpec(kind, taskId), resources: pool.take(TASK_RESOURCES)! } });
        room--;
        this.launchTokens--;
      }
      if (specs.length === 0) {
        await this.sched.decline([offer.id], { refuseSeconds: this.draining ? 5 : 0.5 }).catch(() => undefined);
        continue;
      }
      for (const { kind, spec } of specs) this.record({ t: 'launch', at: Date.now(), taskId: spec.taskId!, kind, agentId: offer.agentId });
      const taskIds = specs.map((s) => s.spec.taskId!);
      try {
        await this.sched.launch(offer, specs.map((s) => s.spec), { refuseSeconds: 0.5 });
        this.record({ t: 'accept', at: Date.now(), taskIds, outcome: 'ok' });
      } catch (e) {
        this.record({ t: 'accept', at: Date.now(), taskIds, outcome: 'failed', error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
      }
    }
  }

  private refill(): void {
    const now = Date.now();
    this.launchTokens = Math.min(this.config.launchesPerSecond * 2, this.launchTokens + ((now - this.lastRefill) / 1000) * this.config.launchesPerSecond);
    this.lastRefill = now;
  }

  /** One turn of the loop: drain check, reconcile, kill. Resolves true once drained. */
  async tick(): Promise<boolean> {
    const deadline = this.drainDeadline();
    if (deadline !== undefined && !this.draining) {
      this.draining = true;
      this.log.info('draining');
      await this.sched.suppress().catch(() => undefined);
    }
    const now = Date.now();
    const plan = planStep(taskViews(this.journal), now, this.draining, this.asked, this.killed, { ...DEFAULT_PLAN_TIMINGS, maxInFlight: this.config.maxInFlight });
    if (this.draining && (plan.unsettled === 0 || (deadline !== undefined && now > deadline))) {
      this.record({ t: 'drained', at: now, unsettled: plan.unsettled });
      return true;
    }
    for (const k of plan.kill) {
      this.killed.set(k.taskId, now);
      this.record({ t: 'kill', at: now, taskId: k.taskId });
      void this.sched.kill(k.taskId, { agentId: k.agentId, gracePeriodMs: 500 }).catch(() => undefined);
    }
    if (plan.reconcile.length > 0) {
      for (const r of plan.reconcile) this.asked.set(r.taskId, now);
      await this.sched.reconcile(plan.reconcile.slice(0, 200)).catch(() => undefined);
    }
    return false;
  }

  private drainDeadline(): number | undefined {
    if (!existsSync(this.config.drainFile)) return undefined;
    const n = Number(readFileSync(this.config.drainFile, 'utf8').trim());
    return Number.isFinite(n) && n > 0 ? n : Date.now() + 30_000;
  }
}

async function connect(config: FrameworkConfig, log: Logger): Promise<Scheduler> {
  const deadline = Date.now() + CONNECT_DEADLINE_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await Scheduler.connect({
        servers: config.servers,
        cluster: config.cluster,
        framework: { name: 'chaos', principal: 'chaos', id: config.frameworkId, capabilities: ['PARTITION_AWARE'], failoverTimeoutSeconds: config.failoverTimeoutSeconds ?? 600 },
        acknowledge: 'auto',
        updateRedeliveryMs: 3000,
        logger: log,
      });
    } catch (e) {
      if (!isRetryable(e) || Date.now() > deadline) throw new FrameworkStartError(attempt, { cause: e });
      log.warn({ attempt, err: e instanceof Error ? e.message : String(e) }, 'cannot subscribe yet; retrying');
      await sleep(500);
    }
  }
}

async function main(): Promise<void> {
  const path = process.argv[2];
  if (path === undefined) throw new FrameworkStartError(0, { cause: new Error('usage: framework-main.js <config.json>') });
  const config = JSON.parse(readFileSync(path, 'utf8')) as FrameworkConfig;
  const log = createRootLogger({ level: config.logLevel as LevelWithSilent });
  const journal = readJournal(config.journal);
  const incarnation = journal.filter((e) => e.t === 'start').length + 1;
  appendJournal(config.journal, { t: 'start', at: Date.now(), incarnation, pid: process.pid, frameworkId: config.frameworkId });
  journal.push({ t: 'start', at: Date.now(), incarnation, pid: process.pid, frameworkId: config.frameworkId });
  const sched = await connect(config, log);
  const work = new Workload(config, sched, log, journal, incarnation);
  let stopping = false;
  const stop = (): void => {
    stopping = true;
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  sched.on('update', (s) => work.onUpdate(s));
  sched.on('offers', (offers) => work.onOffers(offers));
  sched.on('subscribed', (ev) => work.record({ t: 'subscribed', at: Date.now(), masterId: ev.masterId, epoch: ev.epoch }));
  work.record({ t: 'subscribed', at: Date.now(), masterId: sched.masterId ?? '?', epoch: sched.epoch });
  let drained = false;
  const endBy = Date.now() + config.maxRunMs;
  while (!stopping && !drained && Date.now() < endBy) {
    drained = await work.tick();
    await sleep(TICK_MS);
  }
  if (drained) await sched.teardown().catch((e: unknown) => log.warn({ err: String(e) }, 'teardown failed'));
  await sched.close();
  log.flush();
}

main().catch((e: unknown) => {
  process.stderr.write(`chaos framework: ${e instanceof Error ? `${e.message}${e.cause instanceof Error ? `: ${e.cause.message}` : ''}` : String(e)}\n`);
  process.exit(1);
});
