// The scheduler SDK without a master: options, task building and event delivery are driven
// directly; the NATS shell (subscribe, fencing, heartbeats, status updates from the updates
// stream and their acknowledgement, resubscribe) runs against a real nats-server where the
// test plays the master and the agents. Each test has its own cluster.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Dispatcher } from '../../actors/scheduler/dispatch.js';
import {
  CallRejectedError,
  InvalidOptionsError,
  InvalidTaskError,
  NoMasterError,
  Scheduler,
  SchedulerClosedError,
  SubscribeRejectedError,
  SubscribeTimeoutError,
  TasksDoNotFitError,
  buildLaunch,
  buildTaskInfo,
  resolveOptions,
  type SchedulerOptions,
} from '../../actors/scheduler/index.js';
import { silentLogger } from '../../actors/runtime/logger.js';
import { publishUpdate } from '../../actors/runtime/update-stream.js';
import { encodeLeader, openLeaderBucket } from '../../actors/runtime/kv.js';
import { LEADER_KEY } from '../../protocol/buckets.js';
import { Buckets } from '../../protocol/buckets.js';
import { decode, encode } from '../../protocol/codec.js';
import { Reply, type RejectionCode } from '../../protocol/replies.js';
import { Resources } from '../../protocol/resources.js';
import { SchedulerCall, type SchedulerEvent } from '../../protocol/scheduler.js';
import type { Offer, TaskStatus } from '../../protocol/schema.js';
import { Subjects } from '../../protocol/subjects.js';
import type { TaskState } from '../../protocol/task-state.js';
import type { StoredStatus } from '../../protocol/updates.js';

const log = silentLogger();

function offer(id: string, text: string, agentId = 'a1'): Offer {
  return { id, frameworkId: 'fw-1', agentId, hostname: 'h1', resources: Resources.parse(text).toWire(), attributes: {} };
}

function status(taskId: string, uuid?: string): TaskStatus {
  return {
    taskId,
    state: 'TASK_RUNNING',
    agentId: 'a1',
    source: 'SOURCE_EXECUTOR',
    timestamp: 1,
    ...(uuid !== undefined && { uuid }),
  };
}

/** A status as the updates stream stores it (an executor's update). */
function stored(taskId: string, uuid: string, state: TaskState = 'TASK_RUNNING'): StoredStatus {
  return { taskId, state, agentId: 'a1', source: 'SOURCE_EXECUTOR', timestamp: 1, uuid };
}

/** A promise with its resolve function. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

// ---- options ------------------------------------------------------------------------

describe('resolveOptions', () => {
  it('fills in the documented defaults', () => {
    const o = resolveOptions({ framework: { name: 'my-fw' } });
    expect(o.servers).toBe('nats://127.0.0.1:4222');
    expect(o.cluster).toBe('local');
    expect(o.framework).toMatchObject({ name: 'my-fw', principal: 'my-fw', roles: ['*'], capabilities: [], failoverTimeoutSeconds: 0 });
    expect(o.framework.id).toMatch(/^fw-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(o).toMatchObject({
      requestTimeoutMs: 2000,
      subscribeTimeoutMs: 5000,
      acknowledge: 'auto',
      reconcileOnSubscribe: true,
      missedHeartbeats: 5,
      eventBufferSize: 1024,
    });
    expect(o.nc).toBeUndefined();
  });

  it('keeps what the caller gives, including an existing framework id', () => {
    const o = resolveOptions({
      cluster: 'c1',
      framework: { name: 'Nice Name', principal: 'p1', id: 'fw-old', roles: ['analytics'], capabilities: ['PARTITION_AWARE'] },
      acknowledge: 'manual',
      reconcileOnSubscribe: false,
      missedHeartbeats: 2,
    });
    expect(o.framework).toMatchObject({ id: 'fw-old', name: 'Nice Name', principal: 'p1', roles: ['analytics'] });
    expect(o).toMatchObject({ cluster: 'c1', acknowledge: 'manual', reconcileOnSubscribe: false, missedHeartbeats: 2 });
  });

  it('makes a new id for each framework', () => {
    expect(resolveOptions({ framework: { name: 'a' } }).framework.id).not.toBe(resolveOptions({ framework: { name: 'a' } }).framework.id);
  });

  it.each<[string, SchedulerOptions, RegExp]>([
    ['a name that cannot be a principal', { framework: { name: 'my fw' } }, /principal "my fw".*set it explicitly/],
    ['a bad cluster name', { cluster: 'a.b', framework: { name: 'f' } }, /cluster "a.b"/],
    ['zero missed heartbeats', { framework: { name: 'f' }, missedHeartbeats: 0 }, /missedHeartbeats must be a number > 0/],
    ['an unknown acknowledge mode', { framework: { name: 'f' }, acknowledge: 'later' as 'auto' }, /acknowledge must be/],
    ['a bad framework id', { framework: { name: 'f', id: 'no/slash' } }, /framework\.id/],
    ['no roles', { framework: { name: 'f', roles: [] } }, /framework\.roles/],
  ])('refuses %s with a non-retryable InvalidOptionsError', (_what, options, message) => {
    let error: unknown;
    try {
      resolveOptions(options);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).retryable).toBe(false);
    expect((error as Error).message).toMatch(message);
  });
});

// ---- tasks --------------------------------------------------------------------------

describe('buildTaskInfo / buildLaunch', () => {
  const o = offer('o1', 'cpus:2;mem:256;ports:[31000-31009]', 'agent-7');

  it('takes the agent from the offer, makes an id, and turns a command string into a CommandInfo', () => {
    const t = buildTaskInfo(o, { name: 'web', command: 'echo hi', resources: 'cpus:0.5;mem:64', env: { A: '1' } });
    expect(t.taskId).toMatch(/^task-[0-9a-f-]{36}$/);
    expect(t).toMatchObject({
      name: 'web',
      agentId: 'agent-7',
      command: { value: 'echo hi', environment: { A: '1' } },
      resources: [
        { name: 'cpus', scalar: 0.5 },
        { name: 'mem', scalar: 64 },
      ],
    });
  });

  it('keeps a given id, merges env over the command environment, and keeps the kill policy', () => {
    const t = buildTaskInfo(o, {
      taskId: 't1',
      name: 'x',
      command: { value: 'run', environment: { A: '1', B: '2' } },
      env: { B: '3' },
      resources: Resources.parse('cpus:1'),
      killPolicy: { gracePeriodMs: 500 },
    });
    expect(t.taskId).toBe('t1');
    expect(t.command.environment).toEqual({ A: '1', B: '3' });
    expect(t.killPolicy).toEqual({ gracePeriodMs: 500 });
  });

  it('refuses invalid tasks with a non-retryable InvalidTaskError naming the field', () => {
    expect(() => buildTaskInfo(o, { taskId: 'a b', name: 'x', command: 'c', resources: 'cpus:1' })).toThrow(/taskId/);
    expect(() => buildTaskInfo(o, { name: 'x', command: '', resources: 'cpus:1' })).toThrow(InvalidTaskError);
    expect(() => buildTaskInfo(o, { name: 'x', command: 'c', resources: 'cpus=1' })).toThrow(/invalid resource/);
  });

  it('checks that the tasks together fit the offer', () => {
    const spec = { name: 'w', command: 'c', resources: 'cpus:1;mem:128' };
    expect(buildLaunch(o, [spec, spec])).toHaveLength(2);
    const tooMany = (): unknown => buildLaunch(o, [spec, spec, spec]);
    expect(tooMany).toThrow(TasksDoNotFitError);
    expect(tooMany).toThrow('tasks need cpus:3;mem:384 but offer o1 holds cpus:2;mem:256;ports:[31000-31009]');
  });

  it('refuses an empty launch and two tasks with one id', () => {
    expect(() => buildLaunch(o, [])).toThrow(InvalidTaskError);
    const spec = { taskId: 'same', name: 'w', command: 'c', resources: 'cpus:0.1' };
    expect(() => buildLaunch(o, [spec, spec])).toThrow(/same taskId/);
  });
});

// ---- delivery, without NATS --------------------------------------------------------

describe('Dispatcher', () => {
  function harness(mode: 'auto' | 'manual' = 'auto', bufferSize = 16) {
    const acked: string[] = [];
    const failed: string[] = [];
    const d = new Dispatcher({ log, mode, bufferSize, onUpdateHandled: (s, ok) => (ok ? acked : failed).push(s.uuid ?? '?') });
    return { d, acked, failed };
  }
  const update = (taskId: string, uuid?: string): SchedulerEvent => ({ type: 'UPDATE', epoch: 1, status: status(taskId, uuid) });
  const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

  it('reports an update as handled only after the update listeners have resolved', async () => {
    const { d, acked } = harness();
    const gate = deferred<void>();
    const seen: string[] = [];
    d.on('update', async (s) => {
      seen.push(s.taskId);
      await gate.promise;
    });
    d.start();
    d.event(update('t1', 'u1'));
    await settle();
    expect(seen).toEqual(['t1']);
    expect(acked).toEqual([]); // the listener has not resolved yet
    gate.resolve();
    await settle();
    expect(acked).toEqual(['u1']);
  });

  it('reports a failed listener, nothing for updates without uuid, and goes on with the next', async () => {
    const { d, acked, failed } = harness();
    d.on('update', (s) => {
      if (s.taskId === 'bad') throw new Error('boom');
    });
    d.start();
    d.event(update('bad', 'u1'));
    d.event(update('t2'));
    d.event(update('t3', 'u3'));
    await settle();
    expect(acked).toEqual(['u3']);
    expect(failed).toEqual(['u1']);
  });

  it('reports updates in both modes, even when nobody listens to them (the mode is for the inbox)', async () => {
    const auto = harness('auto');
    const manual = harness('manual');
    for (const { d } of [auto, manual]) {
      d.start();
      d.event(update('t1', 'u1'));
    }
    await settle();
    expect(auto.acked).toEqual(['u1']);
    expect(manual.acked).toEqual(['u1']);
  });

  it('delivers a status update from the stream as an UPDATE of the newest epoch seen', async () => {
    const { d } = harness();
    const all = d.events();
    d.start();
    d.event({ type: 'HEARTBEAT', epoch: 4 });
    d.update(status('t1', 'u1'));
    await settle();
    d.close();
    const got: SchedulerEvent[] = [];
    for await (const ev of all) got.push(ev);
    expect(got).toEqual([{ type: 'HEARTBEAT', epoch: 4 }, { type: 'UPDATE', epoch: 4, status: status('t1', 'u1') }]);
  });

  it('delivers nothing until started, then everything in order', async () => {
    const { d } = harness();
    const seen: string[] = [];
    d.event({ type: 'RESCIND', epoch: 1, offerId: 'o1' });
    d.event(update('t1'));
    await settle();
    d.on('rescind', (id) => void seen.push(`rescind ${id}`));
    d.on('update', (s) => void seen.push(`update ${s.taskId}`));
    expect(seen).toEqual([]);
    d.start();
    await settle();
    expect(seen).toEqual(['rescind o1', 'update t1']);
  });

  it('delivers inverse offers and their rescinds to their listeners and to events(), and does not hold them', async () => {
    const { d } = harness();
    d.start();
    const inverse = { id: 'io1', frameworkId: 'fw', agentId: 'a1', hostname: 'h1', unavailability: { start: 10, durationMs: 20 } };
    d.event({ type: 'INVERSE_OFFERS', epoch: 1, inverseOffers: [inverse] }); // nobody listens yet: not held
    await settle();
    const seen: unknown[] = [];
    const iterator = d.events();
    d.on('inverseOffers', (list) => void seen.push(list.map((o) => [o.id, o.agentId, o.unavailability])));
    d.on('rescindInverseOffer', (id) => void seen.push(`rescind ${id}`));
    d.event({ type: 'INVERSE_OFFERS', epoch: 1, inverseOffers: [{ ...inverse, id: 'io2' }] });
    d.event({ type: 'RESCIND_INVERSE_OFFER', epoch: 1, inverseOfferId: 'io2' });
    await settle();
    expect(seen).toEqual([[['io2', 'a1', { start: 10, durationMs: 20 }]], 'rescind io2']);
    expect((await iterator.next()).value).toMatchObject({ type: 'INVERSE_OFFERS', inverseOffers: [{ id: 'io2' }] });
    expect((await iterator.next()).value).toEqual({ type: 'RESCIND_INVERSE_OFFER', epoch: 1, inverseOfferId: 'io2' });
    d.close();
  });

  it('holds offers nobody listens to, minus rescinded ones, for the first offers listener', async () => {
    const { d } = harness();
    d.start();
    d.event({ type: 'OFFERS', epoch: 1, offers: [offer('o1', 'cpus:1'), offer('o2', 'cpus:1')] });
    d.event({ type: 'RESCIND', epoch: 1, offerId: 'o1' });
    await settle();
    expect(d.heldOffers).toBe(1);
    const got: string[][] = [];
    d.on('offers', (offers) => void got.push(offers.map((o) => o.id)));
    await settle();
    expect(got).toEqual([['o2']]);
    expect(d.heldOffers).toBe(0);
  });

  it('drops held offers when the subscription is lost (a new leader makes new offers)', async () => {
    const { d } = harness();
    d.start();
    d.event({ type: 'OFFERS', epoch: 1, offers: [offer('o1', 'cpus:1')] });
    await settle();
    expect(d.heldOffers).toBe(1);
    d.disconnected('master m2 leads now');
    const got: string[][] = [];
    d.on('offers', (offers) => void got.push(offers.map((o) => o.id)));
    await settle();
    expect(d.heldOffers).toBe(0);
    expect(got).toEqual([]);
  });

  it('hands held offers to a new events() iterator as one OFFERS event', async () => {
    const { d } = harness();
    d.start();
    d.event({ type: 'OFFERS', epoch: 4, offers: [offer('o1', 'cpus:1')] });
    await settle();
    const it = d.events();
    const first = await it.next();
    expect(first.value).toMatchObject({ type: 'OFFERS', epoch: 4, offers: [{ id: 'o1' }] });
  });

  it('feeds events() and updates() iterators, which end at close', async () => {
    const { d } = harness();
    const all = d.events();
    const mine = d.updates('t2');
    d.start();
    d.event({ type: 'HEARTBEAT', epoch: 1 });
    d.event(update('t1'));
    d.event(update('t2'));
    await settle();
    d.close();
    const types: string[] = [];
    for await (const ev of all) types.push(ev.type);
    const tasks: string[] = [];
    for await (const s of mine) tasks.push(s.taskId);
    expect(types).toEqual(['HEARTBEAT', 'UPDATE', 'UPDATE']);
    expect(tasks).toEqual(['t2']);
  });

  it('drops the oldest events of an iterator that falls behind its buffer', async () => {
    const { d } = harness('auto', 2);
    const it = d.events();
    d.start();
    for (let i = 1; i <= 4; i++) d.event({ type: 'RESCIND', epoch: 1, offerId: `o${i}` });
    await settle();
    d.close();
    const ids: string[] = [];
    for await (const ev of it) if (ev.type === 'RESCIND') ids.push(ev.offerId);
    expect(ids).toEqual(['o3', 'o4']);
  });

  it('stops delivering to an iterator left with break, and keeps delivering to listeners', async () => {
    const { d } = harness();
    const it = d.events();
    const seen: string[] = [];
    d.on('rescind', (id) => void seen.push(id));
    d.start();
    d.event({ type: 'RESCIND', epoch: 1, offerId: 'o1' });
    for await (const ev of it) {
      expect(ev.type).toBe('RESCIND');
      break;
    }
    d.event({ type: 'RESCIND', epoch: 1, offerId: 'o2' });
    await settle();
    expect(seen).toEqual(['o1', 'o2']);
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });
});

// ---- the NATS shell, with the test as the master -------------------------------------

const NATS_CONF = fileURLToPath(new URL('../../nats.conf', import.meta.url));

interface NatsServer {
  url: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const address = srv.address();
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A nats-server on `port` (default a free one); without JetStream when `jetStream` is false. */
async function startNats(port?: number, jetStream = true): Promise<NatsServer> {
  const dir = await mkdtemp(join(tmpdir(), 'nesos-sdk-test-'));
  port ??= await freePort();
  const proc: ChildProcess = spawn('nats-server', [...(jetStream ? ['-c', NATS_CONF] : ['-a', '127.0.0.1']), '-p', String(port)], {
    env: { ...process.env, NESOS_NATS_STORE_DIR: dir },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      let output = '';
      proc.stderr?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Server is ready')) resolve();
      });
      proc.once('exit', (code) => reject(new Error(`nats-server exited (${code}): ${output}`)));
      setTimeout(() => reject(new Error(`nats-server not ready: ${output}`)), 10_000);
    });
  } catch (e) {
    await stop();
    throw e;
  }
  return { url: `nats://127.0.0.1:${port}`, stop };
}

type Call = SchedulerCall;
type SubscribeBehaviour = 'subscribed' | 'silent' | { reject: 'WRONG_PRINCIPAL' | 'NOT_LEADER' };

/** Plays the master for one cluster: records every call, answers OK, and sends events. */
class FakeMaster {
  readonly calls: Call[] = [];
  readonly subjects: Subjects;
  epoch = 1;
  heartbeatIntervalSeconds = 60;
  /** What to do on each SUBSCRIBE, in order; the last one repeats. */
  onSubscribe: SubscribeBehaviour[] = ['subscribed'];
  private subscribes = 0;
  private readonly waiters: Array<{ match: (c: Call) => boolean; resolve: (c: Call) => void }> = [];

  constructor(
    private readonly nc: NatsConnection,
    cluster: string,
    principal: string,
    private readonly reject: (c: Call) => { code: RejectionCode; reason: string } | undefined = () => undefined,
  ) {
    this.subjects = new Subjects(cluster);
    nc.subscribe(this.subjects.schedulerCall(principal), {
      callback: (_err, msg) => {
        const decoded = decode(SchedulerCall, msg.data);
        if (!decoded.ok) throw decoded.error;
        const call = decoded.value;
        this.calls.push(call);
        let answer: object = { type: 'OK', epoch: this.epoch };
        let subscribed = false;
        const refusal = this.reject(call);
        if (refusal !== undefined) answer = { type: 'REJECTED', ...refusal };
        if (call.type === 'SUBSCRIBE') {
          const behaviour = this.onSubscribe[Math.min(this.subscribes, this.onSubscribe.length - 1)] ?? 'subscribed';
          this.subscribes += 1;
          if (typeof behaviour === 'object') answer = { type: 'REJECTED', code: behaviour.reject, reason: 'test says no' };
          subscribed = behaviour === 'subscribed';
          // SUBSCRIBED goes out before the OK: the framework must be listening already
          if (subscribed) this.sendSubscribed(call.framework.id);
        }
        msg.respond(encode(answer));
        for (const w of [...this.waiters]) {
          if (w.match(call)) {
            this.waiters.splice(this.waiters.indexOf(w), 1);
            w.resolve(call);
          }
        }
      },
    });
  }

  sendSubscribed(frameworkId: string): void {
    this.send(frameworkId, {
      type: 'SUBSCRIBED',
      epoch: this.epoch,
      frameworkId,
      masterId: 'm1',
      heartbeatIntervalSeconds: this.heartbeatIntervalSeconds,
    });
  }

  send(frameworkId: string, event: SchedulerEvent): void {
    this.nc.publish(this.subjects.frameworkEvents(frameworkId), encode(event));
  }

  async request(frameworkId: string, event: SchedulerEvent): Promise<unknown> {
    const msg = await this.nc.request(this.subjects.frameworkEvents(frameworkId), encode(event), { timeout: 5000 });
    const decoded = decode(Reply, msg.data);
    if (!decoded.ok) throw decoded.error;
    return decoded.value;
  }

  /** The `n`-th call (1-based) of `type`, now or when it comes. */
  nth<T extends Call['type']>(type: T, n = 1): Promise<Extract<Call, { type: T }>> {
    let count = 0;
    const match = (c: Call): boolean => c.type === type && ++count === n;
    const found = this.calls.find(match);
    if (found !== undefined) return Promise.resolve(found as Extract<Call, { type: T }>);
    return new Promise((resolve) => this.waiters.push({ match, resolve: (c) => resolve(c as Extract<Call, { type: T }>) }));
  }

  ofType<T extends Call['type']>(type: T): Array<Extract<Call, { type: T }>> {
    return this.calls.filter((c): c is Extract<Call, { type: T }> => c.type === type);
  }
}

describe('Scheduler over NATS', () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  let clusterCount = 0;
  const open: Scheduler[] = [];

  beforeAll(async () => {
    server = await startNats();
    nc = await connect({ servers: server.url });
    js = jetstream(nc);
    jsm = await jetstreamManager(nc);
  });

  afterEach(async () => {
    await Promise.allSettled(open.splice(0).map((s) => s.close()));
  });

  afterAll(async () => {
    try {
      await nc?.close();
    } finally {
      await server?.stop();
    }
  });

  /** A fresh cluster with a fake master, a way to connect a framework to it, and its updates stream. */
  function cluster(reject?: ConstructorParameters<typeof FakeMaster>[3]) {
    const name = `sdk-${process.pid}-${++clusterCount}`;
    const master = new FakeMaster(nc, name, 'fw', reject);
    const connectFw = async (extra: Partial<SchedulerOptions> = {}): Promise<Scheduler> => {
      const s = await Scheduler.connect({ servers: server.url, cluster: name, framework: { name: 'fw' }, logger: log, ...extra });
      open.push(s);
      return s;
    };
    const buckets = new Buckets(name);
    /** Publishes a status update to the stream, as an agent does. */
    const publish = (frameworkId: string, st: StoredStatus): Promise<number> => publishUpdate(js, new Subjects(name), { type: 'STATUS_UPDATE', frameworkId, status: st });
    /** The framework consumer's count of updates delivered and not acknowledged, and of updates not delivered yet. */
    const pending = async (frameworkId: string): Promise<{ unacked: number; undelivered: number }> => {
      const info = await jsm.consumers.info(buckets.updates(), buckets.frameworkUpdatesConsumer(frameworkId));
      return { unacked: info.num_ack_pending, undelivered: info.num_pending };
    };
    return { name, master, connectFw, publish, pending };
  }

  async function until(done: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await done())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('listens before it subscribes, resolves at SUBSCRIBED, then reconciles every task', async () => {
    const { master, connectFw } = cluster();
    master.epoch = 7;
    const s = await connectFw();
    expect(s.frameworkId).toMatch(/^fw-/);
    expect(s.state).toBe('subscribed');
    expect(s.masterId).toBe('m1');
    expect(s.epoch).toBe(7);
    const sub = await master.nth('SUBSCRIBE');
    expect(sub.framework).toMatchObject({ id: s.frameworkId, name: 'fw', principal: 'fw', roles: ['*'] });
    expect(await master.nth('RECONCILE')).toEqual({ type: 'RECONCILE', frameworkId: s.frameworkId, tasks: [] });
  });

  it('subscribes with the id it is given, and does not reconcile when told not to', async () => {
    const { master, connectFw } = cluster();
    const s = await connectFw({ framework: { name: 'fw', id: 'fw-existing' }, reconcileOnSubscribe: false });
    expect(s.frameworkId).toBe('fw-existing');
    await s.revive(); // a call after the point where RECONCILE would have been sent
    await master.nth('REVIVE');
    expect(master.ofType('RECONCILE')).toEqual([]);
  });

  it('reuses a connection it is given and leaves it open at close', async () => {
    const { connectFw } = cluster();
    const s = await connectFw({ nc });
    await s.close();
    expect(nc.isClosed()).toBe(false);
    expect(s.nc.isClosed()).toBe(false);
  });

  it('says that no master is running when nobody listens, and closes its own connection', async () => {
    const name = `sdk-${process.pid}-${++clusterCount}-nomaster`;
    const error = await Scheduler.connect({ servers: server.url, cluster: name, framework: { name: 'fw' }, logger: log }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NoMasterError);
    expect((error as NoMasterError).retryable).toBe(true);
    expect((error as Error).message).toContain(`no master answered on cluster "${name}" at ${server.url}`);
    expect((error as Error).message).toContain('nobody listens');
  });

  it('gives up with SubscribeTimeoutError when SUBSCRIBED never comes', async () => {
    const { name, master, connectFw } = cluster();
    master.onSubscribe = ['silent'];
    const error = await connectFw({ subscribeTimeoutMs: 200 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SubscribeTimeoutError);
    expect((error as SubscribeTimeoutError).retryable).toBe(true);
    expect((error as Error).message).toContain(`cluster "${name}"`);
  });

  it('reports a refused SUBSCRIBE with its code and whether retrying helps', async () => {
    const { master, connectFw } = cluster();
    master.onSubscribe = [{ reject: 'WRONG_PRINCIPAL' }];
    const error = await connectFw().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SubscribeRejectedError);
    expect(error).toMatchObject({ code: 'WRONG_PRINCIPAL', retryable: false });
  });

  it('answers events sent as requests (HEARTBEAT) with OK', async () => {
    const { master, connectFw } = cluster();
    const s = await connectFw();
    expect(await master.request(s.frameworkId, { type: 'HEARTBEAT', epoch: 1 })).toEqual({ type: 'OK' });
  });

  it('drops events from an older epoch and keeps the newest epoch seen', async () => {
    const { master, connectFw } = cluster();
    master.epoch = 3;
    const s = await connectFw();
    const seen: string[] = [];
    const last = deferred<void>();
    s.on('update', (st) => {
      seen.push(st.taskId);
      if (st.taskId === 'last') last.resolve();
    });
    master.send(s.frameworkId, { type: 'UPDATE', epoch: 2, status: status('stale') });
    master.send(s.frameworkId, { type: 'UPDATE', epoch: 3, status: status('same') });
    master.send(s.frameworkId, { type: 'UPDATE', epoch: 5, status: status('newer') });
    master.send(s.frameworkId, { type: 'UPDATE', epoch: 4, status: status('stale-again') });
    master.send(s.frameworkId, { type: 'UPDATE', epoch: 5, status: status('last') });
    await last.promise;
    expect(seen).toEqual(['same', 'newer', 'last']);
    expect(s.epoch).toBe(5);
    expect(s.fencedEvents).toBe(2);
  });

  it('creates its consumer of the updates stream before it subscribes, filtered on its own updates', async () => {
    const { name, master, connectFw } = cluster();
    const s = await connectFw();
    await master.nth('SUBSCRIBE');
    const b = new Buckets(name);
    const info = await jsm.consumers.info(b.updates(), b.frameworkUpdatesConsumer(s.frameworkId));
    expect(info.config).toMatchObject({ durable_name: `fw_${s.frameworkId}`, filter_subject: `nesos.${name}.updates.${s.frameworkId}.>`, ack_policy: 'explicit' });
  });

  it('delivers updates from the stream and acknowledges each there once the listeners resolve; a failed listener gets it again', async () => {
    const { connectFw, publish, pending } = cluster();
    const s = await connectFw();
    const seen: string[] = [];
    let failOnce = true;
    s.on('update', (st) => {
      seen.push(st.uuid ?? '?');
      if (st.taskId === 'fails' && failOnce) {
        failOnce = false;
        throw new Error('listener bug');
      }
    });
    await publish(s.frameworkId, stored('fails', 'u1'));
    await publish(s.frameworkId, stored('ok', 'u2'));
    await until(() => seen.includes('u2'), 'the second update');
    // the failed one comes again (about a second later) and is acknowledged then
    await until(() => seen.filter((u) => u === 'u1').length === 2, 'the update to be delivered again');
    await until(async () => (await pending(s.frameworkId)).unacked === 0, 'every update acknowledged');
    expect(seen).toEqual(['u1', 'u2', 'u1']);
    // a reconciliation answer (an event, no uuid) is delivered and needs no acknowledgement
    s.on('update', (st) => void (st.uuid === undefined && seen.push(`event ${st.taskId}`)));
    expect(seen).not.toContain('event x');
  });

  it('hands a task’s next update over only once the previous one is acknowledged (manual mode), other tasks meanwhile', async () => {
    const { connectFw, publish, pending } = cluster();
    const s = await connectFw({ acknowledge: 'manual' });
    const seen: TaskStatus[] = [];
    s.on('update', (st) => void seen.push(st));
    await publish(s.frameworkId, stored('t1', 'a1', 'TASK_STARTING'));
    await publish(s.frameworkId, stored('t1', 'a2', 'TASK_RUNNING'));
    await publish(s.frameworkId, stored('t2', 'b1', 'TASK_RUNNING'));
    await until(() => seen.length === 2, 'the first update of each task');
    expect(seen.map((st) => st.uuid)).toEqual(['a1', 'b1']);
    expect(await pending(s.frameworkId)).toEqual({ unacked: 3, undelivered: 0 });
    await s.acknowledge(seen[0]!);
    await until(() => seen.length === 3, 'the next update of t1');
    expect(seen[2]?.uuid).toBe('a2');
    await s.acknowledge(seen[2]!);
    await s.acknowledge(seen[1]!);
    await s.acknowledge(stored('t1', 'a1')); // again: ignored
    await s.acknowledge(status('t3')); // no uuid: nothing to acknowledge
    await until(async () => (await pending(s.frameworkId)).unacked === 0, 'every update acknowledged');
  });

  it('a next process with the framework’s id gets what the last one did not acknowledge, in order, after the redelivery wait', async () => {
    const { connectFw, publish } = cluster();
    const redelivery = { acknowledge: 'manual' as const, updateRedeliveryMs: 1000 };
    const first = await connectFw(redelivery);
    const id = first.frameworkId;
    const got = deferred<void>();
    first.on('update', () => got.resolve());
    await publish(id, stored('t1', 'a1', 'TASK_STARTING'));
    await publish(id, stored('t1', 'a2', 'TASK_RUNNING'));
    await got.promise;
    await first.close(); // a1 handed over, a2 waiting: neither acknowledged
    await publish(id, stored('t1', 'a3', 'TASK_FINISHED')); // never delivered: the next process gets it at once

    const second = await connectFw({ ...redelivery, framework: { name: 'fw', id } });
    const seen: string[] = [];
    const all = deferred<void>();
    second.on('update', async (st) => {
      seen.push(st.uuid ?? '?');
      await second.acknowledge(st);
      if (st.uuid === 'a3') all.resolve();
    });
    await all.promise;
    // a3 came first from the stream, but is held back until a1 and a2 were redelivered
    expect(seen).toEqual(['a1', 'a2', 'a3']);
  });

  it('resubscribes with the same id after missed heartbeats, tells listeners, and reconciles again', async () => {
    const { master, connectFw } = cluster();
    master.heartbeatIntervalSeconds = 0.05;
    const s = await connectFw({ missedHeartbeats: 2, random: () => 0.5 });
    const notes: string[] = [];
    const back = deferred<void>();
    s.on('disconnected', (reason) => void notes.push(`disconnected: ${reason}`));
    s.on('subscribed', () => {
      notes.push('subscribed');
      if (notes.length >= 3) back.resolve();
    });
    // the master stays silent: after 2 × 50 ms without events the SDK resubscribes
    await back.promise;
    expect(notes.slice(0, 3)).toEqual(['subscribed', 'disconnected: no event from the master for 2 heartbeat intervals (100 ms)', 'subscribed']);
    const second = await master.nth('SUBSCRIBE', 2);
    expect(second.framework.id).toBe(s.frameworkId);
    await master.nth('RECONCILE', 2);
  });

  it('keeps resubscribing with backoff until a master answers', async () => {
    const { master, connectFw } = cluster();
    master.heartbeatIntervalSeconds = 0.05;
    master.onSubscribe = ['subscribed', 'silent', { reject: 'NOT_LEADER' }, 'subscribed'];
    const s = await connectFw({ missedHeartbeats: 1, subscribeTimeoutMs: 300, resubscribeBackoffMs: 5, random: () => 0.5 });
    const resubscribed = deferred<void>();
    let count = 0;
    s.on('subscribed', () => {
      if (++count === 2) resubscribed.resolve();
    });
    await resubscribed.promise;
    const ids = (await Promise.all([1, 2, 3, 4].map((n) => master.nth('SUBSCRIBE', n)))).map((c) => c.framework.id);
    expect(ids).toEqual([s.frameworkId, s.frameworkId, s.frameworkId, s.frameworkId]);
  });

  it('resubscribes at once when a new term is announced while it waits out a resubscribe backoff', async () => {
    const { name, master, connectFw } = cluster();
    master.heartbeatIntervalSeconds = 0.05;
    // The first resubscribe gets no SUBSCRIBED; the next pause would be ten minutes.
    master.onSubscribe = ['subscribed', 'silent', 'subscribed'];
    const s = await connectFw({ missedHeartbeats: 1, subscribeTimeoutMs: 300, resubscribeBackoffMs: 600_000, maxResubscribeBackoffMs: 600_000, random: () => 0.5 });
    await master.nth('SUBSCRIBE', 2);
    await until(() => s.state === 'disconnected', 'the resubscribe attempt to fail');
    // A new master wins a term and serves: the leader key says so.
    master.epoch = 50;
    const kv = await openLeaderBucket(nc, name);
    await kv.put(LEADER_KEY, encodeLeader({ masterId: 'm2', epoch: 50, renewedAt: 0, ready: true }));
    // Bounded well below the ten-minute pause: the new term ended it.
    await until(() => s.state === 'subscribed', 'subscribed to the new term', 10_000);
    expect(master.ofType('SUBSCRIBE')).toHaveLength(3);
    expect(s.epoch).toBe(50);
  });

  it('resubscribes while JetStream cannot answer, once its consumer was made at the first subscribe', async () => {
    // Its own server: it is restarted without JetStream (as a JetStream still electing after a partition heals answers nothing).
    let own = await startNats();
    const port = Number(new URL(own.url).port);
    const name = `sdk-${process.pid}-own`;
    const mnc = await connect({ servers: own.url, maxReconnectAttempts: -1, reconnectTimeWait: 50 });
    try {
      const master = new FakeMaster(mnc, name, 'fw');
      master.heartbeatIntervalSeconds = 0.1;
      const s = await Scheduler.connect({ servers: own.url, cluster: name, framework: { name: 'fw' }, logger: log, missedHeartbeats: 2, resubscribeBackoffMs: 50, maxResubscribeBackoffMs: 200, random: () => 0.5 });
      open.push(s);
      await own.stop();
      own = await startNats(port, false);
      // Silent master, no JetStream: the SDK resubscribes, and the master's SUBSCRIBED comes back.
      await until(() => master.ofType('SUBSCRIBE').length >= 2 && s.state === 'subscribed', 'subscribed again without JetStream', 15_000);
      expect(new Set(master.ofType('SUBSCRIBE').map((c) => c.framework.id))).toEqual(new Set([s.frameworkId]));
    } finally {
      await mnc.close();
      await own.stop();
    }
  });

  it('launches tasks on an offer as one ACCEPT with one LAUNCH', async () => {
    const { master, connectFw } = cluster();
    const s = await connectFw();
    const o = offer('o1', 'cpus:2;mem:256', 'agent-3');
    const tasks = await s.launch(o, [{ taskId: 't1', name: 'hello', command: 'echo hello', resources: 'cpus:1;mem:128' }], {
      refuseSeconds: 1,
    });
    const accept = await master.nth('ACCEPT');
    expect(accept).toEqual({
      type: 'ACCEPT',
      frameworkId: s.frameworkId,
      offerIds: ['o1'],
      operations: [{ type: 'LAUNCH', tasks }],
      filters: { refuseSeconds: 1 },
    });
    expect(tasks[0]).toMatchObject({ taskId: 't1', agentId: 'agent-3', command: { value: 'echo hello', environment: {} } });
  });

  it('sends each call with the framework id', async () => {
    const { master, connectFw } = cluster();
    const s = await connectFw({ reconcileOnSubscribe: false });
    const fw = s.frameworkId;
    await s.decline(['o1', 'o2']);
    await s.kill('t1', { gracePeriodMs: 100 });
    await s.suppress();
    await s.revive(['*']);
    await s.message('a1', 'e1', new Uint8Array([1, 2, 3]));
    await s.reconcile([{ taskId: 't1', agentId: 'a1' }]);
    await s.acceptInverseOffers(['io1'], { refuseSeconds: 60 });
    await s.declineInverseOffers(['io2', 'io3']);
    const calls = master.calls.slice(1).map((c) => (c.type === 'MESSAGE' ? { ...c, data: [...c.data] } : c));
    expect(calls).toEqual([
      { type: 'DECLINE', frameworkId: fw, offerIds: ['o1', 'o2'] },
      { type: 'KILL', frameworkId: fw, taskId: 't1', gracePeriodMs: 100 },
      { type: 'SUPPRESS', frameworkId: fw },
      { type: 'REVIVE', frameworkId: fw, roles: ['*'] },
      { type: 'MESSAGE', frameworkId: fw, agentId: 'a1', executorId: 'e1', data: [1, 2, 3] },
      { type: 'RECONCILE', frameworkId: fw, tasks: [{ taskId: 't1', agentId: 'a1' }] },
      { type: 'ACCEPT_INVERSE_OFFERS', frameworkId: fw, inverseOfferIds: ['io1'], filters: { refuseSeconds: 60 } },
      { type: 'DECLINE_INVERSE_OFFERS', frameworkId: fw, inverseOfferIds: ['io2', 'io3'] },
    ]);
  });

  it('throws CallRejectedError for a refused call, saying whether a retry can help', async () => {
    const { connectFw } = cluster((c) =>
      c.type === 'KILL' ? { code: 'INVALID', reason: 'no' } : c.type === 'DECLINE' ? { code: 'NOT_LEADER', reason: 'x' } : undefined,
    );
    const s = await connectFw();
    await expect(s.kill('t1')).rejects.toMatchObject({ name: 'CallRejectedError', code: 'INVALID', retryable: false });
    await expect(s.decline(['o1'])).rejects.toBeInstanceOf(CallRejectedError);
    await expect(s.decline(['o1'])).rejects.toMatchObject({ retryable: true });
  });

  it('throws CallRejectedError, not retryable, when an inverse offer answer is refused', async () => {
    const { connectFw } = cluster((c) => (c.type === 'ACCEPT_INVERSE_OFFERS' ? { code: 'UNKNOWN_INVERSE_OFFER' as RejectionCode, reason: 'inverse offer io1 is unknown' } : undefined));
    const s = await connectFw();
    await expect(s.acceptInverseOffers(['io1'])).rejects.toMatchObject({ name: 'CallRejectedError', code: 'UNKNOWN_INVERSE_OFFER', retryable: false });
  });

  it('waits for an offer that fits and declines the others', async () => {
    const { master, connectFw } = cluster();
    const s = await connectFw();
    const wanted = s.waitForOffer('cpus:1;mem:128');
    master.send(s.frameworkId, { type: 'OFFERS', epoch: 1, offers: [offer('small', 'cpus:0.5;mem:512')] });
    master.send(s.frameworkId, { type: 'OFFERS', epoch: 1, offers: [offer('big', 'cpus:4;mem:1024'), offer('other', 'cpus:4;mem:1024')] });
    expect((await wanted).id).toBe('big');
    expect((await master.nth('DECLINE', 1)).offerIds).toEqual(['small']);
    expect((await master.nth('DECLINE', 2)).offerIds).toEqual(['other']);
  });

  it('ends iterators at close and refuses calls afterwards', async () => {
    const { master, connectFw } = cluster();
    const s = await connectFw();
    const events = s.events();
    master.send(s.frameworkId, { type: 'RESCIND', epoch: 1, offerId: 'o9' });
    const first = await events.next();
    // SUBSCRIBED was queued before the iterator existed and is delivered to it too
    expect(first.value).toMatchObject({ type: 'SUBSCRIBED' });
    expect((await events.next()).value).toMatchObject({ type: 'RESCIND', offerId: 'o9' });
    const pending = s.waitForOffer('cpus:1').catch((e: unknown) => e);
    await s.close();
    expect(await events.next()).toEqual({ value: undefined, done: true });
    expect(await pending).toBeInstanceOf(SchedulerClosedError);
    await expect(s.revive()).rejects.toMatchObject({ name: 'SchedulerClosedError', retryable: false });
    expect(s.state).toBe('closed');
    expect(s.nc.isClosed()).toBe(true);
  });

  it('stops resubscribing once the master ends the framework', async () => {
    const { master, connectFw } = cluster();
    const s = await connectFw();
    const ended = deferred<string>();
    s.on('error', (message) => ended.resolve(message));
    master.send(s.frameworkId, { type: 'ERROR', epoch: 1, message: 'torn down' });
    expect(await ended.promise).toBe('torn down');
    expect(s.state).toBe('ended');
  });
});
