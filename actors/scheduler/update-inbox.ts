/**
 * The framework's side of status update ordering (pure: no NATS, no clock). The framework's
 * consumer may deliver several updates at once, and redeliver in any order what was not
 * acknowledged in time; this inbox hands framework code one update per task at a time, in
 * stream order, as Mesos's agent does: a task's next update is handed over only once the
 * previous one is acknowledged.
 *
 * Per task: the head (handed to framework code, not yet acknowledged) and the updates that
 * wait behind it, sorted by stream sequence. A redelivered head is handed over again once
 * the framework has been given it and has not acknowledged it (at-least-once); a redelivered
 * waiting update just replaces its copy. An update older than one already handed over for
 * its task, or already acknowledged, is acknowledged and dropped: handing it over would
 * break the task's order.
 *
 * A framework's new process may find updates that an earlier one received and never
 * acknowledged; the stream redelivers those only after their ack wait, after newer ones.
 * `holdFor` makes the inbox hand nothing over until they are all in (or `release` is
 * called when the wait is over), so that they come first, in order.
 */
import type { StoredStatus } from '../../protocol/updates.js';
import { canTransition } from '../../protocol/task-lifecycle.js';
import { TaskState, isTerminal } from '../../protocol/task-state.js';
import type { AcknowledgeMode } from './options.js';

/** An update as the consumer delivered it: its status, its stream sequence, how to settle it. */
export interface InboxUpdate {
  status: StoredStatus;
  seq: number;
  /** Acknowledges it to the stream. */
  ack(): void;
  /** Gives it back; the stream delivers it again after `delayMs` (default at once). */
  nak(delayMs?: number): void;
}

/** What `receive` did with an update. */
export type ReceiveOutcome =
  /** Handed to framework code (first time, or again after it went unacknowledged). */
  | 'delivered'
  /** Waits behind an earlier update of its task. */
  | 'queued'
  /** A copy of an update handed over and not yet settled, or already waiting: kept, not handed over again. */
  | 'copy'
  /** Already acknowledged (the acknowledgement was lost): acknowledged again and dropped. */
  | 'duplicate'
  /** Older than an update of its task already handed over: acknowledged and dropped. */
  | 'stale'
  /**
   * A move the task lifecycle forbids after what was handed over last (anything after a
   * terminal update, UNREACHABLE twice, STAGING after UNREACHABLE): acknowledged and
   * dropped, so framework code only ever sees a legal history of each task.
   */
  | 'illegal';

/** Options of an UpdateInbox. */
export interface UpdateInboxOptions {
  /** Hands one update to framework code (the Dispatcher, which reports back through `handled`). */
  deliver: (status: StoredStatus) => void;
  mode: AcknowledgeMode;
  /** In 'auto' mode, how long after a failed listener the update comes again (default 1000 ms). */
  retryDelayMs?: number;
  /** How many ended tasks' last sequences are remembered, to drop late copies (default 10 000). */
  rememberEnded?: number;
  /** Told of each update dropped as a move the lifecycle forbids (for the log). */
  onIllegal?: (status: StoredStatus, after: TaskState) => void;
}

interface Line {
  head: { update: InboxUpdate; phase: 'delivering' | 'awaiting-ack' } | undefined;
  /** Sorted by sequence. */
  waiting: InboxUpdate[];
  /** Highest sequence acknowledged (0: none). */
  acked: number;
  /** The state of the update handed over last (undefined: none yet). */
  last?: TaskState;
}

/** Orders a framework's updates per task and tracks what is handed over and acknowledged. */
export class UpdateInbox {
  private readonly lines = new Map<string, Line>();
  private readonly ended = new Map<string, number>();
  /** The task of each head, by uuid. */
  private readonly heads = new Map<string, string>();
  /** While set: hand nothing over until `count` distinct updates with sequence ≤ `upTo` have arrived. */
  private hold: { count: number; upTo: number; seen: Set<number> } | undefined;
  private readonly options: UpdateInboxOptions;

  constructor(options: UpdateInboxOptions) {
    this.options = options;
  }

  /** Updates held: handed over and unacknowledged, or waiting. */
  get held(): number {
    let n = 0;
    for (const line of this.lines.values()) n += line.waiting.length + (line.head === undefined ? 0 : 1);
    return n;
  }

  /** True while updates are held back for an earlier process's unacknowledged ones (`holdFor`). */
  get holding(): boolean {
    return this.hold !== undefined;
  }

  /**
   * Hands nothing over until `count` updates with a stream sequence up to `upTo` have arrived
   * (those delivered to an earlier process and not acknowledged), then each task's oldest.
   */
  holdFor(count: number, upTo: number): void {
    this.hold = count > 0 ? { count, upTo, seen: new Set() } : undefined;
  }

  /** Ends a `holdFor` wait: each task's oldest held update is handed over. */
  release(): void {
    if (this.hold === undefined) return;
    this.hold = undefined;
    for (const [taskId, line] of this.lines) {
      const next = line.head === undefined ? line.waiting.shift() : undefined;
      if (next !== undefined) this.handOver(taskId, line, next);
    }
  }

  /** Takes one delivery from the consumer. */
  receive(update: InboxUpdate): ReceiveOutcome {
    const taskId = update.status.taskId;
    const ended = this.ended.get(taskId);
    const line = this.lines.get(taskId) ?? { head: undefined, waiting: [], acked: ended ?? 0 };
    if (update.seq <= line.acked) {
      update.ack();
      return 'duplicate';
    }
    if (ended !== undefined && !this.lines.has(taskId)) {
      // the task's terminal update was handed over and acknowledged: nothing comes after it
      update.ack();
      this.options.onIllegal?.(update.status, TaskState.FINISHED);
      return 'illegal';
    }
    this.lines.set(taskId, line);
    if (this.hold !== undefined) {
      if (update.seq <= this.hold.upTo) this.hold.seen.add(update.seq);
      const outcome = this.wait(line, update);
      if (this.hold.seen.size >= this.hold.count) this.release();
      return outcome;
    }
    const head = line.head;
    if (head === undefined) {
      if (!this.legal(line, update)) return 'illegal';
      this.handOver(taskId, line, update);
      return 'delivered';
    }
    if (update.seq === head.update.seq) {
      head.update = update;
      if (head.phase === 'delivering') return 'copy';
      head.phase = 'delivering';
      this.options.deliver(update.status);
      return 'delivered';
    }
    if (update.seq < head.update.seq) {
      update.ack();
      return 'stale';
    }
    return this.wait(line, update);
  }

  /** Puts an update among its task's waiting ones, in sequence order (a copy replaces its twin). */
  private wait(line: Line, update: InboxUpdate): 'queued' | 'copy' {
    const i = line.waiting.findIndex((w) => w.seq >= update.seq);
    if (i >= 0 && line.waiting[i]!.seq === update.seq) {
      line.waiting[i] = update;
      return 'copy';
    }
    line.waiting.splice(i < 0 ? line.waiting.length : i, 0, update);
    return 'queued';
  }

  /** Framework code has seen update `uuid` (its listeners resolved, or one threw when `ok` is false). */
  handled(uuid: string, ok: boolean): void {
    const found = this.headOf(uuid);
    if (found === undefined || found.line.head?.phase !== 'delivering') return;
    if (this.options.mode === 'auto' && ok) {
      this.acknowledge(uuid);
      return;
    }
    found.line.head.phase = 'awaiting-ack';
    if (this.options.mode === 'auto') found.line.head.update.nak(this.options.retryDelayMs ?? 1000);
  }

  /** Acknowledges the head update `uuid` and hands over its task's next; false when no head has that uuid. */
  acknowledge(uuid: string): boolean {
    const found = this.headOf(uuid);
    if (found === undefined) return false;
    const { taskId, line } = found;
    const head = line.head!.update;
    head.ack();
    line.acked = head.seq;
    this.heads.delete(uuid);
    line.head = undefined;
    for (let next = line.waiting.shift(); next !== undefined; next = line.waiting.shift()) {
      if (!this.legal(line, next)) continue;
      this.handOver(taskId, line, next);
      return true;
    }
    if (isTerminal(head.status.state)) this.forget(taskId, line.acked);
    return true;
  }

  /** True when `update` is a legal next move of its task; else acknowledges it and records it as seen (dropped). */
  private legal(line: Line, update: InboxUpdate): boolean {
    const last = line.last;
    if (last === undefined || canTransition(last, update.status.state)) return true;
    update.ack();
    line.acked = Math.max(line.acked, update.seq);
    this.options.onIllegal?.(update.status, last);
    return false;
  }

  private handOver(taskId: string, line: Line, update: InboxUpdate): void {
    line.head = { update, phase: 'delivering' };
    line.last = update.status.state;
    this.heads.set(update.status.uuid, taskId);
    this.options.deliver(update.status);
  }

  private headOf(uuid: string): { taskId: string; line: Line } | undefined {
    const taskId = this.heads.get(uuid);
    const line = taskId === undefined ? undefined : this.lines.get(taskId);
    return taskId === undefined || line === undefined ? undefined : { taskId, line };
  }

  private forget(taskId: string, acked: number): void {
    this.lines.delete(taskId);
    this.ended.delete(taskId);
    this.ended.set(taskId, acked);
    const limit = this.options.rememberEnded ?? 10_000;
    for (const oldest of this.ended.keys()) {
      if (this.ended.size <= limit) break;
      this.ended.delete(oldest);
    }
  }
}
