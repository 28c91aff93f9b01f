// The updates stream on a real nats-server (2.9): set-up shared by every process, interest
// retention, publishing with the uuid as message id, framework consumers, and the feed that
// reads a consumer (decoding, dropping what does not match its subject, surviving the
// deletion of its consumer).
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../actors/runtime/logger.js';
import { UpdateFeed, type DeliveredUpdate } from '../../actors/runtime/update-feed.js';
import {
  DEFAULT_UPDATE_STREAM_SETTINGS,
  deleteFrameworkConsumer,
  ensureFrameworkConsumer,
  ensureUpdateStream,
  publishUpdate,
} from '../../actors/runtime/update-stream.js';
import { Buckets } from '../../protocol/buckets.js';
import { decode, encode } from '../../protocol/codec.js';
import { Subjects } from '../../protocol/subjects.js';
import { TaskSource, TaskState, type TaskState as State } from '../../protocol/task-state.js';
import { UpdateRecord, type StatusUpdateRecord } from '../../protocol/updates.js';
import { MasterUpdates } from '../../actors/master/updates.js';
import { TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;
let nc: NatsConnection;
let jsm: JetStreamManager;
let js: JetStreamClient;
let n = 0;

beforeAll(async () => {
  cluster = await TestCluster.start({ startActors: false });
  nc = await cluster.connect();
  jsm = await jetstreamManager(nc);
  js = jetstream(nc);
});

afterAll(async () => {
  await cluster?.stop();
});

/** A fresh cluster name on the shared server. */
function fresh(): { name: string; subjects: Subjects; buckets: Buckets } {
  const name = `u${++n}`;
  return { name, subjects: new Subjects(name), buckets: new Buckets(name) };
}

function record(frameworkId: string, taskId: string, uuid: string, state: State = TaskState.RUNNING): StatusUpdateRecord {
  return { type: 'STATUS_UPDATE', frameworkId, status: { taskId, state, source: TaskSource.EXECUTOR, uuid, timestamp: 1 } };
}

async function until(done: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('the updates stream', () => {
  it('is created once with the master consumer, whoever asks first, and keeps its settings', async () => {
    const { name, buckets } = fresh();
    await ensureUpdateStream(nc, name);
    await ensureUpdateStream(nc, name); // a second process: finds it as it is
    const info = await jsm.streams.info(buckets.updates());
    expect(info.config).toMatchObject({ subjects: [`nesos.${name}.updates.>`], retention: 'interest', storage: 'file', max_age: DEFAULT_UPDATE_STREAM_SETTINGS.maxAgeMs * 1e6 });
    const master = await jsm.consumers.info(buckets.updates(), 'master');
    expect(master.config).toMatchObject({ durable_name: 'master', ack_policy: 'explicit', filter_subject: `nesos.${name}.updates.>` });
  });

  it('takes another max age only from a process that enforces it (the leading master)', async () => {
    const { name, buckets } = fresh();
    await ensureUpdateStream(nc, name);
    const hour = { ...DEFAULT_UPDATE_STREAM_SETTINGS, maxAgeMs: 3_600_000 };
    await ensureUpdateStream(nc, name, { settings: hour });
    expect((await jsm.streams.info(buckets.updates())).config.max_age).toBe(DEFAULT_UPDATE_STREAM_SETTINGS.maxAgeMs * 1e6);
    await ensureUpdateStream(nc, name, { settings: hour, enforce: true });
    expect((await jsm.streams.info(buckets.updates())).config.max_age).toBe(3_600_000 * 1e6);
  });

  it('stores an update published twice with the same uuid once', async () => {
    const { name, subjects, buckets } = fresh();
    await ensureUpdateStream(nc, name);
    const first = await publishUpdate(js, subjects, record('f1', 't1', 'u-1'));
    const again = await publishUpdate(js, subjects, record('f1', 't1', 'u-1'));
    expect(again).toBe(first);
    expect((await jsm.streams.info(buckets.updates())).state.messages).toBe(1);
  });

  it('keeps an update until the master and the framework have both acknowledged it (interest retention)', async () => {
    const { name, subjects, buckets } = fresh();
    await ensureUpdateStream(nc, name);
    await ensureFrameworkConsumer(nc, name, 'f1');
    await publishUpdate(js, subjects, record('f1', 't1', 'u-1'));
    const messages = async (): Promise<number> => (await jsm.streams.info(buckets.updates())).state.messages;
    const ackOne = async (consumer: string): Promise<void> => {
      const m = await (await js.consumers.get(buckets.updates(), consumer)).next({ expires: 2000 });
      expect(m).not.toBeNull();
      await m!.ackAck();
    };
    await ackOne('master');
    expect(await messages()).toBe(1);
    await ackOne(buckets.frameworkUpdatesConsumer('f1'));
    await until(async () => (await messages()) === 0, 'the update to be removed');
  });

  it('drops what only a deleted framework consumer still wanted', async () => {
    const { name, subjects, buckets } = fresh();
    await ensureUpdateStream(nc, name);
    await ensureFrameworkConsumer(nc, name, 'f1');
    await ensureFrameworkConsumer(nc, name, 'f1'); // idempotent
    await publishUpdate(js, subjects, record('f1', 't1', 'u-1'));
    const m = await (await js.consumers.get(buckets.updates(), 'master')).next({ expires: 2000 });
    await m!.ackAck();
    expect(await deleteFrameworkConsumer(nc, name, 'f1')).toBe(true);
    expect(await deleteFrameworkConsumer(nc, name, 'f1')).toBe(false);
    await until(async () => (await jsm.streams.info(buckets.updates())).state.messages === 0, 'the update to be removed');
  });
});

describe('UpdateFeed', () => {
  it('hands over valid updates in order and acknowledges (drops) records that do not match their subject', async () => {
    const { name, subjects } = fresh();
    await ensureUpdateStream(nc, name);
    await ensureFrameworkConsumer(nc, name, 'f1');
    const got: DeliveredUpdate[] = [];
    const feed = new UpdateFeed({ nc, cluster: name, consumer: 'fw_f1', logger: silentLogger(), onUpdate: (u) => got.push(u) });
    feed.start();
    try {
      await publishUpdate(js, subjects, record('f1', 't1', 'u-1', TaskState.STARTING));
      await js.publish(subjects.statusUpdate('f1', 't1'), encode(record('f1', 'other-task', 'u-x'))); // body and subject disagree
      await js.publish(subjects.statusUpdate('f1', 't1'), new Uint8Array([1, 2, 3])); // not msgpack
      await publishUpdate(js, subjects, record('f1', 't1', 'u-2'));
      await until(() => got.length === 2, 'two updates');
      expect(got.map((u) => [u.record.status.uuid, u.deliveries])).toEqual([['u-1', 1], ['u-2', 1]]);
      expect(got[0]!.seq).toBeLessThan(got[1]!.seq);
      got[0]!.ack();
      got[1]!.nak(); // given back: delivered again at once
      await until(() => got.length === 3, 'the redelivery');
      expect([got[2]!.record.status.uuid, got[2]!.deliveries, got[2]!.seq]).toEqual(['u-2', 2, got[1]!.seq]);
      got[2]!.ack();
    } finally {
      await feed.stop();
    }
  });

  it('finds its consumer again after it was deleted and created anew', async () => {
    const { name, subjects } = fresh();
    await ensureUpdateStream(nc, name);
    await ensureFrameworkConsumer(nc, name, 'f1');
    const got: string[] = [];
    const feed = new UpdateFeed({ nc, cluster: name, consumer: 'fw_f1', logger: silentLogger(), onUpdate: (u) => (got.push(u.record.status.uuid), u.ack()) });
    feed.start();
    try {
      await publishUpdate(js, subjects, record('f1', 't1', 'u-1'));
      await until(() => got.length === 1, 'the first update');
      await deleteFrameworkConsumer(nc, name, 'f1');
      await new Promise((r) => setTimeout(r, 300));
      await ensureFrameworkConsumer(nc, name, 'f1');
      await publishUpdate(js, subjects, record('f1', 't1', 'u-2'));
      await until(() => got.includes('u-2'), 'the update after the consumer came back', 8000);
      // The new consumer starts from the stream's first update still held: u-1 again, as
      // the master's consumer (nobody reads it here) has not acknowledged it.
      expect(got).toEqual(['u-1', 'u-1', 'u-2']);
    } finally {
      await feed.stop();
    }
  });
});

describe("the master's own updates", () => {
  /** Every update of `taskId` still in the stream, as (state, source). */
  async function stored(buckets: Buckets, subjects: Subjects, frameworkId: string, taskId: string): Promise<Array<[string, string]>> {
    const info = await jsm.streams.info(buckets.updates(), { subjects_filter: subjects.statusUpdate(frameworkId, taskId) });
    const out: Array<[string, string]> = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage(buckets.updates(), { seq }).catch(() => null);
      if (m === null || m.subject !== subjects.statusUpdate(frameworkId, taskId)) continue;
      const r = decode(UpdateRecord, m.data);
      if (r.ok) out.push([r.value.status.state, r.value.status.source ?? '']);
    }
    return out;
  }

  function masterUpdate(taskId: string, uuid: string, state: State): StatusUpdateRecord['status'] {
    return { taskId, state, source: TaskSource.MASTER, uuid, timestamp: 1 };
  }

  it('are dropped when the task has an update newer than the one the master decided on, and published when it has not', async () => {
    const { name, subjects, buckets } = fresh();
    await ensureUpdateStream(nc, name);
    await ensureFrameworkConsumer(nc, name, 'fw');
    const running = await publishUpdate(js, subjects, record('fw', 't1', 'run-1'));
    // the agent's FINISHED reaches the stream; the master, which had read only RUNNING, declares the task unreachable
    await publishUpdate(js, subjects, record('fw', 't1', 'fin-1', TaskState.FINISHED));
    // the core has applied a newer update of t4 since it made its update (a deleted one, say)
    const updates = new MasterUpdates({ nc, cluster: name, logger: silentLogger(), mayAct: () => true, onUpdate: (u) => u.ack(), appliedAfter: (_f, taskId) => taskId === 't4' });
    updates.publish('fw', masterUpdate('t4', 'unr-4', TaskState.UNREACHABLE), 3);
    updates.publish('fw', masterUpdate('t1', 'unr-1', TaskState.UNREACHABLE), running);
    // a task the master read up to its last update: its update goes in
    const t2 = await publishUpdate(js, subjects, record('fw', 't2', 'run-2'));
    updates.publish('fw', masterUpdate('t2', 'unr-2', TaskState.UNREACHABLE), t2);
    // and a second update after its own one is measured against its own
    updates.publish('fw', masterUpdate('t2', 'lost-2', TaskState.LOST));
    // a task whose updates were all acknowledged and removed (interest retention): nothing newer is there, so it goes in
    updates.publish('fw', masterUpdate('t3', 'unr-3', TaskState.UNREACHABLE), 41);
    await updates.stop(10_000);
    expect(await stored(buckets, subjects, 'fw', 't1')).toEqual([
      [TaskState.RUNNING, TaskSource.EXECUTOR],
      [TaskState.FINISHED, TaskSource.EXECUTOR],
    ]);
    expect(await stored(buckets, subjects, 'fw', 't2')).toEqual([
      [TaskState.RUNNING, TaskSource.EXECUTOR],
      [TaskState.UNREACHABLE, TaskSource.MASTER],
      [TaskState.LOST, TaskSource.MASTER],
    ]);
    expect(await stored(buckets, subjects, 'fw', 't3')).toEqual([[TaskState.UNREACHABLE, TaskSource.MASTER]]);
    expect(await stored(buckets, subjects, 'fw', 't4')).toEqual([]);
  });
});
