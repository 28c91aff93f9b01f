// Task groups, pure: the master's ACCEPT with LAUNCH_GROUP (atomic validation, one
// RUN_TASK_GROUP), the agent core (one default executor, the group delivered in one
// LAUNCH_GROUP), and the executor core in default mode (a failed task takes the group down).
import { describe, expect, it } from 'vitest';
import { ExecutorCore, type ExecutorEffect } from '../../actors/executor/core.js';
import { Resources } from '../../protocol/resources.js';
import type { TaskInfo, TaskStatus } from '../../protocol/schema.js';
import { TaskReason, TaskState } from '../../protocol/task-state.js';
import { AgentHarness, framework, ofKind, statusUpdates, task, toExecutor } from '../harness/agent-harness.js';
import { EPOCH, MasterHarness, allocatorCalls, published, toAgent } from '../harness/master-harness.js';

const S = TaskState;

function info(taskId: string, resources = 'cpus:1;mem:128', agentId = 'a1'): TaskInfo {
  return { taskId, name: taskId, agentId, resources: Resources.parse(resources).toWire(), command: { value: 'true', environment: {} } };
}

describe('master: ACCEPT with LAUNCH_GROUP', () => {
  function master() {
    const h = new MasterHarness();
    h.registerAgent('a1');
    h.subscribe('f1');
    const { offerId } = h.offer('f1', 'a1');
    return { h, offerId };
  }

  it('records every task STAGING and sends the group whole in one RUN_TASK_GROUP', () => {
    const { h, offerId } = master();
    const { effects } = h.call({ type: 'ACCEPT', frameworkId: 'f1', offerIds: [offerId], operations: [{ type: 'LAUNCH_GROUP', executorId: 'g1', tasks: [info('t1'), info('t2')] }] });
    const sent = toAgent(effects, 'a1');
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ type: 'RUN_TASK_GROUP', epoch: EPOCH, frameworkId: 'f1', executorId: 'g1', tasks: [{ taskId: 't1' }, { taskId: 't2' }] });
    expect(h.core.state.tasks.get('f1/t1')?.state).toBe(S.STAGING);
    expect(h.core.state.tasks.get('f1/t2')?.state).toBe(S.STAGING);
    // offered cpus:4;mem:4096, the group uses cpus:2;mem:256 → cpus:2;mem:3840 back
    const rest = allocatorCalls(effects).find((c) => c.op === 'recoverResources');
    expect(rest?.op === 'recoverResources' && rest.resources.toString()).toBe('cpus:2;mem:3840');
  });

  it('is atomic: one invalid task gives every task of the group TASK_ERROR, and launches nothing', () => {
    const { h, offerId } = master();
    const { effects } = h.call({
      type: 'ACCEPT',
      frameworkId: 'f1',
      offerIds: [offerId],
      operations: [{ type: 'LAUNCH_GROUP', executorId: 'g1', tasks: [info('t1'), info('t2', 'cpus:100;mem:1')] }],
    });
    expect(toAgent(effects, 'a1')).toEqual([]);
    const errors = published(effects, 'f1');
    expect(errors.map((s) => [s.taskId, s.state, s.reason])).toEqual([
      ['t1', S.ERROR, TaskReason.TASK_INVALID],
      ['t2', S.ERROR, TaskReason.TASK_INVALID],
    ]);
    expect(errors[0]?.message).toMatch(/^Task group invalid: task t2 of the group: task uses more resources/);
    expect(h.core.state.tasks.size).toBe(0);
    const rest = allocatorCalls(effects).find((c) => c.op === 'recoverResources');
    expect(rest?.op === 'recoverResources' && rest.resources.toString()).toBe('cpus:4;mem:4096');
  });

  it('takes LAUNCH and LAUNCH_GROUP in one ACCEPT, against the same offers', () => {
    const { h, offerId } = master();
    const { effects } = h.call({
      type: 'ACCEPT',
      frameworkId: 'f1',
      offerIds: [offerId],
      operations: [
        { type: 'LAUNCH', tasks: [info('solo', 'cpus:2;mem:128')] },
        { type: 'LAUNCH_GROUP', executorId: 'g1', tasks: [info('t1', 'cpus:2;mem:128'), info('t2', 'cpus:1;mem:128')] },
      ],
    });
    // solo takes 2 of the 4 cpus; the group needs 3: refused whole
    expect(toAgent(effects, 'a1').map((m) => m.type)).toEqual(['RUN_TASK']);
    expect(published(effects, 'f1').map((s) => [s.taskId, s.state])).toEqual([
      ['t1', S.ERROR],
      ['t2', S.ERROR],
    ]);
  });
});

describe('agent core: RUN_TASK_GROUP', () => {
  function group(h: AgentHarness, executorId = 'g1', ids = ['t1', 't2']) {
    return h.master({ type: 'RUN_TASK_GROUP', frameworkId: 'f1', framework: framework('f1'), executorId, tasks: ids.map((id) => task(id)) });
  }

  it('starts one default executor for the group, its container sized for every task', () => {
    const h = new AgentHarness();
    h.register();
    const effects = group(h);
    expect(ofKind(effects, 'launch-executor')).toEqual([
      { kind: 'launch-executor', executorId: 'g1', frameworkId: 'f1', runId: 'run-1', taskId: 't1', executorKind: 'default', resources: [task('t1').resources, task('t2').resources] },
    ]);
    expect(h.executorView('g1')).toMatchObject({ executorKind: 'default', taskIds: ['t1', 't2'], phase: 'launching' });
    expect(h.taskView('t2')).toMatchObject({ executorId: 'g1', state: S.STAGING });
  });

  it('delivers the whole group in one LAUNCH_GROUP when the executor subscribes, and accepts updates for each task', () => {
    const h = new AgentHarness();
    h.register();
    group(h);
    const r = h.subscribe('g1');
    expect(r.ok).toBe(true);
    expect(toExecutor(r.effects, 'g1').map((e) => e.type)).toEqual(['SUBSCRIBED', 'LAUNCH_GROUP']);
    const launch = toExecutor(r.effects, 'g1')[1];
    expect(launch?.type === 'LAUNCH_GROUP' && launch.tasks.map((t) => t.taskId)).toEqual(['t1', 't2']);
    const status: TaskStatus = { ...h.status('t2', S.RUNNING), executorId: 'g1' };
    expect(h.executor({ type: 'UPDATE', executorId: 'g1', frameworkId: 'f1', status }).ok).toBe(true);
    expect(h.taskView('t2')?.state).toBe(S.RUNNING);
  });

  it('hands a further group to a running default executor: its container grows, the group goes in its own LAUNCH_GROUP', () => {
    const h = new AgentHarness();
    h.register();
    group(h, 'g1', ['t1']);
    const before = group(h, 'g1', ['t2']); // still launching: sent at SUBSCRIBE
    expect(ofKind(before, 'launch-executor')).toEqual([]);
    expect(ofKind(before, 'update-container')).toEqual([{ kind: 'update-container', executorId: 'g1', resources: [task('t1').resources, task('t2').resources] }]);
    const sub = h.subscribe('g1');
    expect(toExecutor(sub.effects, 'g1').flatMap((e) => (e.type === 'LAUNCH_GROUP' ? [e.tasks.map((t) => t.taskId)] : []))).toEqual([['t1'], ['t2']]);
    const after = group(h, 'g1', ['t3']); // subscribed: sent at once
    expect(toExecutor(after, 'g1').map((e) => e.type)).toEqual(['LAUNCH_GROUP']);
    expect(h.executorView('g1')?.taskIds).toEqual(['t1', 't2', 't3']);
  });

  /** g1 ran t1, finished it and was told to SHUTDOWN after the linger. */
  function shutDown() {
    const h = new AgentHarness({ defaultExecutorLingerMs: 500 });
    h.register();
    group(h, 'g1', ['t1']);
    h.subscribe('g1');
    const fin = h.executor({ type: 'UPDATE', executorId: 'g1', frameworkId: 'f1', status: { ...h.status('t1', S.FINISHED), executorId: 'g1' } });
    for (const s of statusUpdates(fin.ok ? fin.effects : [])) h.published('t1', s.uuid!);
    expect(toExecutor(h.tick(0), 'g1')).toEqual([]);
    expect(toExecutor(h.tick(499), 'g1')).toEqual([]);
    expect(toExecutor(h.tick(1), 'g1')).toEqual([{ type: 'SHUTDOWN' }]);
    return h;
  }

  it('shuts an idle default executor down after the linger; a group for it then waits for its next run, started once it has exited', () => {
    const h = shutDown();
    const effects = group(h, 'g1', ['t3', 't4']);
    expect(ofKind(effects, 'launch-executor')).toEqual([]);
    expect(statusUpdates(effects)).toEqual([]);
    expect(toExecutor(effects, 'g1')).toEqual([]); // not to the executor that is going away
    expect(h.taskView('t3')).toMatchObject({ executorId: 'g1', state: S.STAGING });
    expect(ofKind(h.tick(100), 'launch-executor')).toEqual([]); // not before the old run has exited
    expect(statusUpdates(h.exited('g1'))).toEqual([]); // the waiting tasks are not the old run's: they do not fail with it
    const next = ofKind(h.tick(100), 'launch-executor');
    expect(next).toEqual([{ kind: 'launch-executor', executorId: 'g1', frameworkId: 'f1', runId: 'run-2', taskId: 't3', executorKind: 'default', resources: [task('t3').resources, task('t4').resources] }]);
    const sub = h.subscribe('g1');
    expect(toExecutor(sub.effects, 'g1').flatMap((e) => (e.type === 'LAUNCH_GROUP' ? [e.tasks.map((t) => t.taskId)] : [e.type]))).toEqual(['SUBSCRIBED', ['t3', 't4']]);
  });

  it('a group for a default executor that has exited (its last updates still on their way) starts a new run', () => {
    const h = new AgentHarness({ defaultExecutorLingerMs: 500 });
    h.register();
    group(h, 'g1', ['t1']);
    h.subscribe('g1');
    h.executor({ type: 'UPDATE', executorId: 'g1', frameworkId: 'f1', status: { ...h.status('t1', S.FINISHED), executorId: 'g1' } }); // no PubAck yet
    h.tick(500);
    h.exited('g1');
    expect(h.executorView('g1')?.phase).toBe('exited');
    group(h, 'g1', ['t2']);
    expect(ofKind(h.tick(100), 'launch-executor').map((l) => [l.runId, l.taskId])).toEqual([['run-2', 't2']]);
  });

  it('a kill of a task waiting for its executor\'s next run ends its group KILLED, never launched', () => {
    const h = shutDown();
    group(h, 'g1', ['t3', 't4']);
    group(h, 'g1', ['t5']);
    const killed = h.master({ type: 'KILL_TASK', frameworkId: 'f1', taskId: 't3' });
    expect(statusUpdates(killed).map((s) => [s.taskId, s.state, s.reason])).toEqual([
      ['t3', S.KILLED, TaskReason.TASK_KILLED_DURING_LAUNCH],
      ['t4', S.KILLED, TaskReason.TASK_KILLED_DURING_LAUNCH],
    ]);
    h.exited('g1');
    expect(ofKind(h.tick(100), 'launch-executor').map((l) => l.taskId)).toEqual(['t5']);
  });

  it('the groups waiting for a next run survive an agent restart (checkpoint), and the executor is told to shut down again when it resubscribes', () => {
    const h = shutDown();
    group(h, 'g1', ['t3']);
    const cp = h.core.checkpoint();
    expect(cp.executors.find((e) => e.executorId === 'g1')).toMatchObject({ shuttingDown: true, queued: ['t3'] });
    const h2 = new AgentHarness({ defaultExecutorLingerMs: 500 });
    h2.core.recover(cp, h2.now);
    const sub = h2.subscribe('g1');
    expect(toExecutor(sub.effects, 'g1').map((e) => e.type)).toEqual(['SUBSCRIBED', 'SHUTDOWN']);
    h2.exited('g1');
    expect(ofKind(h2.tick(100), 'launch-executor').map((l) => l.taskId)).toEqual(['t3']);
  });

  it('a group may not borrow a command executor\'s id: TASK_ERROR for each task', () => {
    const h = new AgentHarness();
    h.register();
    h.runTask('c1');
    expect(statusUpdates(group(h, 'c1', ['t5'])).map((s) => [s.state, s.reason])).toEqual([[S.ERROR, TaskReason.TASK_INVALID]]);
  });

  it('a kill before the executor subscribed kills the whole group', () => {
    const h = new AgentHarness();
    h.register();
    group(h);
    const effects = h.master({ type: 'KILL_TASK', frameworkId: 'f1', taskId: 't1' });
    expect(ofKind(effects, 'kill-executor').map((k) => k.executorId)).toEqual(['g1']);
    expect(h.taskView('t1')?.state).toBe(S.KILLED);
    expect(h.taskView('t2')?.state).toBe(S.KILLED);
  });
});

function sent(effects: readonly ExecutorEffect[]): TaskStatus[] {
  return effects.flatMap((e) => (e.kind === 'send-update' ? [e.status] : []));
}

function groupExecutor() {
  let seq = 0;
  const core = new ExecutorCore({ mode: 'default', agentId: 'a1', executorId: 'g1', frameworkId: 'f1', sandbox: '/sb', path: '/bin', ids: { uuid: () => `u-${++seq}` } });
  return core;
}

describe('executor core: the default executor', () => {
  it('starts every task of the group, each in its own directory', () => {
    const core = groupExecutor();
    const effects = core.onLaunchGroup([info('t1'), info('t2')], 0);
    expect(sent(effects).map((s) => [s.taskId, s.state])).toEqual([
      ['t1', S.STARTING],
      ['t2', S.STARTING],
    ]);
    expect(effects.flatMap((e) => (e.kind === 'spawn' ? [[e.taskId, e.cwd, e.env.MESOS_SANDBOX]] : []))).toEqual([
      ['t1', '/sb/tasks/t1', '/sb/tasks/t1'],
      ['t2', '/sb/tasks/t2', '/sb/tasks/t2'],
    ]);
  });

  it('kills the other tasks when one fails; they end TASK_KILLED saying why', () => {
    const core = groupExecutor();
    core.onLaunchGroup([info('t1'), info('t2'), info('t3')], 0);
    core.onSpawned(11, 1, 't1');
    core.onSpawned(12, 1, 't2');
    core.onSpawned(13, 1, 't3');
    core.onTaskExited({ exitCode: 0, signal: null }, 5, 't3'); // a task that finishes takes nobody down
    const effects = core.onTaskExited({ exitCode: 2, signal: null }, 10, 't1');
    expect(sent(effects).map((s) => [s.taskId, s.state])).toEqual([
      ['t1', S.FAILED],
      ['t2', S.KILLING],
    ]);
    expect(effects.filter((e) => e.kind === 'signal')).toEqual([
      { kind: 'signal', taskId: 't1', signal: 'SIGKILL' },
      { kind: 'signal', taskId: 't2', signal: 'SIGTERM' },
    ]);
    const [end] = sent(core.onTaskExited({ exitCode: null, signal: 'SIGTERM' }, 20, 't2'));
    expect(end).toMatchObject({ taskId: 't2', state: S.KILLED });
    expect(end?.message).toBe('Killed with its task group: task t1 ended TASK_FAILED; Command terminated with signal SIGTERM');
  });

  it('waits for more groups once every task has ended; exits on SHUTDOWN, or when idle too long without one', () => {
    const core = groupExecutor();
    core.onLaunchGroup([info('t1'), info('t2')], 0);
    core.onTaskExited({ exitCode: 0, signal: null }, 1, 't1');
    core.onTaskExited({ exitCode: 0, signal: null }, 2, 't2');
    const acks = core.unacknowledged.map((uuid) => core.onAcknowledged('x', uuid)).flat();
    expect(acks.filter((e) => e.kind === 'exit')).toEqual([]);
    // another group comes in meanwhile and runs
    expect(core.onLaunchGroup([info('t3')], 10).filter((e) => e.kind === 'spawn')).toHaveLength(1);
    core.onTaskExited({ exitCode: 0, signal: null }, 11, 't3');
    for (const uuid of core.unacknowledged) core.onAcknowledged('x', uuid);
    expect(core.onShutdown(undefined, 12).filter((e) => e.kind === 'exit')).toEqual([{ kind: 'exit', code: 0, reason: 'shut down with every task reported' }]);

    const idle = groupExecutor();
    idle.onLaunchGroup([info('t1')], 0);
    idle.onTaskExited({ exitCode: 0, signal: null }, 1, 't1');
    for (const uuid of idle.unacknowledged) idle.onAcknowledged('x', uuid);
    expect(idle.tick(60_000).filter((e) => e.kind === 'exit')).toEqual([]);
    expect(idle.tick(60_001).filter((e) => e.kind === 'exit')).toHaveLength(1);
  });

  it('a failed task takes down only its own group', () => {
    const core = groupExecutor();
    core.onLaunchGroup([info('a1'), info('a2')], 0);
    core.onLaunchGroup([info('b1')], 0);
    for (const [id, pid] of [['a1', 1], ['a2', 2], ['b1', 3]] as const) core.onSpawned(pid, 1, id);
    const effects = core.onTaskExited({ exitCode: 1, signal: null }, 2, 'a1');
    expect(sent(effects).map((s) => [s.taskId, s.state])).toEqual([
      ['a1', S.FAILED],
      ['a2', S.KILLING],
    ]);
    expect(core.taskStates.get('b1')).toBe(S.RUNNING);
  });

  it('a KILL of one task takes the group down; SHUTDOWN kills every task once', () => {
    const core = groupExecutor();
    core.onLaunchGroup([info('t1'), info('t2')], 0);
    core.onSpawned(11, 1, 't1');
    core.onSpawned(12, 1, 't2');
    core.onKill('t1', 100, 2);
    const effects = core.onTaskExited({ exitCode: null, signal: 'SIGTERM' }, 3, 't1');
    expect(sent(effects).map((s) => [s.taskId, s.state, s.reason])).toEqual([
      ['t1', S.KILLED, TaskReason.KILL_REQUESTED],
      ['t2', S.KILLING, undefined],
    ]);
    expect(core.onShutdown(0, 4).filter((e) => e.kind === 'signal')).toEqual([]);
  });

  it('the command executor refuses a group; a second group with a known task is ignored', () => {
    let seq = 0;
    const command = new ExecutorCore({ agentId: 'a1', executorId: 't1', frameworkId: 'f1', sandbox: '/sb', path: '/bin', ids: { uuid: () => `u-${++seq}` } });
    expect(command.onLaunchGroup([info('t1')], 0).filter((e) => e.kind !== 'log')).toEqual([]);
    const core = groupExecutor();
    core.onLaunchGroup([info('t1')], 0);
    expect(core.onLaunchGroup([info('t1'), info('t2')], 0).filter((e) => e.kind !== 'log')).toEqual([]);
  });
});
