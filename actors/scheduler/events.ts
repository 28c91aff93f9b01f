/**
 * Plumbing for handing events to framework code: typed listeners whose (async) results are
 * awaited, a bounded async iterator, and a pausable queue that runs deliveries one at a time.
 * Nothing here knows about NATS or the protocol.
 */

/** A listener; a returned promise is awaited before the next event is delivered. */
export type Listener<T> = (payload: T) => void | Promise<void>;

/** Listeners by event name, for a map of event names to payload types. */
export class Listeners<E extends object> {
  private readonly byName = new Map<keyof E, Array<Listener<never>>>();

  /** Adds `listener` for `name`; returns a function that removes it. */
  on<K extends keyof E>(name: K, listener: Listener<E[K]>): () => void {
    const list = this.byName.get(name) ?? [];
    list.push(listener as Listener<never>);
    this.byName.set(name, list);
    return () => this.off(name, listener);
  }

  /** Removes `listener` for `name` (no-op if absent). */
  off<K extends keyof E>(name: K, listener: Listener<E[K]>): void {
    const list = this.byName.get(name);
    const i = list?.indexOf(listener as Listener<never>) ?? -1;
    if (list !== undefined && i >= 0) list.splice(i, 1);
  }

  /** How many listeners `name` has. */
  count(name: keyof E): number {
    return this.byName.get(name)?.length ?? 0;
  }

  /** Calls the listeners of `name` one after another, awaiting each; returns what they threw. */
  async emit<K extends keyof E>(name: K, payload: E[K]): Promise<unknown[]> {
    const errors: unknown[] = [];
    for (const listener of [...(this.byName.get(name) ?? [])]) {
      try {
        await (listener as Listener<E[K]>)(payload);
      } catch (e) {
        errors.push(e);
      }
    }
    return errors;
  }
}

/** An async iterator fed by `push`; holds at most `capacity` items, dropping the oldest. */
export class EventStream<T> implements AsyncIterableIterator<T> {
  private readonly buffer: T[] = [];
  private waiter: ((result: IteratorResult<T>) => void) | undefined;
  private ended = false;
  /** Items dropped because the consumer fell `capacity` behind. */
  dropped = 0;

  constructor(
    private readonly capacity: number,
    private readonly onEnd: (stream: EventStream<T>) => void = () => {},
  ) {}

  /** True once ended (by `end`, `return` or a `break` out of `for await`). */
  get isEnded(): boolean {
    return this.ended;
  }

  /** Adds an item; returns false when the oldest had to be dropped to make room. */
  push(item: T): boolean {
    if (this.ended) return true;
    const waiter = this.waiter;
    if (waiter !== undefined) {
      this.waiter = undefined;
      waiter({ value: item, done: false });
      return true;
    }
    this.buffer.push(item);
    if (this.buffer.length <= this.capacity) return true;
    this.buffer.shift();
    this.dropped += 1;
    return false;
  }

  /** Ends the stream: buffered items are still yielded, then it is done. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.onEnd(this);
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.({ value: undefined, done: true });
  }

  /** The next item, waiting for one if none is buffered. */
  next(): Promise<IteratorResult<T>> {
    if (this.buffer.length > 0) return Promise.resolve({ value: this.buffer.shift() as T, done: false });
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /** Ends the stream early (called by `break` in `for await`), dropping what is buffered. */
  return(): Promise<IteratorResult<T>> {
    this.buffer.length = 0;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  /** The stream is its own iterator. */
  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}

/** Runs jobs one at a time in order; starts paused or running; a closed queue drops what is left. */
export class SerialQueue {
  private readonly jobs: Array<() => Promise<void>> = [];
  private readonly onError: (e: unknown) => void;
  private running = false;
  private paused: boolean;
  private closed = false;

  constructor(options: { paused?: boolean; onError: (e: unknown) => void }) {
    this.paused = options.paused ?? false;
    this.onError = options.onError;
  }

  /** Jobs waiting to run. */
  get length(): number {
    return this.jobs.length;
  }

  /** Queues a job (ignored once closed). */
  push(job: () => Promise<void>): void {
    if (this.closed) return;
    this.jobs.push(job);
    this.pump();
  }

  /** Starts running queued jobs. */
  resume(): void {
    this.paused = false;
    this.pump();
  }

  /** Drops queued jobs and refuses new ones; a job already running finishes on its own. */
  close(): void {
    this.closed = true;
    this.jobs.length = 0;
  }

  private pump(): void {
    if (this.running || this.paused) return;
    this.running = true;
    void this.drain();
  }

  private async drain(): Promise<void> {
    for (let job = this.jobs.shift(); job !== undefined && !this.closed; job = this.jobs.shift()) {
      try {
        await job();
      } catch (e) {
        this.onError(e);
      }
    }
    this.running = false;
  }
}
