/**
 * A mailbox: jobs run one at a time, in arrival order. An actor's state is touched only
 * from its mailbox, so handlers never interleave even when they await. Draining starts on
 * a microtask, never inside the caller's stack: everything posted in one synchronous
 * stretch is queued before the first job runs (which is what lets triggers coalesce).
 * A long queue is drained in slices of about `SLICE_MS`: between slices the event loop
 * runs timers and I/O (a leader's lease renewal among them), so that a burst of thousands
 * of jobs does not hold the process for seconds. A job that returns no promise is not
 * awaited: jobs that finish at once run back to back, with no microtask turn between them,
 * so the NATS client (which flushes its buffer on a microtask) writes what they sent in
 * one system call instead of one per job.
 *
 * Jobs posted with `postUrgent` (a leading master's framework calls) run before the others
 * that wait, in their own arrival order, but never more than `URGENT_RUN_MAX` in a row while
 * others wait: a busy master answers an ACCEPT behind a handful of jobs, not behind the
 * thousands of heartbeats and status updates a loaded cluster queues, and those still move.
 */
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Logger } from 'pino';
import { ActorStoppedError } from './errors.js';
import { Fifo } from './fifo.js';

type Job = () => unknown | Promise<unknown>;

/** How long (ms) a mailbox runs jobs back to back before it lets the event loop do other work. */
export const SLICE_MS = 20;

/** Urgent jobs run in a row at most while other jobs wait: the others get at least one turn in this many plus one. */
export const URGENT_RUN_MAX = 8;

/** A FIFO of jobs run one at a time (urgent ones first, see `postUrgent`). A job that throws is logged; the mailbox goes on. */
export class Mailbox {
  private readonly queue = new Fifo<Job>();
  private readonly urgent = new Fifo<Job>();
  /** Urgent jobs run since the last other one. */
  private urgentRun = 0;
  private running = false;
  private closed = false;
  private idleWaiters: Array<() => void> = [];
  private readonly name: string;
  private readonly logger: Logger | undefined;
  /** Jobs run so far. */
  processed = 0;
  /** Jobs that threw. */
  failed = 0;

  constructor(name: string, logger?: Logger) {
    this.name = name;
    this.logger = logger;
  }

  /** Jobs waiting to run. */
  get length(): number {
    return this.queue.length + this.urgent.length;
  }

  /** Queues a job; resolves with its result once it has run. */
  run<T>(job: () => T | Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new ActorStoppedError(this.name));
    return new Promise<T>((resolve, reject) => {
      this.queue.push(async () => {
        try {
          resolve(await job());
        } catch (e) {
          reject(e); // the caller handles it; not counted as a mailbox failure
        }
      });
      this.pump();
    });
  }

  /** Queues a job whose result nobody waits for; a failure is logged. */
  post(job: Job): void {
    if (this.closed) return;
    this.queue.push(job);
    this.pump();
  }

  /** Queues a job ahead of the other waiting jobs (behind earlier urgent ones); a failure is logged. */
  postUrgent(job: Job): void {
    if (this.closed) return;
    this.urgent.push(job);
    this.pump();
  }

  /**
   * Queues `handle` over `items` in jobs of at most `size` items, each job queued at the back
   * once the previous one has run, so that jobs posted meanwhile (a framework's ACCEPT while
   * 50,000 offers are being made) wait for one chunk, not for all of them. A chunk that
   * throws is logged like any job, and the rest still run.
   */
  postInChunks<T>(items: readonly T[], size: number, handle: (chunk: readonly T[]) => void): void {
    const step = Math.max(1, Math.floor(size));
    const from = (start: number): void => {
      if (start >= items.length) return;
      this.post(() => {
        try {
          handle(items.slice(start, start + step));
        } finally {
          from(start + step);
        }
      });
    };
    from(0);
  }

  /** Resolves when no job is queued or running. */
  idle(): Promise<void> {
    if (!this.running && this.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Refuses new jobs, then resolves when the queued ones have run. */
  async close(): Promise<void> {
    this.closed = true;
    await this.idle();
  }

  private pump(): void {
    if (this.running) return;
    this.running = true;
    queueMicrotask(() => void this.drain());
  }

  /** The next job: an urgent one unless `URGENT_RUN_MAX` ran in a row and others wait. */
  private next(): Job | undefined {
    if (this.urgent.length > 0 && (this.urgentRun < URGENT_RUN_MAX || this.queue.length === 0)) {
      this.urgentRun += 1;
      return this.urgent.shift();
    }
    this.urgentRun = 0;
    return this.queue.shift();
  }

  private async drain(): Promise<void> {
    let sliceStart = performance.now();
    for (let job = this.next(); job !== undefined; job = this.next()) {
      if (performance.now() - sliceStart >= SLICE_MS) {
        await nextTurn();
        sliceStart = performance.now();
      }
      try {
        const r = job();
        if (r instanceof Promise) await r;
      } catch (e) {
        this.failed += 1;
        this.logger?.error({ err: e, mailbox: this.name }, 'job failed');
      }
      this.processed += 1;
    }
    this.running = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
