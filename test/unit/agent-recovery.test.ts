// Recovery, without processes: the core's checkpoint round trip (tasks, unacknowledged
// updates, executors recovering until they subscribe again), the fate of each checkpointed
// executor under --recover, the checkpoint file (atomic, coalesced, acknowledgements after
// the write), and the executor waiting for a restarting agent.
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentCheckpointFile, CHECKPOINT_FILE, Checkpointer, readCheckpoint } from '../../actors/agent/checkpoint.js';
import { AgentCheckpointError } from '../../actors/agent/errors.js';
import { planRecovery } from '../../actors/agent/recovery.js';
import { ExecutorCore } from '../../actors/executor/core.js';
import { Resources } from '../../protocol/resources.js';
import { TaskReason, TaskState } from '../../protocol/task-state.js';
import { AgentHarness, ofKind, statusUpdates, toExecutor, toMaster } from '../harness/agent-harness.js';

const S = TaskState;

/** An agent that ran t1 (RUNNING, acknowledged) and t2 (FINISHED, not yet acknowledged), then "restarts". */
function restarted() {
  const before = new AgentHarness();
  before.launched('t1');
  before.launched('t2');
  const r1 = before.update('t1', S.RUNNING, 'x-run-1');
  before.published('t1', statusUpdates(r1.effects)[0]!.uuid!);
  before.update('t2', S.RUNNING, 'x-run-2');
  before.update('t2', S.FINISHED, 'x-fin-2');
  const cp = JSON.parse(JSON.stringify(before.core.checkpoint())) as ReturnType<typeof before.core.checkpoint>;
  const after = new AgentHarness({ executorReregistrationTimeoutMs: 2000 });
  const effects = after.core.recover(cp, after.now);
  return { before, after, cp, effects };
}

describe('agent core: checkpoint and recover', () => {
  it('takes back tasks and their states; executors wait, recovering, and are asked to RECONNECT', () => {
    const { after, effects } = restarted();
    expect(after.taskView('t1')?.state).toBe(S.RUNNING);
    expect(after.taskView('t2')?.state).toBe(S.FINISHED);
    expect(after.executorView('t1')?.phase).toBe('recovering');
    expect(toExecutor(effects, 't1')).toEqual([{ type: 'RECONNECT', agentId: 'a1' }]);
    expect(toExecutor(effects, 't2')).toEqual([{ type: 'RECONNECT', agentId: 'a1' }]);
  });

  it('publishes again at once the updates the stream had not acknowledged, head first, then registers with the recovered tasks', () => {
    const { after, effects } = restarted();
    // t2's RUNNING never reached the stream: it is the head; FINISHED follows once it does
    expect(statusUpdates(effects).map((s) => [s.taskId, s.state])).toEqual([['t2', S.RUNNING]]);
    const next = after.published('t2', 'x-run-2');
    expect(statusUpdates(next).map((s) => [s.taskId, s.state, s.uuid])).toEqual([['t2', S.FINISHED, 'x-fin-2']]);
    const sent = toMaster(after.tick());
    const reg = sent.find((m) => m.type === 'REGISTER_AGENT');
    expect(reg?.type === 'REGISTER_AGENT' && reg.tasks.map((t) => [t.task.taskId, t.state])).toEqual([
      ['t1', S.RUNNING],
      ['t2', S.FINISHED],
    ]);
    // registering publishes nothing more: the stream, not the master, carries updates
    const registered = after.reply('REGISTER_AGENT', { type: 'AGENT_REGISTERED', epoch: 5, agentId: 'a1', masterId: 'm', heartbeatIntervalMs: 1000 });
    expect(statusUpdates(registered)).toEqual([]);
  });

  it('an executor that subscribes again gets no second LAUNCH; an update it resends is acknowledged once the stream holds it, not applied twice', () => {
    const { after } = restarted();
    after.register();
    const r = after.subscribe('t2', 'f1', [after.status('t2', S.FINISHED, 'x-fin-2')]);
    expect(r.ok).toBe(true);
    expect(toExecutor(r.effects, 't2').map((e) => e.type)).toEqual(['SUBSCRIBED']);
    expect(statusUpdates(r.effects)).toEqual([]);
    expect(after.executorView('t2')?.phase).toBe('subscribed');
    const acks = [...after.published('t2', 'x-run-2'), ...after.published('t2', 'x-fin-2')];
    expect(toExecutor(acks, 't2')).toEqual([
      { type: 'ACKNOWLEDGED', taskId: 't2', uuid: 'x-run-2' },
      { type: 'ACKNOWLEDGED', taskId: 't2', uuid: 'x-fin-2' },
    ]);
    expect(after.taskView('t2')?.state).toBe(S.FINISHED);
    // and a new update goes through as usual
    const r1 = after.subscribe('t1');
    expect(toExecutor(r1.effects, 't1').map((e) => e.type)).toEqual(['SUBSCRIBED']);
    expect(after.update('t1', S.FINISHED).ok).toBe(true);
    expect(after.taskView('t1')?.state).toBe(S.FINISHED);
  });

  it('kills an executor that does not subscribe again in time; its task fails with REASON_EXECUTOR_REREGISTRATION_TIMEOUT', () => {
    const { after } = restarted();
    after.register();
    expect(ofKind(after.tick(1999), 'kill-executor')).toEqual([]);
    const kill = after.tick(1);
    expect(ofKind(kill, 'kill-executor').map((k) => k.executorId).sort()).toEqual(['t1', 't2']);
    after.exited('t1', { signal: 'SIGKILL' });
    expect(after.taskView('t1')?.state).toBe(S.FAILED);
    const queued = after.core.checkpoint().tasks.find((t) => t.task.taskId === 't1')?.pending.at(-1);
    expect(queued).toMatchObject({ state: S.FAILED, reason: TaskReason.EXECUTOR_REREGISTRATION_TIMEOUT });
  });

  it('an executor found dead fails its running tasks, saying it died while the agent was down', () => {
    const { after } = restarted();
    after.core.onExecutorExited('t1', { gone: 'while the agent was down' }, after.now);
    const failed = after.core.checkpoint().tasks.find((t) => t.task.taskId === 't1')?.pending.at(-1);
    expect(failed).toMatchObject({ state: S.FAILED, reason: TaskReason.EXECUTOR_TERMINATED, message: 'Executor exited while the agent was down before the task ended' });
  });

  it('a kill while the executor has not subscribed again kills the executor; its task ends KILLED', () => {
    const { after } = restarted();
    after.register();
    const effects = after.master({ type: 'KILL_TASK', frameworkId: 'f1', taskId: 't1' });
    expect(ofKind(effects, 'kill-executor').map((k) => k.executorId)).toEqual(['t1']);
    after.exited('t1', { signal: 'SIGKILL' });
    expect(after.taskView('t1')?.state).toBe(S.KILLED);
  });
});

function file(executors: Array<{ id: string; exited?: boolean; pid?: number }>): AgentCheckpointFile {
  return AgentCheckpointFile.parse({
    version: 1,
    agentId: 'a1',
    savedAt: 0,
    isolator: 'posix',
    core: {
      drain: { state: 'active' },
      frameworks: [],
      executors: executors.map((e) => ({ executorId: e.id, frameworkId: 'f1', runId: 'r1', exited: e.exited ?? false, taskIds: [], executorKind: 'command' })),
      tasks: [],
    },
    processes: Object.fromEntries(executors.filter((e) => e.pid !== undefined).map((e) => [e.id, { pid: e.pid, startTime: 100, sandbox: `/sb/${e.id}` }])),
  });
}

describe('recovery plan', () => {
  const alive = (pid: number) => pid < 100;
  it('reconnect: running executors are taken back, dead ones reported, ended ones left as they were', () => {
    const plan = planRecovery(file([{ id: 'a', pid: 10 }, { id: 'b', pid: 200 }, { id: 'c', exited: true }, { id: 'd' }]), 'reconnect', alive);
    expect(plan.map((f) => [f.executorId, f.fate])).toEqual([
      ['a', 'reattach'],
      ['b', 'gone'],
      ['c', 'ended'],
      ['d', 'gone'],
    ]);
    expect(plan[0]).toMatchObject({ pid: 10, startTime: 100, sandbox: '/sb/a' });
  });

  it('cleanup: running executors are killed', () => {
    expect(planRecovery(file([{ id: 'a', pid: 10 }]), 'cleanup', alive).map((f) => f.fate)).toEqual(['kill']);
  });
});

let work: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'nesos-checkpoint-'));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('the checkpoint file', () => {
  it('is written whole, coalescing the changes asked for during a write; acknowledgements wait for the write', async () => {
    let builds = 0;
    let content = file([{ id: 'a', pid: 10 }]);
    const cp = new Checkpointer({ workDir: work, build: async () => (builds++, content), onError: (e) => { throw e; } });
    const order: string[] = [];
    cp.afterWrite(() => order.push('ack-1'));
    content = file([{ id: 'a', pid: 10 }, { id: 'b', pid: 11 }]);
    cp.changed();
    cp.afterWrite(() => order.push('ack-2'));
    await cp.flush();
    expect(order).toEqual(['ack-1', 'ack-2']);
    expect(builds).toBeLessThanOrEqual(2);
    expect((await readCheckpoint(work))?.core.executors.map((e) => e.executorId)).toEqual(['a', 'b']);
    // nothing changed: the next request writes nothing but still releases its acknowledgement
    cp.afterWrite(() => order.push('ack-3'));
    await cp.flush();
    expect(order).toEqual(['ack-1', 'ack-2', 'ack-3']);
  });

  it('afterWriteOf(change) waits for a write covering that change, and runs at once once one is done', async () => {
    let content = file([{ id: 'a', pid: 10 }]);
    let seen: string[] = [];
    const cp = new Checkpointer({ workDir: work, build: async () => ((seen = content.core.executors.map((e) => e.executorId)), content), onError: (e) => { throw e; } });
    const order: string[] = [];
    content = file([{ id: 'a', pid: 10 }, { id: 'b', pid: 11 }]);
    const change = cp.changed();
    cp.afterWriteOf(change, () => order.push(`b written: ${String(seen.includes('b'))}`));
    expect(order).toEqual([]);
    await cp.flush();
    expect(order).toEqual(['b written: true']);
    // covered already: no new write needed, it runs now
    cp.afterWriteOf(change, () => order.push('again'));
    expect(order).toEqual(['b written: true', 'again']);
    // a later change waits for its own write
    const later = cp.changed();
    cp.afterWriteOf(later, () => order.push('later'));
    expect(order).toHaveLength(2);
    await cp.flush();
    expect(order).toEqual(['b written: true', 'again', 'later']);
  });

  it('is absent on a fresh work dir, and a broken one is an error naming the file and the way out', async () => {
    expect(await readCheckpoint(work)).toBeUndefined();
    await mkdir(join(work, 'meta'));
    await writeFile(join(work, CHECKPOINT_FILE), '{"version": 99}');
    await expect(readCheckpoint(work)).rejects.toBeInstanceOf(AgentCheckpointError);
    await writeFile(join(work, CHECKPOINT_FILE), 'not json');
    await expect(readCheckpoint(work)).rejects.toThrow(/--recover=cleanup/);
    expect((await readFile(join(work, CHECKPOINT_FILE), 'utf8')).length).toBeGreaterThan(0);
  });
});

describe('the executor while its agent restarts', () => {
  function finished(options: { ackTimeoutMs?: number; recoveryTimeoutMs?: number } = {}) {
    let seq = 0;
    const core = new ExecutorCore({ agentId: 'a1', executorId: 't1', frameworkId: 'f1', sandbox: '/sb', path: '/bin', ids: { uuid: () => `u-${++seq}` }, ...options });
    core.onLaunch({ taskId: 't1', name: 't1', agentId: 'a1', resources: Resources.parse('cpus:1').toWire(), command: { value: 'true', environment: {} } }, 0);
    core.onSpawned(1, 0);
    core.onTaskExited({ exitCode: 0, signal: null }, 1000);
    return core;
  }

  it('keeps its unacknowledged updates (to subscribe again with) while the agent is away, past the usual ack timeout', () => {
    const core = finished({ ackTimeoutMs: 5000, recoveryTimeoutMs: 60_000 });
    core.onAgentSilent(1500);
    expect(core.tick(10_000).filter((e) => e.kind === 'exit')).toEqual([]);
    expect(core.unacknowledgedStatuses.map((s) => s.state)).toEqual([S.STARTING, S.RUNNING, S.FINISHED]);
    expect(core.tick(61_000).filter((e) => e.kind === 'exit')).toEqual([{ kind: 'exit', code: 0, reason: 'the agent did not come back; exiting without the last acknowledgements' }]);
  });

  it('once the agent answers again, the usual timeout applies', () => {
    const core = finished({ ackTimeoutMs: 5000 });
    core.onAgentSilent(1500);
    core.onAgentAnswered();
    expect(core.tick(6000).filter((e) => e.kind === 'exit')).toHaveLength(1);
  });
});
