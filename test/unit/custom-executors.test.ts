// Custom executors, pure: the master's ACCEPT with TaskInfo.executor (resources counted once,
// a running executor reused, a different description refused, resources back at exit), the
// agent core (one process for every task naming the executor, its container holding the
// executor's and the tasks' resources, kills, SHUTDOWN_FRAMEWORK, the checkpoint), and the
// executor SDK's core (uuids, the lifecycle, resends until acknowledged).
import { describe, expect, it } from 'vitest';
import { ExecutorSdkCore } from '../../actors/executor-sdk/core.js';
import { resolveIdentity } from '../../actors/executor-sdk/env.js';
import { ExecutorEnvironmentError } from '../../actors/executor-sdk/errors.js';
import { Resources } from '../../protocol/resources.js';
import type { ExecutorInfo, TaskInfo } from '../../protocol/schema.js';
import { TaskReason, TaskSource, TaskState } from '../../protocol/task-state.js';
import { AgentHarness, ofKind, statusUpdates, toExecutor, toMaster } from '../harness/agent-harness.js';
import { MasterHarness, allocatorCalls, published, toAgent } from '../harness/master-harness.js';

const S = TaskState;

function executor(resources = 'cpus:0.5;mem:64', value = 'node echo-executor.js'): ExecutorInfo {
  return { executorId: 'e1', command: { value, environment: {} }, resources: Resources.parse(resources).toWire() };
}

function info(taskId: string, ex: ExecutorInfo | undefined = executor(), resources = 'cpus:1;mem:128'): TaskInfo {
  return { taskId, name: taskId, agentId: 'a1', resources: Resources.parse(resources).toWire(), command: { value: 'true', environment: {} }, ...(ex !== undefined && { executor: ex }) };
}

describe('master: tasks with a custom executor', () => {
  function master() {
    const h = new MasterHarness();
    h.registerAgent('a1');
    h.subscribe('f1');
    return h;
  }

  function accept(h: MasterHarness, offerId: string, tasks: TaskInfo[]) {
    return h.call({ type: 'ACCEPT', frameworkId: 'f1', offerIds: [offerId], operations: [{ type: 'LAUNCH', tasks }] }).effects;
  }

  it('takes the executor\'s resources once, with the first task that names it', () => {
    const h = master();
    const { offerId } = h.offer('f1', 'a1');
    const effects = accept(h, offerId, [info('t1'), info('t2')]);
    expect(toAgent(effects, 'a1').map((m) => m.type)).toEqual(['RUN_TASK', 'RUN_TASK']);
    const accepted = allocatorCalls(effects).find((c) => c.op === 'offerAccepted');
    // two tasks (cpus:1;mem:128 each) plus one executor (cpus:0.5;mem:64)
    expect(accepted?.resources.toString()).toBe('cpus:2.5;mem:320');
  });

  it('a task for a running executor uses only its own resources; one that fits only with the executor is refused for a new one', () => {
    const h = master();
    accept(h, h.offer('f1', 'a1').offerId, [info('t1')]);
    // cpus:1;mem:128 is exactly one task: enough for a running executor
    const effects = accept(h, h.offer('f1', 'a1', 'cpus:1;mem:128').offerId, [info('t2')]);
    expect(toAgent(effects, 'a1').map((m) => m.type)).toEqual(['RUN_TASK']);
    const h2 = master();
    const refused = accept(h2, h2.offer('f1', 'a1', 'cpus:1;mem:128').offerId, [info('t1')]);
    expect(toAgent(refused, 'a1')).toEqual([]);
    expect(published(refused, 'f1')[0]).toMatchObject({ taskId: 't1', state: S.ERROR, reason: TaskReason.TASK_INVALID });
    expect(published(refused, 'f1')[0]?.message).toMatch('new executor e1');
  });

  it('refuses a task naming a running executor with another command', () => {
    const h = master();
    accept(h, h.offer('f1', 'a1').offerId, [info('t1')]);
    const effects = accept(h, h.offer('f1', 'a1').offerId, [info('t2', executor('cpus:0.5;mem:64', 'other'))]);
    expect(published(effects, 'f1')[0]).toMatchObject({ taskId: 't2', state: S.ERROR });
    expect(published(effects, 'f1')[0]?.message).toMatch('another command');
  });

  it('gives the executor\'s resources back when it exits, not when its tasks end', () => {
    const h = master();
    accept(h, h.offer('f1', 'a1').offerId, [info('t1')]);
    const ended = h.update('a1', 'f1', 't1', S.FINISHED).effects;
    expect(allocatorCalls(ended).filter((c) => c.op === 'recoverResources').map((c) => c.resources.toString())).toEqual(['cpus:1;mem:128']);
    const exited = h.agent({ type: 'EXITED_EXECUTOR', agentId: 'a1', frameworkId: 'f1', executorId: 'e1', exitCode: 0 }).effects;
    expect(allocatorCalls(exited).filter((c) => c.op === 'recoverResources').map((c) => c.resources.toString())).toEqual(['cpus:0.5;mem:64']);
    // a second exit (or one of an unknown executor) gives nothing back
    const again = h.agent({ type: 'EXITED_EXECUTOR', agentId: 'a1', frameworkId: 'f1', executorId: 'e1', exitCode: 0 }).effects;
    expect(allocatorCalls(again).filter((c) => c.op === 'recoverResources')).toEqual([]);
  });

  it('gives the executor\'s resources back when the agent refused its only task', () => {
    const h = master();
    accept(h, h.offer('f1', 'a1').offerId, [info('t1')]);
    const status = { taskId: 't1', state: S.ERROR, agentId: 'a1', source: TaskSource.AGENT, reason: TaskReason.TASK_INVALID, uuid: 'u-x', timestamp: 1 };
    const effects = h.core.onStatusUpdate('f1', status, ++h.streamSeq, h.now);
    expect(allocatorCalls(effects).filter((c) => c.op === 'recoverResources').map((c) => c.resources.toString())).toEqual(['cpus:1;mem:128', 'cpus:0.5;mem:64']);
  });

  it('counts a running executor once when its agent registers again with its tasks', () => {
    const h = master();
    const register = (tasks: TaskInfo[]) =>
      h.agent({ type: 'REGISTER_AGENT', agent: { id: 'a1', hostname: 'a1.local', resources: Resources.parse('cpus:4;mem:4096').toWire(), attributes: {} }, tasks: tasks.map((task) => ({ frameworkId: 'f1', task, state: S.RUNNING })) });
    const effects = register([info('t1'), info('t2')]).effects;
    const added = allocatorCalls(effects).find((c) => c.op === 'addAgent');
    expect(added?.op === 'addAgent' && added.used?.get('f1')?.toString()).toBe('cpus:2.5;mem:320');
  });

  it('a teardown reaches the agent of an executor whose tasks have all ended (it shuts the executor down)', () => {
    const h = master();
    accept(h, h.offer('f1', 'a1').offerId, [info('t1')]);
    h.update('a1', 'f1', 't1', S.FINISHED);
    const { effects } = h.call({ type: 'TEARDOWN', frameworkId: 'f1' });
    expect(toAgent(effects, 'a1').map((m) => m.type)).toEqual(['SHUTDOWN_FRAMEWORK']);
  });

  it('refuses a task group whose task names an executor', () => {
    const h = master();
    const { offerId } = h.offer('f1', 'a1');
    const { effects } = h.call({ type: 'ACCEPT', frameworkId: 'f1', offerIds: [offerId], operations: [{ type: 'LAUNCH_GROUP', executorId: 'g1', tasks: [info('t1')] }] });
    expect(toAgent(effects, 'a1')).toEqual([]);
    expect(published(effects, 'f1')[0]?.message).toMatch('may not name an executor');
  });
});

describe('agent: custom executors', () => {
  function agent() {
    const h = new AgentHarness();
    h.register();
    return h;
  }

  it('launches the executor with its command once; its container holds the executor\'s and the tasks\' resources', () => {
    const h = agent();
    const first = h.runTask('t1', 'f1', { executor: executor() });
    const launch = ofKind(first, 'launch-executor');
    expect(launch).toHaveLength(1);
    expect(launch[0]).toMatchObject({ executorId: 'e1', executorKind: 'custom', executor: { command: { value: 'node echo-executor.js' } } });
    expect(launch[0]?.resources.map((r) => Resources.fromWire(r).toString())).toEqual(['cpus:0.5;mem:64', 'cpus:1;mem:128']);
    // a second task before SUBSCRIBE: no second process, the container grows, LAUNCH waits
    const second = h.runTask('t2', 'f1', { executor: executor() });
    expect(ofKind(second, 'launch-executor')).toEqual([]);
    expect(ofKind(second, 'update-container')[0]?.resources.map((r) => Resources.fromWire(r).toString())).toEqual(['cpus:0.5;mem:64', 'cpus:1;mem:128', 'cpus:1;mem:128']);
    expect(toExecutor(second, 'e1')).toEqual([]);
    const sub = h.subscribe('e1');
    expect(sub.ok && toExecutor(sub.effects, 'e1').map((m) => (m.type === 'LAUNCH' ? m.task.taskId : m.type))).toEqual(['SUBSCRIBED', 't1', 't2']);
    // a third one once subscribed: LAUNCH at once
    expect(toExecutor(h.runTask('t3', 'f1', { executor: executor() }), 'e1').map((m) => m.type)).toEqual(['LAUNCH']);
    expect(h.executorView('e1')).toMatchObject({ executorKind: 'custom', taskIds: ['t1', 't2', 't3'] });
  });

  it('takes its updates, forgets finished tasks while it runs, and fails the live ones when it exits', () => {
    const h = agent();
    h.runTask('t1', 'f1', { executor: executor() });
    h.runTask('t2', 'f1', { executor: executor() });
    h.subscribe('e1');
    const up = (taskId: string, state: TaskState) => h.executor({ type: 'UPDATE', executorId: 'e1', frameworkId: 'f1', status: { ...h.status(taskId, state), executorId: 'e1' } });
    const running = up('t1', S.RUNNING);
    expect(running.ok && statusUpdates(running.effects)[0]).toMatchObject({ taskId: 't1', state: S.RUNNING, executorId: 'e1' });
    const finished = up('t2', S.FINISHED);
    const uuid = finished.ok ? statusUpdates(finished.effects)[0]?.uuid : undefined;
    h.published('t2', uuid ?? '');
    expect(h.taskView('t2')).toBeUndefined();
    expect(h.executorView('e1')?.phase).toBe('subscribed');
    const exited = h.exited('e1', { exitCode: 1 });
    expect(toMaster(exited).map((m) => m.type)).toEqual(['EXITED_EXECUTOR']);
    expect(statusUpdates(exited)).toEqual([]); // t1's RUNNING is still on its way: FAILED queued behind it
    expect(h.taskView('t1')).toMatchObject({ state: S.FAILED });
  });

  it('refuses a task naming an executor id of another framework, or a different description', () => {
    const h = agent();
    h.runTask('t1', 'f1', { executor: executor() });
    const other = h.runTask('t2', 'f2', { executor: executor() });
    expect(statusUpdates(other)[0]).toMatchObject({ taskId: 't2', state: S.ERROR, reason: TaskReason.TASK_INVALID });
    const changed = h.runTask('t3', 'f1', { executor: executor('cpus:1;mem:64') });
    expect(statusUpdates(changed)[0]?.message).toMatch('another description');
    expect(ofKind([...other, ...changed], 'launch-executor')).toEqual([]);
  });

  it('kills a task before SUBSCRIBE without killing the executor while it has another task', () => {
    const h = agent();
    h.runTask('t1', 'f1', { executor: executor() });
    h.runTask('t2', 'f1', { executor: executor() });
    const killed = h.master({ type: 'KILL_TASK', frameworkId: 'f1', taskId: 't1' });
    expect(statusUpdates(killed)[0]).toMatchObject({ taskId: 't1', state: S.KILLED, reason: TaskReason.TASK_KILLED_DURING_LAUNCH });
    expect(ofKind(killed, 'kill-executor')).toEqual([]);
    const sub = h.subscribe('e1');
    expect(sub.ok && toExecutor(sub.effects, 'e1').map((m) => (m.type === 'LAUNCH' ? m.task.taskId : m.type))).toEqual(['SUBSCRIBED', 't2']);
    const last = h.master({ type: 'KILL_TASK', frameworkId: 'f1', taskId: 't2' });
    expect(toExecutor(last, 'e1')).toEqual([{ type: 'KILL', taskId: 't2', gracePeriodMs: 3000 }]);
  });

  it('kills the executor when its only task is killed before SUBSCRIBE', () => {
    const h = agent();
    h.runTask('t1', 'f1', { executor: executor() });
    const killed = h.master({ type: 'KILL_TASK', frameworkId: 'f1', taskId: 't1' });
    expect(ofKind(killed, 'kill-executor')).toHaveLength(1);
  });

  it('SHUTDOWN_FRAMEWORK kills the tasks and shuts the executor down', () => {
    const h = agent();
    h.runTask('t1', 'f1', { executor: executor() });
    h.subscribe('e1');
    const effects = h.master({ type: 'SHUTDOWN_FRAMEWORK', frameworkId: 'f1' });
    expect(toExecutor(effects, 'e1').map((m) => m.type)).toEqual(['KILL', 'SHUTDOWN']);
  });

  it('keeps the executor\'s description in the checkpoint and takes it back', () => {
    const h = agent();
    h.runTask('t1', 'f1', { executor: executor() });
    h.subscribe('e1');
    const cp = h.core.checkpoint();
    expect(cp.executors[0]).toMatchObject({ executorId: 'e1', executorKind: 'custom', info: { executorId: 'e1' } });
    const restarted = new AgentHarness();
    const effects = restarted.core.recover(cp, restarted.now);
    expect(toExecutor(effects, 'e1')).toEqual([{ type: 'RECONNECT', agentId: 'a1' }]);
    // a task for it while it reconnects is held for it, not given a new process
    restarted.register();
    expect(ofKind(restarted.runTask('t2', 'f1', { executor: executor() }), 'launch-executor')).toEqual([]);
  });
});

describe('executor SDK core', () => {
  function core() {
    let n = 0;
    const c = new ExecutorSdkCore({ agentId: 'a1', executorId: 'e1', uuid: () => `u${++n}`, resendMs: 1000 });
    c.onLaunch(info('t1'));
    return c;
  }

  it('gives each update a uuid and resends it until acknowledged', () => {
    const c = core();
    const r = c.update('t1', S.RUNNING, { message: 'up' }, 10_000);
    expect(r).toMatchObject({ ok: true, status: { taskId: 't1', state: S.RUNNING, agentId: 'a1', executorId: 'e1', source: TaskSource.EXECUTOR, uuid: 'u1', message: 'up', timestamp: 10 } });
    expect(c.due(10_500)).toEqual([]);
    expect(c.due(11_000).map((s) => s.uuid)).toEqual(['u1']);
    expect(c.due(11_500)).toEqual([]);
    expect(c.unacknowledged.map((s) => s.uuid)).toEqual(['u1']);
    expect(c.onAcknowledged('u1')).toBe(true);
    expect(c.due(20_000)).toEqual([]);
    expect(c.onAcknowledged('u1')).toBe(false);
  });

  it('refuses updates of unknown tasks and illegal moves; a repeated LAUNCH is not new', () => {
    const c = core();
    expect(c.update('nope', S.RUNNING, {}, 0)).toEqual({ ok: false, problem: 'this executor was not given that task' });
    expect(c.update('t1', S.FINISHED, {}, 0).ok).toBe(true);
    expect(c.update('t1', S.RUNNING, {}, 0)).toEqual({ ok: false, problem: 'illegal transition TASK_FINISHED → TASK_RUNNING' });
    expect(c.onLaunch(info('t1'))).toBe(false);
    expect(c.liveTasks).toEqual([]);
    expect(c.stateOf('t1')).toBe(S.FINISHED);
  });

  it('reads its identity from the environment and says what is missing', () => {
    const env = { NESOS_NATS_URL: 'nats://x', NESOS_CLUSTER: 'c', NESOS_AGENT_ID: 'a1', NESOS_FRAMEWORK_ID: 'f1', NESOS_EXECUTOR_ID: 'e1', NESOS_SANDBOX: '/s' };
    expect(resolveIdentity({}, env)).toEqual({ servers: 'nats://x', cluster: 'c', agentId: 'a1', frameworkId: 'f1', executorId: 'e1', sandbox: '/s' });
    expect(resolveIdentity({ executorId: 'e2' }, env).executorId).toBe('e2');
    expect(() => resolveIdentity({}, { ...env, NESOS_AGENT_ID: '' })).toThrow(ExecutorEnvironmentError);
    expect(() => resolveIdentity({}, { ...env, NESOS_SANDBOX: 'relative' })).toThrow('NESOS_SANDBOX');
  });
});
