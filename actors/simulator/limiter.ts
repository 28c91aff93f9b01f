/**
 * A concurrency limiter: at most `max` jobs under way, the rest wait in arrival order,
 * urgent ones (`addFirst`) before the others. The queues are lists with a moving head (no
 * `shift`), so 50,000 waiting jobs cost O(1) each.
 */

/** Runs async jobs, at most `max` at a time: urgent ones first, each kind in the order added. */
export class Limiter {
  private urgent: Array<() => Promise<void>> = [];
  private urgentHead = 0;
  private waiting: Array<() => Promise<void>> = [];
  private head = 0;
  private active = 0;
  private idle: Array<() => void> = [];

  /** @param max jobs under way at most (≥ 1). */
  constructor(private readonly max: number) {}

  /** Jobs waiting to start. */
  get queued(): number {
    return this.waiting.length - this.head + this.urgent.length - this.urgentHead;
  }

  /** Jobs under way. */
  get running(): number {
    return this.active;
  }

  /** Adds a job; it starts when a slot is free. A job's rejection is its own business: catch inside. */
  add(job: () => Promise<void>): void {
    this.waiting.push(job);
    this.pump();
  }

  /** Adds a job that starts before every job added with `add` still waiting. */
  addFirst(job: () => Promise<void>): void {
    this.urgent.push(job);
    this.pump();
  }

  /** Drops every job that has not started. */
  clear(): void {
    this.waiting = [];
    this.head = 0;
    this.urgent = [];
    this.urgentHead = 0;
    this.settle();
  }

  /** Resolves once nothing is under way or waiting. */
  whenIdle(): Promise<void> {
    if (this.active === 0 && this.queued === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    while (this.active < this.max && this.queued > 0) {
      let job: () => Promise<void>;
      if (this.urgentHead < this.urgent.length) {
        job = this.urgent[this.urgentHead]!;
        this.urgentHead += 1;
        if (this.urgentHead > 1024 && this.urgentHead * 2 > this.urgent.length) {
          this.urgent = this.urgent.slice(this.urgentHead);
          this.urgentHead = 0;
        }
      } else {
        job = this.waiting[this.head]!;
        this.head += 1;
        if (this.head > 1024 && this.head * 2 > this.waiting.length) {
          this.waiting = this.waiting.slice(this.head);
          this.head = 0;
        }
      }
      this.active += 1;
      void job()
        .catch(() => undefined)
        .finally(() => {
          this.active -= 1;
          this.pump();
          this.settle();
        });
    }
  }

  private settle(): void {
    if (this.active > 0 || this.queued > 0) return;
    const waiters = this.idle;
    this.idle = [];
    for (const w of waiters) w();
  }
}
