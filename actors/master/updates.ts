/**
 * The leader's side of the updates stream: it sets the stream up (with the leader's maximum
 * age), reads the master's consumer and hands each update over, publishes the master's own
 * updates one after another in the order the core made them, and creates or deletes
 * framework consumers, also in order. Nothing is published or deleted once this master may
 * no longer act as leader: a deposed leader must not speak for the cluster.
 */
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { Buckets } from '../../protocol/buckets.js';
import { Subjects } from '../../protocol/subjects.js';
import { isTerminal } from '../../protocol/task-state.js';
import type { StoredStatus } from '../../protocol/updates.js';
import type { NatsConnection } from '../runtime/nats.js';
import type { RefusalCounts } from '../runtime/refusals.js';
import { backoffDelay } from '../runtime/request.js';
import { UpdateSupersededError } from '../runtime/errors.js';
import { UpdateFeed, type DeliveredUpdate } from '../runtime/update-feed.js';
import {
  DEFAULT_UPDATE_STREAM_SETTINGS,
  deleteFrameworkConsumer,
  ensureFrameworkConsumer,
  ensureUpdateStream,
  lastSequenceOf,
  publishUpdate,
} from '../runtime/update-stream.js';

/** Tasks whose own latest update sequence a master remembers at most. */
const MAX_TRACKED_TASKS = 100_000;

/** Options of MasterUpdates. */
export interface MasterUpdatesOptions {
  nc: NatsConnection;
  cluster: string;
  logger: Logger;
  /** True while this master may act as leader. */
  mayAct: () => boolean;
  /** Called for each update read from the master's consumer; it must ack or nak it. */
  onUpdate: (update: DeliveredUpdate) => void;
  /** The stream's maximum age (default 7 days); the leader's setting rules. */
  maxAgeMs?: number;
  /** Attempts per publish or consumer operation before giving up (default 20, about 30 s). */
  attempts?: number;
  /** True when the core has applied an update of the task newer than `afterSeq` (see MasterCore.appliedAfter). */
  appliedAfter?: (frameworkId: string, taskId: string, afterSeq: number) => boolean;
  /** Where invalid records of the stream are counted. */
  refusals?: RefusalCounts;
}

/** The updates stream, as the leading master uses it. */
export class MasterUpdates {
  private readonly options: MasterUpdatesOptions;
  private readonly log: Logger;
  private readonly js: JetStreamClient;
  private readonly subjects: Subjects;
  private readonly feed: UpdateFeed;
  private publishing: Promise<void> = Promise.resolve();
  private consumerOps: Promise<void> = Promise.resolve();
  private queued = 0;
  /**
   * Per task (`<frameworkId>/<taskId>`), the stream sequence of this master's own latest
   * update of it; forgotten once the task's terminal update is published. Bounded.
   */
  private readonly ownSeq = new Map<string, number>();
  private stopped = false;
  private stopping = false;

  constructor(options: MasterUpdatesOptions) {
    this.options = options;
    this.log = options.logger.child({ part: 'updates' });
    this.js = jetstream(options.nc);
    this.subjects = new Subjects(options.cluster);
    this.feed = new UpdateFeed({
      nc: options.nc,
      cluster: options.cluster,
      consumer: new Buckets(options.cluster).masterUpdatesConsumer(),
      logger: options.logger,
      onUpdate: options.onUpdate,
      ...(options.refusals !== undefined && { refusals: options.refusals }),
    });
  }

  /** Sets the stream up (creating it and the master's consumer if missing), then starts reading. */
  async start(): Promise<void> {
    const settings = { ...DEFAULT_UPDATE_STREAM_SETTINGS, ...(this.options.maxAgeMs !== undefined && { maxAgeMs: this.options.maxAgeMs }) };
    await ensureUpdateStream(this.options.nc, this.options.cluster, { settings, enforce: true });
    this.feed.start();
  }

  /**
   * Queues a master-made update; it is published after those queued before. With
   * `afterSeq` (the task's last update the core had applied when it made this one), or
   * after an own update of the task, the publish is conditional: the stream takes it only
   * if the task's subject holds nothing newer. So an update of the task's agent the master
   * had not read yet (say the agent's TASK_FINISHED, published just before the master
   * declared the agent unreachable) wins: the master's update is dropped, and the core
   * decides again when it reads the agent's (`onStatusUpdate`). It is dropped too when the
   * core has applied a newer update of the task by the time its turn comes. Interest
   * retention removes updates every reader has acknowledged, so a refusal is checked
   * against the subject's last message: when nothing newer is there, the update is
   * published unconditionally.
   */
  publish(frameworkId: string, status: StoredStatus, afterSeq?: number): void {
    this.queued += 1;
    const what = `publish update ${status.uuid} (${status.state}) of task ${status.taskId}`;
    const key = `${frameworkId}/${status.taskId}`;
    this.publishing = this.publishing
      .then(() =>
        this.persist(what, async () => {
          if (afterSeq !== undefined && this.options.appliedAfter?.(frameworkId, status.taskId, afterSeq) === true) {
            this.log.info({ taskId: status.taskId, state: status.state, afterSeq }, 'master-made update dropped: the master has applied a newer update of the task since');
            return;
          }
          const own = this.ownSeq.get(key);
          const expected = afterSeq === undefined ? own : Math.max(afterSeq, own ?? 0);
          const record = { type: 'STATUS_UPDATE' as const, frameworkId, status };
          let seq: number;
          try {
            seq = await publishUpdate(this.js, this.subjects, record, 2000, expected);
          } catch (e) {
            if (!(e instanceof UpdateSupersededError) || expected === undefined) throw e;
            const last = await lastSequenceOf(this.options.nc, this.options.cluster, frameworkId, status.taskId);
            // Asked again: an update newer than `expected` that is gone from the stream was
            // acknowledged by this master, so applied first — and then this one is stale.
            const applied = afterSeq !== undefined && this.options.appliedAfter?.(frameworkId, status.taskId, afterSeq) === true;
            if (applied || (last !== undefined && last > expected)) {
              this.log.info({ taskId: status.taskId, state: status.state, expected, last }, 'master-made update dropped: the task has a newer update in the stream, which decides');
              return;
            }
            seq = await publishUpdate(this.js, this.subjects, record, 2000);
          }
          this.ownSeq.delete(key);
          if (!isTerminal(status.state)) {
            this.ownSeq.set(key, seq);
            if (this.ownSeq.size > MAX_TRACKED_TASKS) this.ownSeq.delete(this.ownSeq.keys().next().value!);
          }
        }),
      )
      .finally(() => (this.queued -= 1));
  }

  /** Queues the creation or deletion of a framework's consumer, after the operations queued before. */
  frameworkConsumer(op: 'ensure' | 'delete', frameworkId: string): void {
    const { nc, cluster } = this.options;
    const what = `${op === 'ensure' ? 'create' : 'delete'} the updates consumer of framework ${frameworkId}`;
    this.consumerOps = this.consumerOps.then(() =>
      this.persist(what, () => (op === 'ensure' ? ensureFrameworkConsumer(nc, cluster, frameworkId, { createOnly: true }) : deleteFrameworkConsumer(nc, cluster, frameworkId))),
    );
  }

  /** Master-made updates not yet published. */
  get backlog(): number {
    return this.queued;
  }

  /** Stops reading the master's consumer; updates read and not yet settled are redelivered later. */
  async stopReading(): Promise<void> {
    await this.feed.stop();
  }

  /** Waits (at most `timeoutMs`) for queued publishes and consumer operations; later ones are dropped. */
  async stop(timeoutMs = 3000): Promise<void> {
    this.stopping = true;
    await this.feed.stop();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([Promise.all([this.publishing, this.consumerOps]), deadline]);
    clearTimeout(timer);
    this.stopped = true;
  }

  /** Runs `work` until it succeeds, backing off, while this master may act; logs what it gives up. */
  private async persist(what: string, work: () => Promise<unknown>): Promise<void> {
    const attempts = this.options.attempts ?? 20;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      // The gate may close for a moment (a renewal late on a busy machine): wait for it to
      // open again, and give up only once this master has stopped leading.
      while (!this.options.mayAct() && !this.stopping) await new Promise((r) => setTimeout(r, 50));
      if (this.stopped || !this.options.mayAct()) {
        this.log.warn(`not leading any more: did not ${what}`);
        return;
      }
      try {
        await work();
        return;
      } catch (e) {
        this.log.warn({ err: e, attempt }, `could not ${what}; retrying`);
        await new Promise((r) => setTimeout(r, backoffDelay(attempt, 100, 2000, Math.random)));
      }
    }
    this.log.error(`gave up: could not ${what}`);
  }
}
