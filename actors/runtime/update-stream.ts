/**
 * The cluster's updates stream (JetStream), set up with the same options by every process
 * that touches it (agents, masters, frameworks), so that whoever comes first creates it and
 * the others find it as it should be. Only what nats-server 2.9 has is used: one
 * `filter_subject` per consumer, no per-message TTL, no multi-filter consumers.
 *
 * - Stream `nesos_<c>_updates` on `nesos.<c>.updates.>`: file storage, interest retention
 *   (an update is kept until every consumer that wants it has acknowledged it), a maximum
 *   age as a backstop, a duplicate window so that a republished update (same uuid as
 *   message id) is stored once.
 * - Consumer `master` (every update) is created with the stream: with interest retention
 *   an update published while no consumer wants it would be dropped at once, and the
 *   master's consumer wants them all.
 * - Consumer `fw_<frameworkId>` per framework, created before the framework subscribes and
 *   deleted when the master removes the framework.
 *
 * See docs/status-updates.md for how ordering and acknowledgement map onto these.
 */
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiError,
  ReplayPolicy,
  RetentionPolicy,
  StorageType,
  jetstreamManager,
  type ConsumerConfig,
  type ConsumerInfo,
  type JetStreamClient,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { Buckets } from '../../protocol/buckets.js';
import { encode } from '../../protocol/codec.js';
import { Subjects } from '../../protocol/subjects.js';
import type { StatusUpdateRecord } from '../../protocol/updates.js';
import { UpdateStreamError } from './errors.js';
import { jetStreamReplicas } from './replicas.js';

const NS_PER_MS = 1_000_000;
/** JetStream's code for "a stream of that name exists with another configuration". */
const STREAM_NAME_IN_USE = 10058;
/** JetStream's code for "consumer not found". */
const CONSUMER_NOT_FOUND = 10014;

/** How the stream and its consumers are configured. Only `maxAgeMs` is meant to be changed. */
export interface UpdateStreamSettings {
  /** Longest time an update is kept, acknowledged or not (a backstop; default 7 days). */
  maxAgeMs: number;
  /** Within this window an update published again with the same uuid is stored once (default 2 min). */
  duplicateWindowMs: number;
  /** The master's consumer redelivers an update not acknowledged within this (default 5 s). */
  masterAckWaitMs: number;
  /** A framework's consumer redelivers an update not acknowledged within this (default 10 s, Mesos's first resend; a framework may choose its own). */
  frameworkAckWaitMs: number;
  /** Updates the master may hold unacknowledged before the server stops sending more (default 1000). */
  masterMaxAckPending: number;
  /** Updates a framework may hold unacknowledged before the server stops sending more (default 10 000). */
  frameworkMaxAckPending: number;
}

/** The settings every process uses unless told otherwise. */
export const DEFAULT_UPDATE_STREAM_SETTINGS: UpdateStreamSettings = {
  maxAgeMs: 7 * 24 * 3600 * 1000,
  duplicateWindowMs: 120_000,
  masterAckWaitMs: 5000,
  frameworkAckWaitMs: 10_000,
  masterMaxAckPending: 1000,
  frameworkMaxAckPending: 10_000,
};

/** The stream's configuration (replicas from NESOS_JETSTREAM_REPLICAS, default 1). */
export function updateStreamConfig(cluster: string, settings: UpdateStreamSettings = DEFAULT_UPDATE_STREAM_SETTINGS): Partial<StreamConfig> & { name: string } {
  return {
    name: new Buckets(cluster).updates(),
    subjects: [new Subjects(cluster).statusUpdatesWildcard()],
    retention: RetentionPolicy.Interest,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: settings.maxAgeMs * NS_PER_MS,
    duplicate_window: settings.duplicateWindowMs * NS_PER_MS,
    num_replicas: jetStreamReplicas(),
  };
}

/** The master's durable consumer: every update of the cluster. */
export function masterConsumerConfig(cluster: string, settings: UpdateStreamSettings = DEFAULT_UPDATE_STREAM_SETTINGS): Partial<ConsumerConfig> {
  return pullConsumer(new Buckets(cluster).masterUpdatesConsumer(), new Subjects(cluster).statusUpdatesWildcard(), settings.masterAckWaitMs, settings.masterMaxAckPending);
}

/** A framework's durable consumer: that framework's updates, redelivered after `ackWaitMs` (default the settings'). */
export function frameworkConsumerConfig(cluster: string, frameworkId: string, ackWaitMs?: number, settings: UpdateStreamSettings = DEFAULT_UPDATE_STREAM_SETTINGS): Partial<ConsumerConfig> {
  const name = new Buckets(cluster).frameworkUpdatesConsumer(frameworkId);
  return pullConsumer(name, new Subjects(cluster).frameworkStatusUpdates(frameworkId), ackWaitMs ?? settings.frameworkAckWaitMs, settings.frameworkMaxAckPending);
}

function pullConsumer(name: string, filter: string, ackWaitMs: number, maxAckPending: number): Partial<ConsumerConfig> {
  return {
    durable_name: name,
    filter_subject: filter,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    replay_policy: ReplayPolicy.Instant,
    ack_wait: ackWaitMs * NS_PER_MS,
    max_ack_pending: maxAckPending,
    max_deliver: -1,
  };
}

/** Options of `ensureUpdateStream`. */
export interface EnsureOptions {
  /** Stream settings (default DEFAULT_UPDATE_STREAM_SETTINGS). */
  settings?: UpdateStreamSettings;
  /**
   * When the stream exists with another maximum age: true changes it to ours (the leading
   * master, whose `--updates-max-age` rules), false leaves it (everyone else). Default false.
   */
  enforce?: boolean;
  /** Timeout of each JetStream API request (default 2000 ms). */
  timeoutMs?: number;
}

/** Creates the stream and the master's consumer if missing. Throws UpdateStreamError (retryable). */
export async function ensureUpdateStream(nc: NatsConnection, cluster: string, options: EnsureOptions = {}): Promise<void> {
  const settings = options.settings ?? DEFAULT_UPDATE_STREAM_SETTINGS;
  const config = updateStreamConfig(cluster, settings);
  await wrap(`cannot set up the updates stream ${config.name}`, async () => {
    const jsm = await manager(nc, options.timeoutMs);
    try {
      await jsm.streams.add(config);
    } catch (e) {
      if (!(e instanceof JetStreamApiError && e.code === STREAM_NAME_IN_USE)) throw e;
      // It exists with other settings (another max age): the leader's settings rule.
      const current = await jsm.streams.info(config.name);
      if (options.enforce === true && current.config.max_age !== config.max_age) {
        await jsm.streams.update(config.name, { ...current.config, max_age: config.max_age });
      }
    }
    await jsm.consumers.add(config.name, masterConsumerConfig(cluster, settings));
  });
}

/** Options of `ensureFrameworkConsumer`. */
export interface FrameworkConsumerOptions {
  /** The consumer's ack wait: an update not acknowledged within it is delivered again (default 10 s). */
  ackWaitMs?: number;
  /** Leave an existing consumer as it is (the master: the framework chose its settings). Default false. */
  createOnly?: boolean;
  /** Timeout of each JetStream API request (default 2000 ms). */
  timeoutMs?: number;
}

/**
 * Creates a framework's consumer, or brings an existing one to these settings (unless
 * `createOnly`); resolves with its state. Throws UpdateStreamError (retryable).
 */
export async function ensureFrameworkConsumer(nc: NatsConnection, cluster: string, frameworkId: string, options: FrameworkConsumerOptions = {}): Promise<ConsumerInfo> {
  const b = new Buckets(cluster);
  return wrap(`cannot create the updates consumer of framework ${frameworkId}`, async () => {
    const jsm = await manager(nc, options.timeoutMs);
    if (options.createOnly === true) {
      try {
        return await jsm.consumers.info(b.updates(), b.frameworkUpdatesConsumer(frameworkId));
      } catch (e) {
        if (!(e instanceof JetStreamApiError && e.code === CONSUMER_NOT_FOUND)) throw e;
      }
    }
    return jsm.consumers.add(b.updates(), frameworkConsumerConfig(cluster, frameworkId, options.ackWaitMs));
  });
}

/** Deletes a framework's consumer (its updates not yet acknowledged go with it); false if there was none. */
export async function deleteFrameworkConsumer(nc: NatsConnection, cluster: string, frameworkId: string, timeoutMs?: number): Promise<boolean> {
  const b = new Buckets(cluster);
  return wrap(`cannot delete the updates consumer of framework ${frameworkId}`, async () => {
    try {
      return await (await manager(nc, timeoutMs)).consumers.delete(b.updates(), b.frameworkUpdatesConsumer(frameworkId));
    } catch (e) {
      if (e instanceof JetStreamApiError && e.code === CONSUMER_NOT_FOUND) return false;
      throw e;
    }
  });
}

/**
 * Publishes one update to the stream and waits for the stream's acknowledgement (PubAck);
 * resolves with the update's stream sequence. The uuid is the message id, so publishing
 * the same update again within the duplicate window stores it once. Throws UpdateStreamError.
 */
export async function publishUpdate(js: JetStreamClient, subjects: Subjects, record: StatusUpdateRecord, timeoutMs = 2000): Promise<number> {
  const subject = subjects.statusUpdate(record.frameworkId, record.status.taskId);
  return wrap(`cannot publish update ${record.status.uuid} of task ${record.status.taskId}`, async () => {
    const ack = await js.publish(subject, encode(record), { msgID: record.status.uuid, timeout: timeoutMs });
    return ack.seq;
  });
}

function manager(nc: NatsConnection, timeoutMs = 2000): Promise<JetStreamManager> {
  return jetstreamManager(nc, { timeout: timeoutMs });
}

async function wrap<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (cause) {
    if (cause instanceof UpdateStreamError) throw cause;
    throw new UpdateStreamError(`${what}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}
