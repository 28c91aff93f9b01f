/**
 * The agent's status update manager (pure): per task, a FIFO of updates waiting for the
 * framework's acknowledgement. Only the head of a task's queue is in flight: it is sent
 * when it becomes the head and resent every `retryMs` until acknowledged by uuid; then the
 * next is sent. So a task's updates reach the master at least once and in order.
 *
 * No clock, no I/O: callers pass `now` (ms) and send what the methods return.
 */
import type { TaskStatus } from '../../protocol/schema.js';

/** An update to send (or resend) to the master. */
export interface UpdateToSend {
  frameworkId: string;
  status: TaskStatus;
}

/** What an acknowledgement did: popped the head, or was ignored (a duplicate, or one we never sent first). */
export type AckOutcome =
  | { outcome: 'acknowledged'; next: UpdateToSend | undefined; drained: boolean }
  | { outcome: 'duplicate' | 'not-head' | 'unknown' };

interface Stream {
  frameworkId: string;
  queue: TaskStatus[];
  /** When the head was last sent; set whenever there is a head. */
  sentAt: number | undefined;
  /** Uuids already acknowledged, to tell a duplicate ack from an unknown one. */
  acknowledged: Set<string>;
}

/** Per-task FIFOs of status updates, head in flight until acknowledged. */
export class StatusUpdateQueue {
  private readonly streams = new Map<string, Stream>();

  /** @param retryMs how long the head waits for its acknowledgement before it is resent. */
  constructor(private readonly retryMs: number) {}

  /** Appends an update (it must carry a uuid). Returns it when it became the head: send it now. */
  enqueue(frameworkId: string, status: TaskStatus, now: number): UpdateToSend | undefined {
    if (status.uuid === undefined) throw new TypeError(`status update for ${status.taskId} has no uuid`);
    let stream = this.streams.get(status.taskId);
    if (stream === undefined) {
      stream = { frameworkId, queue: [], sentAt: undefined, acknowledged: new Set() };
      this.streams.set(status.taskId, stream);
    }
    stream.queue.push(status);
    if (stream.queue.length > 1) return undefined;
    stream.sentAt = now;
    return { frameworkId: stream.frameworkId, status };
  }

  /** Pops the head when `uuid` is its uuid; returns the next head to send, if any. */
  acknowledge(taskId: string, uuid: string, now: number): AckOutcome {
    const stream = this.streams.get(taskId);
    if (stream === undefined) return { outcome: 'unknown' };
    if (stream.acknowledged.has(uuid)) return { outcome: 'duplicate' };
    const head = stream.queue[0];
    if (head === undefined || head.uuid !== uuid) {
      return { outcome: stream.queue.some((s) => s.uuid === uuid) ? 'not-head' : 'unknown' };
    }
    stream.queue.shift();
    stream.acknowledged.add(uuid);
    const next = stream.queue[0];
    stream.sentAt = next === undefined ? undefined : now;
    return {
      outcome: 'acknowledged',
      next: next === undefined ? undefined : { frameworkId: stream.frameworkId, status: next },
      drained: next === undefined,
    };
  }

  /** Heads that have waited `retryMs` or more since last sent; marks them sent at `now`. */
  due(now: number): UpdateToSend[] {
    const out: UpdateToSend[] = [];
    for (const stream of this.streams.values()) {
      const head = stream.queue[0];
      if (head === undefined || stream.sentAt === undefined || now - stream.sentAt < this.retryMs) continue;
      stream.sentAt = now;
      out.push({ frameworkId: stream.frameworkId, status: head });
    }
    return out;
  }

  /** Every head, to send at once (after re-registering with a master); marks them sent at `now`. */
  heads(now: number): UpdateToSend[] {
    const out: UpdateToSend[] = [];
    for (const stream of this.streams.values()) {
      const head = stream.queue[0];
      if (head === undefined) continue;
      stream.sentAt = now;
      out.push({ frameworkId: stream.frameworkId, status: head });
    }
    return out;
  }

  /** The updates of a task not yet acknowledged, head first. */
  pending(taskId: string): readonly TaskStatus[] {
    return this.streams.get(taskId)?.queue ?? [];
  }

  /** True when the task has updates waiting for acknowledgement. */
  hasPending(taskId: string): boolean {
    return this.pending(taskId).length > 0;
  }

  /** The uuid of the task's update in flight, if any. */
  inFlight(taskId: string): string | undefined {
    return this.streams.get(taskId)?.queue[0]?.uuid;
  }

  /** Drops everything known about a task (its updates and the record of acknowledged ones). */
  forget(taskId: string): void {
    this.streams.delete(taskId);
  }

  /** Tasks with a stream (pending updates or acknowledged history). */
  tasks(): string[] {
    return [...this.streams.keys()];
  }
}
