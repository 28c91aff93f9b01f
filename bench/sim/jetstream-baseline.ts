/**
 * The ceiling the updates stream puts on tasks per second, measured in the same run on the
 * same nats-server: a stream shaped like the updates stream (file storage, interest
 * retention) with two durable pull consumers like the master's (every message) and a
 * framework's (its subjects), each acknowledging every message. Messages of 300 bytes are
 * published with 512 PubAcks awaited at once (the simulator's limit) until both consumers
 * have acknowledged them all. Every task costs two such messages (TASK_RUNNING and a
 * terminal update), so half the rate is the most tasks per second the stream lets through
 * with nothing else running.
 */
import { AckPolicy, DeliverPolicy, RetentionPolicy, StorageType, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '../../actors/runtime/nats.js';

/** Messages through the stream per second (published and acknowledged by both consumers), and half that: tasks per second. */
export interface JetStreamBaseline {
  name: 'jetstream-publish-and-two-consumers';
  messagesPerSecond: number;
  tasksPerSecond: number;
}

/** Measures the baseline on `nc` with `count` messages; the stream is removed afterwards. */
export async function jetStreamBaseline(nc: NatsConnection, count = 10_000, inFlight = 512): Promise<JetStreamBaseline> {
  const tag = Math.random().toString(16).slice(2, 10);
  const stream = `bench_js_baseline_${tag}`;
  const prefix = `bench.jsbaseline.${tag}`;
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  await jsm.streams.add({ name: stream, subjects: [`${prefix}.>`], retention: RetentionPolicy.Interest, storage: StorageType.File, num_replicas: 1 });
  try {
    const consumer = { ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, max_ack_pending: 10_000 };
    await jsm.consumers.add(stream, { ...consumer, durable_name: 'all' });
    await jsm.consumers.add(stream, { ...consumer, durable_name: 'framework', filter_subject: `${prefix}.fw.>` });
    const acknowledge = async (durable: string): Promise<void> => {
      const messages = await (await js.consumers.get(stream, durable)).consume({ max_messages: 1000 });
      let seen = 0;
      for await (const m of messages) {
        m.ack();
        seen += 1;
        if (seen >= count) break;
      }
    };
    const payload = new Uint8Array(300);
    const t0 = performance.now();
    const consumed = Promise.all([acknowledge('all'), acknowledge('framework')]);
    let next = 0;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < count) {
          next += 1;
          await js.publish(`${prefix}.fw.${next % 100}.task-${next}`, payload, { timeout: 10_000 });
        }
      }),
    );
    await consumed;
    const perSecond = count / ((performance.now() - t0) / 1000);
    return { name: 'jetstream-publish-and-two-consumers', messagesPerSecond: Math.round(perSecond), tasksPerSecond: Math.round(perSecond / 2) };
  } finally {
    await jsm.streams.delete(stream).catch(() => undefined);
  }
}
