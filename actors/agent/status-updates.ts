/**
 * The agent's status update manager (pure): per task, a FIFO of updates on their way into
 * the cluster's updates stream. Only a task's head is published; the next is published once
 * the stream has acknowledged the head (its PubAck), so a task's updates enter the stream,
 * and so reach every reader, in the order they were made. A failed publish is tried again
 * after a backoff (from `firstRetryMs`, doubling up to `maxRetryMs`); the uuid is the
 * message id, so a publish whose PubAck was lost is stored once.
 *
 * No clock, no I/O: callers pass `now` (ms) and publish what the methods return.
 */
import type { StoredStatus } from '../../protocol/updates.js';

/** An update to publish. */
export interface UpdateToPublish {
  frameworkId: string;
  status: StoredStatus;
}

/** What a PubAck did: popped the head (and maybe gave the next to publish), or matched nothing. */
export type PublishedOutcome =
  | { outcome: 'published'; status: StoredStatus; next: UpdateToPublish | undefined; drained: boolean }
  | { outcome: 'unknown' };

interface Line {
  frameworkId: string;
  queue: StoredStatus[];
  /** True while the head's publish is under way. */
  inFlight: boolean;
  /** Failed attempts of the head so far. */
  failures: number;
  /** When the head may be tried again (set while it waits after a failure). */
  retryAt: number | undefined;
}

/** Per-task FIFOs of status updates, the head being published. */
export class StatusUpdateQueue {
  private readonly lines = new Map<string, Line>();

  /**
   * @param maxRetryMs longest pause between attempts to publish a head.
   * @param firstRetryMs pause after the first failure (doubled after each further one).
   */
  constructor(
    private readonly maxRetryMs: number,
    private readonly firstRetryMs = 100,
  ) {}

  /** Appends an update. Returns it when it became the head: publish it now. */
  enqueue(frameworkId: string, status: StoredStatus): UpdateToPublish | undefined {
    let line = this.lines.get(status.taskId);
    if (line === undefined) {
      line = { frameworkId, queue: [], inFlight: false, failures: 0, retryAt: undefined };
      this.lines.set(status.taskId, line);
    }
    line.queue.push(status);
    if (line.queue.length > 1) return undefined;
    line.inFlight = true;
    return { frameworkId, status };
  }

  /** The stream acknowledged update `uuid`: pops it if it is the head in flight; returns the next head to publish. */
  published(taskId: string, uuid: string): PublishedOutcome {
    const line = this.lines.get(taskId);
    const head = line?.queue[0];
    if (line === undefined || head === undefined || head.uuid !== uuid || !line.inFlight) return { outcome: 'unknown' };
    line.queue.shift();
    line.failures = 0;
    line.retryAt = undefined;
    const next = line.queue[0];
    line.inFlight = next !== undefined;
    return {
      outcome: 'published',
      status: head,
      next: next === undefined ? undefined : { frameworkId: line.frameworkId, status: next },
      drained: next === undefined,
    };
  }

  /** Publishing update `uuid` failed: returns when it will be tried again, or undefined if it is not the head in flight. */
  failed(taskId: string, uuid: string, now: number): number | undefined {
    const line = this.lines.get(taskId);
    if (line === undefined || line.queue[0]?.uuid !== uuid || !line.inFlight) return undefined;
    line.inFlight = false;
    line.failures += 1;
    line.retryAt = now + Math.min(this.maxRetryMs, this.firstRetryMs * 2 ** Math.min(20, line.failures - 1));
    return line.retryAt;
  }

  /** Heads whose retry time has come; marks them in flight. */
  due(now: number): UpdateToPublish[] {
    const out: UpdateToPublish[] = [];
    for (const line of this.lines.values()) {
      const head = line.queue[0];
      if (head === undefined || line.inFlight || line.retryAt === undefined || now < line.retryAt) continue;
      line.inFlight = true;
      line.retryAt = undefined;
      out.push({ frameworkId: line.frameworkId, status: head });
    }
    return out;
  }

  /** The task's updates not yet in the stream, head first. */
  pending(taskId: string): readonly StoredStatus[] {
    return this.lines.get(taskId)?.queue ?? [];
  }

  /** True when the task has updates not yet in the stream. */
  hasPending(taskId: string): boolean {
    return this.pending(taskId).length > 0;
  }

  /** True while update `uuid` of the task is not yet in the stream. */
  isPending(taskId: string, uuid: string): boolean {
    return this.pending(taskId).some((s) => s.uuid === uuid);
  }

  /** Updates of every task not yet in the stream. */
  get size(): number {
    let n = 0;
    for (const line of this.lines.values()) n += line.queue.length;
    return n;
  }

  /** Drops everything known about a task. */
  forget(taskId: string): void {
    this.lines.delete(taskId);
  }
}
