/**
 * A framework's status updates: its durable consumer of the cluster's updates stream
 * (`fw_<frameworkId>`, created before every SUBSCRIBE so that no update of the framework
 * can be published before it exists), read by an UpdateFeed into an UpdateInbox that hands
 * framework code one update per task at a time, in order. Acknowledging an update is a
 * JetStream ack on that consumer. A framework that comes back with the same id resumes the
 * same consumer and gets what it had not acknowledged: what was never delivered at once, what
 * an earlier process received and did not acknowledge after the consumer's ack wait, and,
 * held back until then, in order.
 *
 * Closing gives nothing back explicitly: on nats-server 2.9 a nak right after a pull ends
 * can be delivered to the ended pull request and lost until the ack wait, so the ack wait is
 * what brings unacknowledged updates to the next process.
 */
import type { ConsumerInfo } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { Buckets } from '../../protocol/buckets.js';
import type { TaskStatus } from '../../protocol/schema.js';
import type { StoredStatus } from '../../protocol/updates.js';
import { UpdateFeed } from '../runtime/update-feed.js';
import { ensureFrameworkConsumer, ensureUpdateStream } from '../runtime/update-stream.js';
import type { AcknowledgeMode } from './options.js';
import { UpdateInbox } from './update-inbox.js';

/** Options of FrameworkUpdates. */
export interface FrameworkUpdatesOptions {
  nc: NatsConnection;
  cluster: string;
  frameworkId: string;
  logger: Logger;
  mode: AcknowledgeMode;
  /** Hands one update to framework code (the Dispatcher, which reports back through `handled`). */
  deliver: (status: StoredStatus) => void;
  /** Timeout of each JetStream API request. */
  requestTimeoutMs: number;
  /** The consumer's ack wait: an update not acknowledged within it is delivered again. */
  redeliveryMs: number;
  /** Random source in [0, 1) for the feed's backoff jitter. */
  random: () => number;
}

/** The framework's end of the updates stream. */
export class FrameworkUpdates {
  private readonly options: FrameworkUpdatesOptions;
  private readonly inbox: UpdateInbox;
  private readonly feed: UpdateFeed;
  private readonly log: Logger;
  private started = false;
  private consumer: ConsumerInfo | undefined;
  private ensuredOnce = false;
  private holdTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: FrameworkUpdatesOptions) {
    this.options = options;
    this.log = options.logger;
    this.inbox = new UpdateInbox({
      mode: options.mode,
      deliver: options.deliver,
      onIllegal: (status, after) =>
        this.log.warn({ taskId: status.taskId, uuid: status.uuid, state: status.state, after }, 'dropped an update the task lifecycle forbids after the one delivered last'),
    });
    this.feed = new UpdateFeed({
      nc: options.nc,
      cluster: options.cluster,
      consumer: new Buckets(options.cluster).frameworkUpdatesConsumer(options.frameworkId),
      logger: options.logger,
      random: options.random,
      onUpdate: (u) => {
        const outcome = this.inbox.receive({ status: u.record.status, seq: u.seq, ack: u.ack, nak: u.nak });
        if (outcome === 'stale') this.log.info({ taskId: u.record.status.taskId, uuid: u.record.status.uuid, seq: u.seq }, 'dropped an update older than one already delivered for its task');
      },
    });
  }

  /** Creates the stream (if missing) and the framework's consumer (if missing, else with our settings). Throws UpdateStreamError (retryable). */
  async ensure(): Promise<void> {
    const { nc, cluster, frameworkId, requestTimeoutMs, redeliveryMs } = this.options;
    await ensureUpdateStream(nc, cluster, { timeoutMs: requestTimeoutMs });
    this.consumer = await ensureFrameworkConsumer(nc, cluster, frameworkId, { ackWaitMs: redeliveryMs, timeoutMs: requestTimeoutMs });
    this.ensuredOnce = true;
  }

  /** True once `ensure` has succeeded: the stream and the framework's consumer existed then. */
  get ensured(): boolean {
    return this.ensuredOnce;
  }

  /**
   * Starts reading the consumer (once, after `ensure`). If an earlier process left updates
   * unacknowledged, nothing is handed over until they are redelivered (at most the ack wait).
   */
  start(): void {
    if (this.started) return;
    this.started = true;
    const pending = this.consumer?.num_ack_pending ?? 0;
    if (pending > 0) {
      const upTo = this.consumer?.delivered.stream_seq ?? 0;
      this.inbox.holdFor(pending, upTo);
      this.log.info({ pending, waitMs: this.options.redeliveryMs }, 'an earlier process left updates unacknowledged: holding updates back until they are redelivered');
      this.holdTimer = setTimeout(() => this.inbox.release(), this.options.redeliveryMs + 1000);
      this.holdTimer.unref();
    }
    this.feed.start();
  }

  /** Framework code has seen `status` (its listeners resolved, or one threw when `ok` is false). */
  handled(status: TaskStatus, ok: boolean): void {
    if (status.uuid !== undefined) this.inbox.handled(status.uuid, ok);
  }

  /** Acknowledges `status` to the stream if it is the update handed over for its task; false otherwise. */
  acknowledge(status: TaskStatus): boolean {
    return status.uuid !== undefined && this.inbox.acknowledge(status.uuid);
  }

  /** Updates held: handed over and unacknowledged, or waiting behind one that is. */
  get held(): number {
    return this.inbox.held;
  }

  /** Stops reading; what is held stays unacknowledged, and is redelivered (to a next process) after the ack wait. */
  async stop(): Promise<void> {
    if (this.holdTimer !== undefined) clearTimeout(this.holdTimer);
    await this.feed.stop();
  }
}
