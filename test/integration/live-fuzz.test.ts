// A bounded live fuzz of a whole cluster (two masters, one agent, a framework, a running
// task): random, truncated, bit-flipped and over-sized payloads, and well-formed calls from
// the wrong principal, on every subject the cluster listens on. Every request gets a typed
// REJECTED (or, when a mutation left a valid message, an ordinary answer); events that do not
// decode are dropped; every process stays alive; each master's /metrics counts exactly the
// decode errors (per union and code) and rejections (per code) it was sent; afterwards a task
// still runs to TASK_FINISHED. Payloads come from a fixed seed (NESOS_FUZZ_SEED to change it).
// test/integration/master-fuzz.test.ts covers the master's subjects and stream in more depth.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { Scheduler, TaskState, isTerminal } from '../../actors/scheduler/index.js';
import { createRng } from '../../actors/runtime/rng.js';
import { silentLogger } from '../../actors/runtime/logger.js';
import { decode, encode } from '../../protocol/codec.js';
import { AgentToMaster, MasterToAgent, MasterReplyToAgent } from '../../protocol/agent.js';
import { ExecutorCall, ExecutorEvent } from '../../protocol/executor.js';
import { FilesCall, FilesReply } from '../../protocol/files.js';
import { PingCall } from '../../protocol/leader.js';
import { OperatorApiCall, OperatorApiReply } from '../../protocol/operator-api.js';
import { Reply } from '../../protocol/replies.js';
import { SchedulerCall, SchedulerEvent } from '../../protocol/scheduler.js';
import { Subjects } from '../../protocol/subjects.js';
import { UpdateRecord } from '../../protocol/updates.js';
import type { MessageUnion } from '../../protocol/union.js';
import { FUZZ_SEED } from '../fuzz/config.js';
import { badPayloads, validSamples, type Payload } from '../fuzz/payloads.js';
import { TestCluster } from '../helpers/cluster.js';
import type { TestProcess } from '../helpers/processes.js';

const PER_SUBJECT = 80;

let cluster: TestCluster;
let nc: NatsConnection;
let subjects: Subjects;
let sched: Scheduler;
let leader: TestProcess;
const urls = new Map<string, string>();

/** The HTTP URL a master logged when it started listening. */
async function urlOf(p: TestProcess): Promise<string> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const m = /"url":"([^"]+)","msg":"http server listening"/.exec(p.output());
    if (m?.[1] !== undefined) return m[1];
    if (Date.now() > deadline) throw new Error(`${p.name} logged no HTTP URL:\n${p.output().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Refusal counters a master exports: `decode <union> <code>` and `rejected <code>` → count. */
async function refusals(master: TestProcess): Promise<Map<string, number>> {
  const text = await (await fetch(`${urls.get(master.name)}/metrics`)).text();
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^nesos_decode_errors_total\{union="(\w+)",code="(\w+)"\} (\d+)$/gm)) out.set(`decode ${m[1]} ${m[2]}`, Number(m[3]));
  for (const m of text.matchAll(/^nesos_calls_rejected_total\{code="(\w+)"\} (\d+)$/gm)) out.set(`rejected ${m[1]}`, Number(m[2]));
  return out;
}

function delta(after: Map<string, number>, before: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of after) if (v - (before.get(k) ?? 0) !== 0) out[k] = v - (before.get(k) ?? 0);
  return out;
}

function bump(tally: Record<string, number>, key: string, n = 1): void {
  tally[key] = (tally[key] ?? 0) + n;
}

beforeAll(async () => {
  cluster = await TestCluster.start({ masters: 2, agents: 1 });
  nc = await cluster.connect();
  subjects = new Subjects(cluster.name);
  for (const m of cluster.masters) urls.set(m.name, await urlOf(m));
  leader = await cluster.leader();
  sched = await Scheduler.connect({ servers: cluster.natsUrl, cluster: cluster.name, framework: { name: 'live-fuzz' }, logger: silentLogger() });
});

afterAll(async () => {
  await sched?.close().catch(() => undefined);
  await cluster?.stop();
});

/** A subject the cluster listens on, who counts what arrives there, and how to read answers. */
interface Target {
  subject: string;
  union: MessageUnion;
  /** The union requests are answered with; undefined for event subjects (published only, nothing must decode). */
  replies?: MessageUnion;
  /** The master process whose /metrics counts what arrives here. */
  countedBy?: TestProcess;
  samples: object[];
}

describe('a live cluster under bad input on every subject', () => {
  it('answers or drops every bad message, counts each refusal by kind, and keeps every process alive', async () => {
    const rng = createRng(FUZZ_SEED);
    const offer = await sched.waitForOffer('cpus:0.1;mem:32', { timeoutMs: 10_000 });
    const [sleeper] = await sched.launch(offer, [{ name: 'sleeper', command: 'sleep 60', resources: 'cpus:0.1;mem:32' }]);
    const agentId = sleeper!.agentId;
    await cluster.waitFor((s) => s.tasks.some((t) => t.taskId === sleeper!.taskId && t.state === TaskState.RUNNING));

    const seed = FUZZ_SEED;
    const targets: Target[] = [
      // Only the leader serves the master subjects. REGISTER_AGENT is left out of the samples so
      // that mutations do not register agents that then take the final task.
      { subject: subjects.schedulerCall('fuzz'), union: SchedulerCall, replies: Reply, countedBy: leader, samples: validSamples(SchedulerCall, seed, 10) },
      { subject: subjects.agentToMaster('fuzzer'), union: AgentToMaster, replies: MasterReplyToAgent, countedBy: leader, samples: validSamples(AgentToMaster, seed, 10, ['HEARTBEAT', 'EXITED_EXECUTOR', 'EXECUTOR_TO_FRAMEWORK']) },
      { subject: subjects.operatorCall('fuzz'), union: OperatorApiCall, replies: OperatorApiReply, countedBy: leader, samples: validSamples(OperatorApiCall, seed, 10, ['GET_STATE', 'GET_ROLES', 'TEARDOWN', 'KILL_TASK', 'EXPLAIN_OFFERS']) },
      ...cluster.masters.map((m) => ({ subject: subjects.masterPing(m.name), union: PingCall, replies: Reply, countedBy: m, samples: [{ type: 'PING', from: 'fuzzer' }] })),
      // The agent serves its executors and its files; it listens to the master.
      { subject: subjects.executorToAgent(agentId, 'no-such-executor'), union: ExecutorCall, replies: Reply, samples: validSamples(ExecutorCall, seed, 10) },
      { subject: subjects.agentFiles(agentId, 'fuzz'), union: FilesCall, replies: FilesReply, samples: validSamples(FilesCall, seed, 5) },
      { subject: subjects.masterToAgent(agentId), union: MasterToAgent, samples: validSamples(MasterToAgent, seed, 10) },
      // The executor of the running task, and the framework.
      { subject: subjects.agentToExecutor(agentId, sleeper!.taskId), union: ExecutorEvent, samples: validSamples(ExecutorEvent, seed, 10) },
      { subject: subjects.frameworkEvents(sched.frameworkId), union: SchedulerEvent, samples: validSamples(SchedulerEvent, seed, 10) },
    ];

    const before = new Map(await Promise.all(cluster.masters.map(async (m) => [m.name, await refusals(m)] as const)));
    const expected = new Map<string, Record<string, number>>(cluster.masters.map((m) => [m.name, {}]));
    const kinds: Record<string, number> = {};
    for (const t of targets) {
      for (const p of badPayloads(t.union, t.samples, rng, PER_SUBJECT)) {
        if (t.replies === undefined) {
          // Events: what decodes would be acted on (a mutated epoch could fence the real
          // master; nats.conf has no permissions yet), so only what must be dropped is sent.
          if (p.code !== undefined) nc.publish(t.subject, p.bytes);
          continue;
        }
        bump(kinds, `${p.kind}${p.code === undefined ? ' (still valid)' : ''}`);
        // Fire-and-forget on a request subject: dropped after decode, counted all the same.
        nc.publish(t.subject, p.bytes);
        const answer = await ask(t, p);
        const tally = t.countedBy === undefined ? undefined : expected.get(t.countedBy.name)!;
        if (tally !== undefined && p.code !== undefined) bump(tally, `decode ${t.union.name} ${p.code}`, 2);
        if (tally !== undefined && answer.type === 'REJECTED') bump(tally, `rejected ${answer.code}`);
      }
    }

    // Well-formed calls from the wrong principal (or to the wrong place): refused, not run.
    const wrong: Array<{ subject: string; message: object; replies: MessageUnion; code: string; union?: MessageUnion }> = [
      // A scheduler call naming another framework's id.
      { subject: subjects.schedulerCall('mallory'), message: { type: 'TEARDOWN', frameworkId: sched.frameworkId }, replies: Reply, code: 'WRONG_PRINCIPAL' },
      { subject: subjects.schedulerCall('mallory'), message: { type: 'KILL', frameworkId: sched.frameworkId, taskId: sleeper!.taskId }, replies: Reply, code: 'WRONG_PRINCIPAL' },
      // SUBSCRIBE declaring a principal other than the subject's.
      { subject: subjects.schedulerCall('mallory'), message: { type: 'SUBSCRIBE', framework: { id: 'fw-m', name: 'm', principal: 'fuzz' } }, replies: Reply, code: 'WRONG_PRINCIPAL' },
      // An agent speaking for another agent, and agent messages from an unregistered agent.
      { subject: subjects.agentToMaster('mallory'), message: { type: 'HEARTBEAT', agentId }, replies: MasterReplyToAgent, code: 'WRONG_PRINCIPAL' },
      { subject: subjects.agentToMaster('ghost'), message: { type: 'HEARTBEAT', agentId: 'ghost' }, replies: MasterReplyToAgent, code: 'UNKNOWN_AGENT' },
      { subject: subjects.agentToMaster('ghost'), message: { type: 'EXITED_EXECUTOR', agentId: 'ghost', frameworkId: sched.frameworkId, executorId: sleeper!.taskId, exitCode: 1 }, replies: MasterReplyToAgent, code: 'UNKNOWN_AGENT' },
      // An operator call on the scheduler subject, a scheduler call on the operator subject.
      { subject: subjects.schedulerCall('fuzz'), message: { type: 'MARK_AGENT_GONE', agentId }, replies: Reply, code: 'UNKNOWN_TYPE', union: SchedulerCall },
      { subject: subjects.operatorCall('fuzz'), message: { type: 'TEARDOWN_FRAMEWORK', frameworkId: sched.frameworkId }, replies: OperatorApiReply, code: 'UNKNOWN_TYPE', union: OperatorApiCall },
      // An executor speaking for the running task's executor.
      { subject: subjects.executorToAgent(agentId, 'mallory'), message: { type: 'SUBSCRIBE', executorId: sleeper!.taskId, frameworkId: sched.frameworkId }, replies: Reply, code: 'WRONG_PRINCIPAL' },
    ];
    const leaderTally = expected.get(leader.name)!;
    for (const w of wrong) {
      const reply = decode(w.replies, (await nc.request(w.subject, encode(w.message), { timeout: 5000 })).data);
      expect(reply.ok && reply.value.type === 'REJECTED' && reply.value.code, `${w.subject} ${JSON.stringify(w.message)}`).toBe(w.code);
      if (!w.subject.includes('.master.')) continue;
      bump(leaderTally, `rejected ${w.code}`);
      if (w.union !== undefined) bump(leaderTally, `decode ${w.union.name} ${w.code}`);
    }

    // Records on the updates stream (stored by JetStream, read by the leader's consumer) that
    // do not decode, or whose body names another task than their subject: dropped and counted.
    const record = { type: 'STATUS_UPDATE', frameworkId: sched.frameworkId, status: { taskId: 'fuzz-task', state: 'TASK_RUNNING', source: 'SOURCE_EXECUTOR', uuid: 'u-fuzz', timestamp: 1 } };
    const updateSubject = subjects.statusUpdate(sched.frameworkId, 'fuzz-task');
    for (const p of [...badPayloads(UpdateRecord, [record], rng, 20), { kind: 'valid' as const, bytes: encode({ ...record, status: { ...record.status, taskId: 'other' } }), code: 'INVALID' }]) {
      if (p.code === undefined || p.kind === 'over-sized') continue; // a valid record would be applied; JetStream stores up to its own limit
      nc.publish(updateSubject, p.bytes);
      bump(leaderTally, `decode ${UpdateRecord.name} ${p.code}`);
    }

    // Every master counted exactly what it was sent, by kind (publishes included: flush first).
    await nc.flush();
    for (const m of cluster.masters) {
      const want = expected.get(m.name)!;
      await expect.poll(async () => delta(await refusals(m), before.get(m.name)!), { timeout: 10_000, interval: 100 }).toEqual(want);
    }
    expect(Object.keys(kinds).sort()).toEqual(expect.arrayContaining(['random', 'truncated', 'bit-flipped', 'over-sized']));

    // Nothing crashed, nobody failed over, and the running task is untouched.
    for (const p of cluster.processes) expect(p.hasExited, `${p.name} exited:\n${p.output().slice(-2000)}`).toBe(false);
    expect((await cluster.leader()).name).toBe(leader.name);
    const state = await cluster.state();
    expect(state.agents.filter((a) => a.status === 'active').map((a) => a.id)).toEqual([agentId]);
    expect(state.tasks.find((t) => t.taskId === sleeper!.taskId)?.state).toBe(TaskState.RUNNING);
    await sched.kill(sleeper!.taskId, { gracePeriodMs: 0 });
  });

  it('still runs a task to TASK_FINISHED afterwards', async () => {
    const updates = sched.updates();
    await sched.revive(); // clears the refusal filters of the first test's offers
    // a bound, not a speed target: on a loaded machine the next allocation run can be slow
    const offer = await sched.waitForOffer('cpus:0.1;mem:32', { timeoutMs: 30_000 });
    const [task] = await sched.launch(offer, [{ name: 'ok', command: 'true', resources: 'cpus:0.1;mem:32' }]);
    let last = '';
    for await (const status of updates) {
      if (status.taskId !== task!.taskId) continue;
      last = status.state;
      if (isTerminal(status.state)) break;
    }
    expect(last).toBe(TaskState.FINISHED);
    for (const p of cluster.processes) expect(p.hasExited, p.name).toBe(false);
  });
});

/** Sends a payload as a request; checks and returns the answer (REJECTED with the codec's code when it cannot decode). */
async function ask(t: Target, p: Payload): Promise<{ type: string; code?: string }> {
  const msg = await nc.request(t.subject, p.bytes, { timeout: 5000 });
  const reply = decode(t.replies!, msg.data);
  const what = `${t.subject} ${p.kind} ${Buffer.from(p.bytes.subarray(0, 48)).toString('hex')}`;
  expect(reply.ok, `${what}: the reply does not decode as ${t.replies!.name}`).toBe(true);
  if (!reply.ok) return { type: 'undecodable' };
  const value = reply.value as { type: string; code?: string };
  if (p.code !== undefined) expect({ type: value.type, code: value.code }, what).toEqual({ type: 'REJECTED', code: p.code });
  expect(value.code, `${what}: a handler failed`).not.toBe('INTERNAL');
  return value;
}
