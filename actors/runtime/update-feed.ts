/**
 * Reading a durable consumer of the updates stream: each message is decoded as an
 * `UpdateRecord`, checked against its subject, and handed to `onUpdate` with the means to
 * settle it (ack, or nak for a redelivery). A message that does not decode, or whose body
 * names another framework or task than its subject, is logged and acknowledged, so that
 * nothing a peer publishes can block a consumer. The feed outlives a deleted consumer or a
 * JetStream restart: it finds its consumer again, backing off, until stopped.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { Buckets } from '../../protocol/buckets.js';
import { decode } from '../../protocol/codec.js';
import { Subjects } from '../../protocol/subjects.js';
import { UpdateRecord, type StatusUpdateRecord } from '../../protocol/updates.js';
import type { RefusalCounts } from './refusals.js';
import { backoffDelay } from './request.js';


/** How long a pull waits before it is renewed; a lost pull (consumer leader moved) is noticed after two idle heartbeats, i.e. about this long. */
const PULL_EXPIRES_MS = 5000;
/** One delivered update and the means to settle it. */
export interface DeliveredUpdate {
  /** The record, decoded and checked against its subject. */
  record: StatusUpdateRecord;
  /** Its stream sequence: a task's updates have increasing sequences, in the order they were made. */
  seq: number;
  /** How many times the server has delivered it (1 the first time). */
  deliveries: number;
  /** Acknowledges it: the server will not deliver it to this consumer again. */
  ack(): void;
  /** Gives it back: the server delivers it again after `delayMs` (default at once). */
  nak(delayMs?: number): void;
}

/** Options of an UpdateFeed. */
export interface UpdateFeedOptions {
  nc: NatsConnection;
  cluster: string;
  /** The durable consumer to read (it must exist; the feed waits for it). */
  consumer: string;
  logger: Logger;
  /** Called for each valid update, in delivery order. */
  onUpdate: (update: DeliveredUpdate) => void;
  /** Updates pulled at a time (default 256). */
  batch?: number;
  /** Random source in [0, 1) for the backoff jitter (default Math.random: shells only). */
  random?: () => number;
  /** Counts records dropped as invalid (union `UpdateRecord`; a body that names another framework or task than its subject counts as INVALID). */
  refusals?: RefusalCounts;
}

/** A running reader of one consumer. */
export class UpdateFeed {
  private readonly options: UpdateFeedOptions;
  private readonly log: Logger;
  private readonly subjects: Subjects;
  private readonly stream: string;
  private messages: ConsumerMessages | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly stopping = new AbortController();

  constructor(options: UpdateFeedOptions) {
    this.options = options;
    this.log = options.logger.child({ part: 'updates', consumer: options.consumer });
    this.subjects = new Subjects(options.cluster);
    this.stream = new Buckets(options.cluster).updates();
  }

  /** Starts reading (in the background). */
  start(): void {
    this.running ??= this.run();
  }

  /** Stops reading; updates delivered but not yet settled are redelivered by the server later. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    await this.messages?.close().catch(() => undefined);
    await this.running;
  }

  private async run(): Promise<void> {
    const js = jetstream(this.options.nc);
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        const consumer = await js.consumers.get(this.stream, this.options.consumer);
        // Pulls expire after 5 s (idle heartbeats every 2.5 s) instead of the client's 30 s:
        // when the consumer's Raft leader moves (its nats-server cut off or killed), the
        // pull it held is lost and only two missed heartbeats make the client pull again.
        const messages = await consumer.consume({ max_messages: this.options.batch ?? 256, expires: PULL_EXPIRES_MS, callback: (m) => this.onMessage(m) });
        this.messages = messages;
        if (this.stopped) await messages.close();
        attempt = 0;
        this.log.debug('reading updates');
        void this.watch(messages);
        await messages.closed();
      } catch (e) {
        if (this.stopped) return;
        this.log[attempt === 3 ? 'warn' : 'debug']({ err: e, attempt }, 'cannot read the updates consumer yet; retrying');
      }
      if (this.stopped) return;
      await sleep(backoffDelay(Math.max(1, attempt), 100, 2000, this.options.random ?? Math.random), undefined, { signal: this.stopping.signal }).catch(() => undefined);
    }
  }

  /** Ends the current reading when its consumer is deleted, so `run` finds (or waits for) it again. */
  private async watch(messages: ConsumerMessages): Promise<void> {
    for await (const status of messages.status()) {
      this.log.debug({ status }, 'consumer status');
      if (status.type === 'consumer_deleted') {
        this.log.info('the updates consumer was deleted');
        await messages.close().catch(() => undefined);
        return;
      }
    }
  }

  private onMessage(m: JsMsg): void {
    const decoded = decode(UpdateRecord, m.data);
    const named = this.subjects.parseStatusUpdate(m.subject);
    if (!decoded.ok || named === undefined || named.frameworkId !== decoded.value.frameworkId || named.taskId !== decoded.value.status.taskId) {
      this.options.refusals?.decodeError(UpdateRecord.name, decoded.ok ? 'INVALID' : decoded.error.code);
      this.log.warn({ subject: m.subject, seq: m.seq, err: decoded.ok ? 'body does not match its subject' : decoded.error.message }, 'dropped an invalid record of the updates stream');
      m.ack();
      return;
    }
    try {
      this.options.onUpdate({
        record: decoded.value,
        seq: m.seq,
        deliveries: m.info.deliveryCount,
        ack: () => m.ack(),
        nak: (delayMs) => m.nak(delayMs),
      });
    } catch (e) {
      this.log.error({ err: e, seq: m.seq }, 'an update handler failed; the update will be redelivered');
    }
  }
}
