// Bad input on every master subject: random bytes, truncated valid messages, unknown
// types, ill-typed fields, over-sized payloads and calls from the wrong principal. Each
// request is answered with a typed REJECTED; bad records on the updates stream are dropped;
// the master keeps serving: afterwards a framework still runs a task to TASK_FINISHED.
// Inputs come from a fixed seed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { Scheduler, TaskState, isTerminal } from '../../actors/scheduler/index.js';
import { createRng, type Rng } from '../../actors/runtime/rng.js';
import { silentLogger } from '../../actors/runtime/logger.js';
import { decode, encode } from '../../protocol/codec.js';
import { Reply } from '../../protocol/replies.js';
import { Buckets } from '../../protocol/buckets.js';
import { Subjects } from '../../protocol/subjects.js';
import { TestCluster } from '../helpers/cluster.js';

const SEED = 0x5eed;
const CASES_PER_SUBJECT = 60;

let cluster: TestCluster;
let nc: NatsConnection;
let subjects: Subjects;

beforeAll(async () => {
  cluster = await TestCluster.start({ agents: 1 });
  nc = await cluster.connect();
  subjects = new Subjects(cluster.name);
});

afterAll(async () => {
  await cluster?.stop();
});

function randomBytes(rng: Rng, max: number): Uint8Array {
  const n = 1 + Math.floor(rng() * max);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rng() * 256);
  return out;
}

/** Valid-looking messages of every kind the master takes, to be truncated or corrupted. */
function samples(): object[] {
  return [
    { type: 'SUBSCRIBE', framework: { id: 'fw-fuzz', name: 'fuzz', principal: 'fuzz', roles: ['*'], capabilities: [], failoverTimeoutSeconds: 0 } },
    { type: 'ACCEPT', frameworkId: 'fw-x', offerIds: ['o-1'], operations: [] },
    { type: 'DECLINE', frameworkId: 'fw-x', offerIds: ['o-1'] },
    { type: 'KILL', frameworkId: 'fw-x', taskId: 't-1' },
    { type: 'SUPPRESS', frameworkId: 'fw-x' },
    { type: 'RECONCILE', frameworkId: 'fw-x', tasks: [] },
    { type: 'REGISTER_AGENT', agent: { id: 'fuzzer', hostname: 'h', resources: [{ name: 'cpus', scalar: 1 }], attributes: {} }, tasks: [] },
    { type: 'HEARTBEAT', agentId: 'fuzzer' },
    { type: 'EXITED_EXECUTOR', agentId: 'fuzzer', frameworkId: 'fw-x', executorId: 't', exitCode: 1 },
    { type: 'GET_STATE' },
  ];
}

/** Sends `payload` as a request and decodes the answer as OK/REJECTED. */
async function ask(subject: string, payload: Uint8Array): Promise<ReturnType<typeof decode<typeof Reply>>> {
  const msg = await nc.request(subject, payload, { timeout: 5000 });
  return decode(Reply, msg.data);
}

describe('the master under bad input', () => {
  it('answers random and truncated bytes on every master subject with a typed REJECTED', async () => {
    const rng = createRng(SEED);
    const targets = [subjects.schedulerCall('fuzz'), subjects.agentToMaster('fuzzer'), subjects.operatorCall('fuzz')];
    const codes = new Map<string, number>();
    for (const subject of targets) {
      for (let i = 0; i < CASES_PER_SUBJECT; i++) {
        let payload: Uint8Array;
        if (i % 3 === 0) {
          payload = randomBytes(rng, 512);
        } else {
          const valid = encode(samples()[Math.floor(rng() * samples().length)]!);
          if (i % 3 === 1) {
            payload = valid.slice(0, Math.max(1, Math.floor(rng() * (valid.length - 1)))); // truncated
          } else {
            payload = valid.slice();
            const at = Math.floor(rng() * payload.length);
            payload[at] = (payload[at]! ^ (1 + Math.floor(rng() * 255))) & 0xff; // one byte flipped
          }
        }
        // Fire-and-forget publishes must be dropped quietly…
        nc.publish(subject, payload);
        // …and requests answered: REJECTED with a code, or OK/STATE when a flipped byte
        // happened to leave a valid message.
        const reply = await nc.request(subject, payload, { timeout: 5000 });
        const answer = decode(Reply, reply.data);
        const type = answer.ok ? answer.value.type : 'OTHER';
        const code = answer.ok && answer.value.type === 'REJECTED' ? answer.value.code : type;
        codes.set(code, (codes.get(code) ?? 0) + 1);
      }
    }
    // Random bytes and truncations are refused at decode, with the protocol's codes.
    expect((codes.get('MALFORMED') ?? 0) + (codes.get('UNKNOWN_TYPE') ?? 0) + (codes.get('INVALID') ?? 0)).toBeGreaterThan(CASES_PER_SUBJECT);
    expect(codes.has('INTERNAL')).toBe(false);
    // Each refusal is logged by the master (pino JSON lines in its log).
    expect(cluster.master!.output()).toMatch(/"msg":"refused SchedulerCall"/);
    expect(cluster.master!.output()).toMatch(/"msg":"refused AgentToMaster"/);
    // The master still serves.
    const state = await cluster.state();
    expect(state.agents.filter((a) => a.status === 'active')).toHaveLength(1);
  });

  it('drops (and acknowledges) records of the updates stream that do not decode or do not match their subject', async () => {
    const rng = createRng(SEED + 1);
    const subject = subjects.statusUpdate('fw-fuzz', 't-1');
    const record = { type: 'STATUS_UPDATE', frameworkId: 'fw-fuzz', status: { taskId: 't-1', state: 'TASK_RUNNING', source: 'SOURCE_EXECUTOR', uuid: 'u-1', timestamp: 1 } };
    const payloads = [
      ...Array.from({ length: 20 }, () => randomBytes(rng, 256)),
      encode({ ...record, frameworkId: 'fw-other' }), // body and subject disagree
      encode({ ...record, status: { ...record.status, uuid: undefined } }), // no uuid
      encode({ type: 'NO_SUCH_RECORD' }),
    ];
    // Plain publishes on the stream's subjects are stored by JetStream like any other.
    for (const p of payloads) nc.publish(subject, p);
    await nc.flush();
    const jsm = await jetstreamManager(nc);
    const stream = new Buckets(cluster.name).updates();
    const deadline = Date.now() + 10_000;
    for (;;) {
      const master = await jsm.consumers.info(stream, 'master');
      const logged = /"msg":"dropped an invalid record of the updates stream"/.test(cluster.master!.output());
      if (logged && master.num_pending === 0 && master.num_ack_pending === 0) break;
      if (Date.now() > deadline) throw new Error(`the master did not get through the bad records (logged: ${logged}): ${JSON.stringify(master)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(cluster.master!.hasExited).toBe(false);
  });

  it('refuses each kind of bad request with its own code', async () => {
    const cases: Array<{ subject: string; payload: Uint8Array; code: string }> = [
      { subject: subjects.schedulerCall('fuzz'), payload: new Uint8Array([0x81]), code: 'MALFORMED' },
      { subject: subjects.schedulerCall('fuzz'), payload: encode({ type: 'NO_SUCH_CALL' }), code: 'UNKNOWN_TYPE' },
      { subject: subjects.schedulerCall('fuzz'), payload: encode({ type: 'KILL', frameworkId: 42 }), code: 'INVALID' },
      { subject: subjects.schedulerCall('fuzz'), payload: new Uint8Array(2 * 1024 * 1024), code: 'TOO_LARGE' },
      // A framework that declares another principal than the one it calls as.
      { subject: subjects.schedulerCall('mallory'), payload: encode(samples()[0]!), code: 'WRONG_PRINCIPAL' },
      // An agent speaking for another agent.
      { subject: subjects.agentToMaster('mallory'), payload: encode({ type: 'HEARTBEAT', agentId: 'agent-1' }), code: 'WRONG_PRINCIPAL' },
      // Calls for a framework that never subscribed.
      { subject: subjects.schedulerCall('fuzz'), payload: encode({ type: 'DECLINE', frameworkId: 'fw-nobody', offerIds: ['o-1'] }), code: 'NOT_SUBSCRIBED' },
    ];
    for (const c of cases) {
      const answer = await ask(c.subject, c.payload);
      expect(answer.ok, c.code).toBe(true);
      expect(answer.ok && answer.value.type === 'REJECTED' ? answer.value.code : answer.ok ? answer.value.type : 'undecodable', c.code).toBe(c.code);
    }
  });

  it('still runs a task to TASK_FINISHED afterwards', async () => {
    const sched = await Scheduler.connect({ servers: cluster.natsUrl, cluster: cluster.name, framework: { name: 'after-fuzz' }, logger: silentLogger() });
    try {
      const updates = sched.updates();
      const offer = await sched.waitForOffer('cpus:0.1;mem:32', { timeoutMs: 10_000 });
      const [task] = await sched.launch(offer, [{ name: 'ok', command: 'true', resources: 'cpus:0.1;mem:32' }]);
      let last = '';
      for await (const status of updates) {
        if (status.taskId !== task!.taskId) continue;
        last = status.state;
        if (isTerminal(status.state)) break;
      }
      expect(last).toBe(TaskState.FINISHED);
    } finally {
      await sched.teardown().catch(() => undefined);
      await sched.close();
    }
    expect(cluster.master!.hasExited).toBe(false);
  });
});
