import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeExit } from '../../actors/agent/core.js';
import { TaskReason, TaskSource, TaskState } from '../../protocol/task-state.js';
import {
  AGENT_ID,
  AgentHarness,
  EPOCH,
  HEARTBEAT_MS,
  REGISTRATION_RETRY_MS,
  RETRY_MS,
  framework,
  logs,
  ofKind,
  statusUpdates,
  task,
  toExecutor,
  toMaster,
} from '../harness/agent-harness.js';

const S = TaskState;

describe('agent core: registration', () => {
  it('sends REGISTER_AGENT on the first tick and only once while it waits for the answer', () => {
    const h = new AgentHarness();
    expect(h.core.isRegistered).toBe(false);
    const sent = toMaster(h.tick());
    expect(sent).toEqual([
      { type: 'REGISTER_AGENT', agent: expect.objectContaining({ id: AGENT_ID, hostname: 'a1.local', attributes: { rack: 'r1' } }), tasks: [] },
    ]);
    expect(toMaster(h.tick(10_000))).toEqual([]);
    expect(h.core.isRegistered).toBe(false);
  });

  it('is registered once the master answers AGENT_REGISTERED, and remembers the master and its epoch', () => {
    const h = new AgentHarness();
    const effects = h.register(EPOCH);
    expect(logs(effects, 'info')).toContain('registered with the master');
    expect(h.core.isRegistered).toBe(true);
    expect(h.core.view()).toMatchObject({ agentId: AGENT_ID, registered: true, epoch: EPOCH, masterId: `m-${EPOCH}` });
  });

  it('retries a failed registration with exponential backoff from 100 ms, capped at registrationRetryMs', () => {
    const h = new AgentHarness();
    const delays: number[] = [];
    h.tick();
    for (let i = 0; i < 7; i++) {
      h.noReply('REGISTER_AGENT');
      // find when the next REGISTER_AGENT goes out, in 50 ms steps
      let waited = 0;
      while (!toMaster(h.tick(50)).some((m) => m.type === 'REGISTER_AGENT')) waited += 50;
      delays.push(waited + 50);
    }
    // 100, 200, 400, 800, 1600, then capped at 2000
    expect(delays).toEqual([100, 200, 400, 800, 1600, REGISTRATION_RETRY_MS, REGISTRATION_RETRY_MS]);
  });

  it('does not send the next attempt before the backoff is over', () => {
    const h = new AgentHarness();
    h.tick();
    h.noReply('REGISTER_AGENT');
    expect(toMaster(h.tick(99))).toEqual([]);
    expect(toMaster(h.tick(1)).map((m) => m.type)).toEqual(['REGISTER_AGENT']);
  });

  it('treats REJECTED, another agent id, an older epoch or an unexpected reply as a failed attempt', () => {
    const h = new AgentHarness();
    h.tick();
    h.reply('REGISTER_AGENT', { type: 'REJECTED', code: 'NOT_LEADER', reason: 'standby' });
    expect(h.core.isRegistered).toBe(false);

    h.tick(100);
    h.reply('REGISTER_AGENT', { type: 'AGENT_REGISTERED', epoch: EPOCH, agentId: 'a2', masterId: 'm', heartbeatIntervalMs: 1000 });
    expect(h.core.isRegistered).toBe(false);

    h.tick(200);
    h.reply('REGISTER_AGENT', { type: 'OK' });
    expect(h.core.isRegistered).toBe(false);

    // a message from epoch 9 was seen: an AGENT_REGISTERED of epoch 8 is from a deposed master
    h.master({ type: 'SHUTDOWN_FRAMEWORK', epoch: 9, frameworkId: 'f-none' });
    h.tick(400);
    const stale = h.reply('REGISTER_AGENT', { type: 'AGENT_REGISTERED', epoch: 8, agentId: AGENT_ID, masterId: 'old', heartbeatIntervalMs: 1000 });
    expect(h.core.isRegistered).toBe(false);
    expect(ofKind(stale, 'log')[0]?.data).toMatchObject({ problem: expect.stringContaining('older master epoch') });

    h.tick(800);
    h.reply('REGISTER_AGENT', { type: 'AGENT_REGISTERED', epoch: 9, agentId: AGENT_ID, masterId: 'new', heartbeatIntervalMs: 1000 });
    expect(h.core.view()).toMatchObject({ registered: true, masterId: 'new', epoch: 9 });
  });

  it('ignores a late answer to REGISTER_AGENT once registered', () => {
    const h = new AgentHarness();
    h.register(EPOCH);
    const late = h.reply('REGISTER_AGENT', { type: 'AGENT_REGISTERED', epoch: EPOCH, agentId: AGENT_ID, masterId: 'other', heartbeatIntervalMs: 50 });
    expect(logs(late, 'debug')).toEqual(['late answer to REGISTER_AGENT ignored']);
    expect(h.core.view().masterId).toBe(`m-${EPOCH}`);
  });

  it('reregisters with every task it holds, their frameworks and states, without a FrameworkInfo per task (Mesos: tasks are rebuilt from agents)', () => {
    const h = new AgentHarness();
    h.launched('t1');
    h.update('t1', S.RUNNING);
    h.runTask('t2', 'f2');
    const msg = h.core.registrationMessage();
    expect(msg.agent.id).toBe(AGENT_ID);
    expect(msg.tasks).toEqual([
      { frameworkId: 'f1', task: task('t1'), state: S.RUNNING },
      { frameworkId: 'f2', task: task('t2'), state: S.STAGING },
    ]);
  });
});

describe('agent core: heartbeats', () => {
  it('sends a HEARTBEAT every interval, one at a time', () => {
    const h = new AgentHarness();
    h.register();
    expect(toMaster(h.tick(HEARTBEAT_MS - 1))).toEqual([]);
    expect(toMaster(h.tick(1))).toEqual([{ type: 'HEARTBEAT', agentId: AGENT_ID }]);
    // still in flight: no second heartbeat however long the answer takes
    expect(toMaster(h.tick(5 * HEARTBEAT_MS))).toEqual([]);
    h.reply('HEARTBEAT', { type: 'OK', epoch: EPOCH });
    expect(toMaster(h.tick(HEARTBEAT_MS - 1))).toEqual([]);
    expect(toMaster(h.tick(1))).toEqual([{ type: 'HEARTBEAT', agentId: AGENT_ID }]);
  });

  it('keeps heartbeating after an unanswered heartbeat, staying registered', () => {
    const h = new AgentHarness();
    h.register();
    h.tick(HEARTBEAT_MS);
    expect(logs(h.noReply('HEARTBEAT'), 'warn')).toEqual(['heartbeat got no answer; will retry']);
    expect(h.core.isRegistered).toBe(true);
    expect(toMaster(h.tick(HEARTBEAT_MS)).map((m) => m.type)).toEqual(['HEARTBEAT']);
  });

  it('registers again, with its tasks, when the master answers UNKNOWN_AGENT (e.g. a new leader)', () => {
    const h = new AgentHarness();
    h.launched('t1');
    h.tick(HEARTBEAT_MS);
    const effects = h.reply('HEARTBEAT', { type: 'REJECTED', code: 'UNKNOWN_AGENT', reason: 'register again' });
    const [msg] = toMaster(effects);
    expect(msg?.type).toBe('REGISTER_AGENT');
    if (msg?.type === 'REGISTER_AGENT') expect(msg.tasks.map((t) => t.task.taskId)).toEqual(['t1']);
    expect(h.core.isRegistered).toBe(false);
    // no heartbeats while registering
    expect(toMaster(h.tick(10 * HEARTBEAT_MS))).toEqual([]);
  });

  it('stays registered when a heartbeat is refused for another reason', () => {
    const h = new AgentHarness();
    h.register();
    h.tick(HEARTBEAT_MS);
    const effects = h.reply('HEARTBEAT', { type: 'REJECTED', code: 'INTERNAL', reason: 'oops' });
    expect(toMaster(effects)).toEqual([]);
    expect(logs(effects, 'warn')).toEqual(['master refused a heartbeat']);
    expect(h.core.isRegistered).toBe(true);
  });

  it('registers again when any other request is answered UNKNOWN_AGENT', () => {
    const h = new AgentHarness();
    h.register();
    const effects = h.reply('EXECUTOR_TO_FRAMEWORK', { type: 'REJECTED', code: 'UNKNOWN_AGENT', reason: 'who?' });
    expect(toMaster(effects).map((m) => m.type)).toEqual(['REGISTER_AGENT']);
    expect(h.core.isRegistered).toBe(false);
    // while registering, a second UNKNOWN_AGENT does not start another registration
    expect(toMaster(h.reply('EXITED_EXECUTOR', { type: 'REJECTED', code: 'UNKNOWN_AGENT', reason: 'who?' }))).toEqual([]);
  });

  it('logs other refusals and failures of its requests without acting on them', () => {
    const h = new AgentHarness();
    h.register();
    expect(logs(h.reply('EXECUTOR_TO_FRAMEWORK', { type: 'REJECTED', code: 'INVALID', reason: 'bad' }), 'warn')).toEqual(['master refused EXECUTOR_TO_FRAMEWORK']);
    expect(logs(h.noReply('EXITED_EXECUTOR'), 'debug')).toEqual(['no answer to EXITED_EXECUTOR']);
    expect(h.reply('EXITED_EXECUTOR', { type: 'OK', epoch: EPOCH })).toEqual([]);
    expect(h.core.isRegistered).toBe(true);
  });
});

describe('agent core: RUN_TASK', () => {
  it('launches one command executor per task, named after the task, in a fresh run', () => {
    const h = new AgentHarness();
    h.register();
    const effects = h.runTask('t1');
    const resources = [task('t1').resources];
    expect(effects).toEqual([{ kind: 'launch-executor', executorId: 't1', frameworkId: 'f1', runId: 'run-1', taskId: 't1', executorKind: 'command', resources }]);
    expect(h.taskView('t1')).toEqual({ taskId: 't1', frameworkId: 'f1', executorId: 't1', state: S.STAGING, killRequested: false, pendingUpdates: 0 });
    expect(h.executorView('t1')).toEqual({ executorId: 't1', frameworkId: 'f1', runId: 'run-1', phase: 'launching', taskIds: ['t1'], executorKind: 'command', limitation: undefined });
    expect(h.runTask('t2')).toEqual([{ kind: 'launch-executor', executorId: 't2', frameworkId: 'f1', runId: 'run-2', taskId: 't2', executorKind: 'command', resources }]);
  });

  it('ignores RUN_TASK for a task it already has (a resent RUN_TASK launches nothing twice)', () => {
    const h = new AgentHarness();
    h.register();
    h.runTask('t1');
    const again = h.runTask('t1');
    expect(ofKind(again, 'launch-executor')).toEqual([]);
    expect(logs(again, 'warn')).toEqual(['RUN_TASK for a task already known; ignored']);
    expect(h.core.view().executors).toHaveLength(1);
  });

  it('answers a task meant for another agent with TASK_ERROR and launches nothing', () => {
    const h = new AgentHarness();
    h.register();
    const effects = h.runTask('t1', 'f1', { agentId: 'a9' });
    expect(ofKind(effects, 'launch-executor')).toEqual([]);
    expect(statusUpdates(effects)).toEqual([
      expect.objectContaining({ taskId: 't1', state: S.ERROR, reason: TaskReason.TASK_INVALID, source: TaskSource.AGENT, agentId: AGENT_ID, uuid: 'au-1' }),
    ]);
    expect(statusUpdates(effects)[0]?.executorId).toBeUndefined();
    // once in the stream, the agent forgets it (there is no executor to wait for)
    h.published('t1', 'au-1');
    expect(h.core.view().tasks).toEqual([]);
  });

  it('ignores RUN_TASK whose framework info names another framework', () => {
    const h = new AgentHarness();
    h.register();
    const effects = h.master({ type: 'RUN_TASK', frameworkId: 'f1', framework: framework('f2'), task: task('t1') });
    expect(effects).toEqual([expect.objectContaining({ kind: 'log', level: 'warn' })]);
    expect(h.core.view().tasks).toEqual([]);
  });

  it('launches while unregistered, and publishes the task’s updates all the same (the stream is not the master)', () => {
    const h = new AgentHarness();
    expect(ofKind(h.runTask('t1'), 'launch-executor')).toHaveLength(1);
    expect(h.subscribe('t1').ok).toBe(true);
    const up = h.update('t1', S.RUNNING, 'x1');
    expect(statusUpdates(up.effects).map((s) => [s.uuid, s.state])).toEqual([['x1', S.RUNNING]]);
    expect(toMaster(up.effects)).toEqual([]);
    expect(toExecutor(h.published('t1', 'x1'), 't1')).toEqual([{ type: 'ACKNOWLEDGED', taskId: 't1', uuid: 'x1' }]);
    // registration sends nothing of it again
    h.tick(10 * RETRY_MS);
    const reg = h.reply('REGISTER_AGENT', { type: 'AGENT_REGISTERED', epoch: EPOCH, agentId: AGENT_ID, masterId: 'm', heartbeatIntervalMs: 1000 });
    expect(statusUpdates(reg)).toEqual([]);
  });
});

describe('agent core: executor calls', () => {
  it('answers SUBSCRIBE with SUBSCRIBED then LAUNCH of its task', () => {
    const h = new AgentHarness();
    h.register();
    h.runTask('t1');
    const r = h.subscribe('t1');
    expect(r.ok).toBe(true);
    expect(toExecutor(r.effects, 't1')).toEqual([
      { type: 'SUBSCRIBED', agentId: AGENT_ID, executorId: 't1', frameworkId: 'f1' },
      { type: 'LAUNCH', task: task('t1') },
    ]);
    expect(h.executorView('t1')?.phase).toBe('subscribed');
  });

  it('does not launch the task again when the executor resubscribes', () => {
    const h = new AgentHarness();
    h.launched('t1');
    const r = h.subscribe('t1');
    expect(r.ok).toBe(true);
    expect(toExecutor(r.effects, 't1').map((e) => e.type)).toEqual(['SUBSCRIBED']);
  });

  it('takes the unacknowledged updates an executor resends when it resubscribes, acknowledging each once in the stream', () => {
    const h = new AgentHarness();
    h.launched('t1');
    const r = h.subscribe('t1', 'f1', [h.status('t1', S.STARTING, 'x1'), h.status('t1', S.RUNNING, 'x2')]);
    expect(r.ok).toBe(true);
    expect(toExecutor(r.effects, 't1')).toEqual([{ type: 'SUBSCRIBED', agentId: AGENT_ID, executorId: 't1', frameworkId: 'f1' }]);
    expect(statusUpdates(r.effects).map((s) => s.uuid)).toEqual(['x1']);
    expect(h.taskView('t1')).toMatchObject({ state: S.RUNNING, pendingUpdates: 2 });
    const first = h.published('t1', 'x1');
    expect(toExecutor(first, 't1')).toEqual([{ type: 'ACKNOWLEDGED', taskId: 't1', uuid: 'x1' }]);
    expect(statusUpdates(first).map((s) => s.uuid)).toEqual(['x2']);
    expect(toExecutor(h.published('t1', 'x2'), 't1')).toEqual([{ type: 'ACKNOWLEDGED', taskId: 't1', uuid: 'x2' }]);
  });

  it('drops, with a warning, a resent update it cannot take, and still subscribes the executor', () => {
    const h = new AgentHarness();
    h.launched('t1');
    const r = h.subscribe('t1', 'f1', [h.status('t1', S.STAGING, 'x1')]);
    expect(r.ok).toBe(true);
    expect(logs(r.effects, 'warn')).toContain('dropped an unacknowledged update sent at resubscription');
    expect(toExecutor(r.effects, 't1').map((e) => e.type)).toEqual(['SUBSCRIBED']);
  });

  it('refuses calls whose body names another executor than the subject', () => {
    const h = new AgentHarness();
    h.register();
    h.runTask('t1');
    h.runTask('t2');
    const r = h.executor({ type: 'SUBSCRIBE', executorId: 't1', frameworkId: 'f1', unacknowledged: [] }, 't2');
    expect(r).toMatchObject({ ok: false, code: 'WRONG_PRINCIPAL', effects: [] });
    expect(h.executorView('t1')?.phase).toBe('launching');
  });

  it('refuses unknown executors, executors of another framework and calls before SUBSCRIBE', () => {
    const h = new AgentHarness();
    h.register();
    h.runTask('t1');
    expect(h.subscribe('ghost')).toMatchObject({ ok: false, code: 'UNKNOWN_EXECUTOR' });
    expect(h.subscribe('t1', 'f2')).toMatchObject({ ok: false, code: 'INVALID' });
    expect(h.update('t1', S.RUNNING)).toMatchObject({ ok: false, code: 'NOT_SUBSCRIBED' });
    expect(h.executor({ type: 'MESSAGE', executorId: 't1', frameworkId: 'f1', data: new Uint8Array([1]) })).toMatchObject({ ok: false, code: 'NOT_SUBSCRIBED' });
    expect(h.taskView('t1')?.state).toBe(S.STAGING);
  });

  it('publishes an UPDATE to the stream stamped with the agent and executor, and acknowledges it to the executor once the stream holds it', () => {
    const h = new AgentHarness();
    h.launched('t1');
    const r = h.update('t1', S.RUNNING, 'x1', 'f1', { agentId: 'liar', executorId: 'liar', source: TaskSource.MASTER, healthy: true });
    expect(r.ok).toBe(true);
    expect(ofKind(r.effects, 'publish-update')).toEqual([
      {
        kind: 'publish-update',
        frameworkId: 'f1',
        status: expect.objectContaining({ taskId: 't1', state: S.RUNNING, uuid: 'x1', agentId: AGENT_ID, executorId: 't1', source: TaskSource.EXECUTOR, healthy: true }),
        // the task's first update (this executor sent no STARTING): it waits for a checkpoint holding the executor
        afterCheckpoint: 'launch',
      },
    ]);
    expect(toMaster(r.effects)).toEqual([]);
    // not acknowledged to the executor before the PubAck: if the agent died now, the executor would still hold it
    expect(toExecutor(r.effects, 't1')).toEqual([]);
    expect(h.taskView('t1')).toMatchObject({ state: S.RUNNING, pendingUpdates: 1 });
    expect(toExecutor(h.published('t1', 'x1'), 't1')).toEqual([{ type: 'ACKNOWLEDGED', taskId: 't1', uuid: 'x1' }]);
    expect(h.taskView('t1')?.pendingUpdates).toBe(0);
    // a later live update of the task does not wait for the disk
    const later = ofKind(h.update('t1', S.RUNNING, 'x2', 'f1', { healthy: false }).effects, 'publish-update');
    expect(later).toHaveLength(1);
    expect(later[0]).not.toHaveProperty('afterCheckpoint');
    h.published('t1', 'x2');
    // a terminal one does: published before the checkpoint holds it, an agent killed then would
    // find the task RUNNING, its executor gone, and report TASK_FAILED after TASK_FINISHED
    const terminal = ofKind(h.update('t1', S.FINISHED, 'x3').effects, 'publish-update');
    expect(terminal).toEqual([expect.objectContaining({ status: expect.objectContaining({ state: S.FINISHED, uuid: 'x3' }), afterCheckpoint: 'update' })]);
  });

  it("a task's first update that is terminal waits for a write after it ('update'), which covers the launch too", () => {
    const h = new AgentHarness();
    h.launched('t1');
    // the executor's first word is TASK_FAILED: a write covering only the launch would hold the task STAGING
    const first = ofKind(h.update('t1', S.FAILED, 'x1').effects, 'publish-update');
    expect(first).toEqual([expect.objectContaining({ status: expect.objectContaining({ state: S.FAILED }), afterCheckpoint: 'update' })]);
  });

  it('a terminal update queued behind another waits for the checkpoint when its turn comes', () => {
    const h = new AgentHarness();
    h.launched('t1');
    h.update('t1', S.RUNNING, 'x1');
    // FINISHED arrives while RUNNING is still on its way into the stream: it queues
    expect(ofKind(h.update('t1', S.FINISHED, 'x2').effects, 'publish-update')).toEqual([]);
    const next = ofKind(h.published('t1', 'x1'), 'publish-update');
    expect(next).toEqual([expect.objectContaining({ status: expect.objectContaining({ state: S.FINISHED, uuid: 'x2' }), afterCheckpoint: 'update' })]);
  });

  it('refuses an UPDATE without uuid, or for a task the executor does not run', () => {
    const h = new AgentHarness();
    h.launched('t1');
    h.launched('t2');
    const noUuid = h.executor({ type: 'UPDATE', executorId: 't1', frameworkId: 'f1', status: { taskId: 't1', state: S.RUNNING, source: TaskSource.EXECUTOR, timestamp: 1 } });
    expect(noUuid).toMatchObject({ ok: false, code: 'INVALID' });
    const other = h.executor({ type: 'UPDATE', executorId: 't1', frameworkId: 'f1', status: h.status('t2', S.RUNNING) });
    expect(other).toMatchObject({ ok: false, code: 'UNKNOWN_TASK' });
    expect(h.taskView('t1')?.state).toBe(S.STAGING);
    expect(h.taskView('t2')?.state).toBe(S.STAGING);
  });

  it('takes a resent UPDATE once: not acknowledged while it is being published, acknowledged again once in the stream', () => {
    const h = new AgentHarness();
    h.launched('t1');
    h.update('t1', S.RUNNING, 'x1');
    const early = h.update('t1', S.RUNNING, 'x1');
    expect(early.ok).toBe(true);
    expect(statusUpdates(early.effects)).toEqual([]);
    expect(toExecutor(early.effects, 't1')).toEqual([]);
    expect(h.taskView('t1')?.pendingUpdates).toBe(1);
    h.published('t1', 'x1');
    const late = h.update('t1', S.RUNNING, 'x1');
    expect(statusUpdates(late.effects)).toEqual([]);
    expect(toExecutor(late.effects, 't1')).toEqual([{ type: 'ACKNOWLEDGED', taskId: 't1', uuid: 'x1' }]);
  });

  it('refuses an UPDATE that the task lifecycle forbids, without acknowledging it', () => {
    const h = new AgentHarness();
    h.launched('t1');
    h.update('t1', S.FINISHED, 'x1');
    const r = h.update('t1', S.RUNNING, 'x2');
    expect(r).toMatchObject({ ok: false, code: 'INVALID', reason: `illegal transition ${S.FINISHED} → ${S.RUNNING}` });
    expect(toExecutor(r.effects, 't1')).toEqual([]);
    expect(toMaster(r.effects)).toEqual([]);
    expect(h.taskView('t1')?.state).toBe(S.FINISHED);
  });

  it('forwards executor MESSAGE to the framework, and framework messages to a subscribed executor', () => {
    const h = new AgentHarness();
    h.launched('t1');
    const data = new Uint8Array([1, 2, 3]);
    const r = h.executor({ type: 'MESSAGE', executorId: 't1', frameworkId: 'f1', data });
    expect(toMaster(r.effects)).toEqual([{ type: 'EXECUTOR_TO_FRAMEWORK', agentId: AGENT_ID, frameworkId: 'f1', executorId: 't1', data }]);
    const down = h.master({ type: 'FRAMEWORK_TO_EXECUTOR', frameworkId: 'f1', executorId: 't1', data });
    expect(toExecutor(down, 't1')).toEqual([{ type: 'MESSAGE', data }]);
  });

  it('drops framework messages for an executor that is unknown, not subscribed, or of another framework', () => {
    const h = new AgentHarness();
    h.launched('t1');
    h.runTask('t2');
    const data = new Uint8Array([9]);
    for (const [frameworkId, executorId] of [['f1', 'ghost'], ['f1', 't2'], ['f2', 't1']] as const) {
      const effects = h.master({ type: 'FRAMEWORK_TO_EXECUTOR', frameworkId, executorId, data });
      expect(ofKind(effects, 'send-executor')).toEqual([]);
      expect(logs(effects, 'info')).toHaveLength(1);
    }
  });
});

describe('agent core: status updates into the stream', () => {
  it('publishes a task’s updates one at a time, in order: the next once the stream acknowledged the previous', () => {
    const h = new AgentHarness();
    h.launched('t1');
    const first = h.update('t1', S.STARTING, 'x1');
    const second = h.update('t1', S.RUNNING, 'x2');
    const third = h.update('t1', S.FINISHED, 'x3');
    expect(statusUpdates(first.effects).map((s) => s.uuid)).toEqual(['x1']);
    expect(statusUpdates(second.effects)).toEqual([]);
    expect(statusUpdates(third.effects)).toEqual([]);
    // the executor hears of none of them yet
    for (const r of [first, second, third]) expect(toExecutor(r.effects, 't1')).toEqual([]);
    expect(h.taskView('t1')).toMatchObject({ state: S.FINISHED, pendingUpdates: 3 });

    for (const [uuid, next] of [['x1', 'x2'], ['x2', 'x3']] as const) {
      const effects = h.published('t1', uuid);
      expect(toExecutor(effects, 't1')).toEqual([{ type: 'ACKNOWLEDGED', taskId: 't1', uuid }]);
      expect(statusUpdates(effects).map((s) => s.uuid)).toEqual([next]);
    }
    expect(statusUpdates(h.published('t1', 'x3'))).toEqual([]);
    expect(h.taskView('t1')?.pendingUpdates).toBe(0);
  });

  it('tries a failed publish again, backing off from 100 ms up to updatePublishRetryMs, with the same update', () => {
    const h = new AgentHarness({ updatePublishRetryMs: RETRY_MS });
    h.launched('t1');
    h.update('t1', S.RUNNING, 'x1');
    h.update('t1', S.FINISHED, 'x2');
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      expect(logs(h.publishFailed('t1', 'x1'), 'warn')).toEqual(['could not publish a status update; will retry']);
      let waited = 0;
      let again: ReturnType<typeof statusUpdates> = [];
      while (again.length === 0) {
        again = statusUpdates(h.tick(50));
        waited += 50;
      }
      expect(again.map((s) => s.uuid)).toEqual(['x1']); // the head, never the one behind it
      delays.push(waited);
    }
    // 100, 200, 400, then capped at 500
    expect(delays).toEqual([100, 200, 400, RETRY_MS, RETRY_MS]);
    // while a publish is under way nothing is sent again, however long it takes
    expect(statusUpdates(h.tick(10 * RETRY_MS))).toEqual([]);
    // success resets the backoff for the next update
    expect(statusUpdates(h.published('t1', 'x1')).map((s) => s.uuid)).toEqual(['x2']);
    h.publishFailed('t1', 'x2');
    expect(statusUpdates(h.tick(100)).map((s) => s.uuid)).toEqual(['x2']);
  });

  it('keeps each task’s updates independent', () => {
    const h = new AgentHarness();
    h.launched('t1');
    h.launched('t2');
    expect(statusUpdates(h.update('t1', S.RUNNING, 'a1').effects).map((s) => s.uuid)).toEqual(['a1']);
    expect(statusUpdates(h.update('t2', S.RUNNING, 'b1').effects).map((s) => s.uuid)).toEqual(['b1']);
    expect(statusUpdates(h.update('t2', S.FINISHED, 'b2').effects)).toEqual([]);
    h.publishFailed('t1', 'a1');
    expect(statusUpdates(h.published('t2', 'b1')).map((s) => s.uuid)).toEqual(['b2']);
    expect(statusUpdates(h.tick(100)).map((s) => s.uuid)).toEqual(['a1']);
  });

  it('ignores a PubAck or a failure of an update that is not being published', () => {
    const h = new AgentHarness();
    h.launched('t1');
    h.update('t1', S.RUNNING, 'x1');
    h.update('t1', S.FINISHED, 'x2');
    expect(logs(h.published('t1', 'x2'), 'debug')).toEqual(['PubAck of an update that is not being published ignored']);
    expect(logs(h.publishFailed('t1', 'x2'), 'debug')).toEqual(['failure of an update that is not being published ignored']);
    expect(logs(h.published('ghost', 'x1'), 'debug')).toHaveLength(1);
    h.published('t1', 'x1');
    expect(logs(h.published('t1', 'x1'), 'debug')).toEqual(['PubAck of an update that is not being published ignored']);
    expect(h.taskView('t1')?.pendingUpdates).toBe(1);
  });

  it('sends no status update to the master, registered or not, and nothing again when it registers', () => {
    const h = new AgentHarness();
    h.launched('t1');
    h.update('t1', S.RUNNING, 'a1');
    h.tick(HEARTBEAT_MS);
    h.reply('HEARTBEAT', { type: 'REJECTED', code: 'UNKNOWN_AGENT', reason: 'new leader' });
    expect(statusUpdates(h.published('t1', 'a1'))).toEqual([]);
    expect(statusUpdates(h.update('t1', S.FINISHED, 'a2').effects).map((s) => s.uuid)).toEqual(['a2']);
    const reg = h.reply('REGISTER_AGENT', { type: 'AGENT_REGISTERED', epoch: EPOCH + 1, agentId: AGENT_ID, masterId: 'm2', heartbeatIntervalMs: 1000 });
    expect(statusUpdates(reg)).toEqual([]);
    expect(toMaster(reg)).toEqual([]);
  });

  it('forgets a task once it is terminal, its updates in the stream and its executor gone (in either order)', () => {
    const h = new AgentHarness();
    h.launched('t1');
    h.update('t1', S.FINISHED, 'x1');
    h.published('t1', 'x1');
    // in the stream but the executor still runs: kept
    expect(h.taskView('t1')?.state).toBe(S.FINISHED);
    const exit = h.exited('t1');
    expect(statusUpdates(exit)).toEqual([]);
    expect(h.core.view()).toMatchObject({ tasks: [], executors: [] });

    h.launched('t2');
    h.update('t2', S.FINISHED, 'y1');
    h.exited('t2');
    // the executor is gone but the update is not in the stream yet: kept
    expect(h.taskView('t2')?.pendingUpdates).toBe(1);
    h.published('t2', 'y1');
    expect(h.core.view()).toMatchObject({ tasks: [], executors: [] });
  });

  it('still reports the tasks it ran lately, with their end state, when it registers (at most maxCompletedTasks)', () => {
    const h = new AgentHarness({ maxCompletedTasks: 2 });
    for (const [id, state] of [['t1', S.FINISHED], ['t2', S.FAILED], ['t3', S.FINISHED]] as const) {
      h.launched(id);
      h.update(id, state, `${id}-u`);
      h.published(id, `${id}-u`);
      h.exited(id);
    }
    h.launched('t4');
    const reported = h.core.registrationMessage().tasks.map((t) => [t.task.taskId, t.state]);
    expect(reported).toEqual([['t4', S.STAGING], ['t2', S.FAILED], ['t3', S.FINISHED]]);
    expect(h.core.view().tasks.map((t) => t.taskId)).toEqual(['t4']);
  });

  it('publishes every executor update exactly in the order accepted, and acknowledges each only once in the stream, whatever the interleaving (property)', () => {
    // An executor walks its task STAGING → STARTING → RUNNING* → FINISHED and resends at
    // random; the stream acknowledges or fails the publish under way at random moments;
    // time passes at random.
    type Op = { op: 'update' } | { op: 'resend' } | { op: 'pubAck' } | { op: 'fail' } | { op: 'tick'; ms: number };
    const op = fc.oneof(
      fc.constant<Op>({ op: 'update' }),
      fc.constant<Op>({ op: 'resend' }),
      fc.constant<Op>({ op: 'pubAck' }),
      fc.constant<Op>({ op: 'fail' }),
      fc.integer({ min: 0, max: 2 * RETRY_MS }).map((ms): Op => ({ op: 'tick', ms })),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const h = new AgentHarness();
        h.launched('t1');
        const path = [S.STARTING, S.RUNNING, S.RUNNING, S.RUNNING, S.FINISHED];
        const accepted: string[] = [];
        const inStream: string[] = [];
        const firstPublished: string[] = [];
        let inFlight: string | undefined;
        const observe = (effects: ReturnType<AgentHarness['tick']>): void => {
          for (const ack of toExecutor(effects, 't1')) {
            // the executor hears of an update only once the stream holds it
            if (ack.type === 'ACKNOWLEDGED') expect(inStream).toContain(ack.uuid);
          }
          for (const s of statusUpdates(effects)) {
            expect(inFlight).toBeUndefined(); // one publish at a time
            if (!firstPublished.includes(s.uuid as string)) {
              // a new update goes out only when every earlier one is in the stream
              expect(inStream).toEqual(accepted.slice(0, accepted.indexOf(s.uuid as string)));
              firstPublished.push(s.uuid as string);
            }
            inFlight = s.uuid;
          }
        };
        for (const o of ops) {
          if (o.op === 'update' && accepted.length < path.length) {
            const uuid = `x${accepted.length}`;
            const r = h.update('t1', path[accepted.length] as TaskState, uuid);
            expect(r.ok).toBe(true);
            accepted.push(uuid);
            observe(r.effects);
          } else if (o.op === 'resend' && accepted.length > 0) {
            observe(h.update('t1', path[accepted.length - 1] as TaskState, accepted[accepted.length - 1]).effects);
          } else if (o.op === 'pubAck' && inFlight !== undefined) {
            const uuid = inFlight;
            inFlight = undefined;
            inStream.push(uuid);
            observe(h.published('t1', uuid));
          } else if (o.op === 'fail' && inFlight !== undefined) {
            const uuid = inFlight;
            inFlight = undefined;
            observe(h.publishFailed('t1', uuid));
          } else if (o.op === 'tick') {
            observe(h.tick(o.ms));
          }
        }
        // drain: the stream acknowledges whatever is published until nothing is pending
        for (let i = 0; i < 10 * path.length && h.taskView('t1')?.pendingUpdates; i++) {
          if (inFlight !== undefined) {
            const uuid = inFlight;
            inFlight = undefined;
            inStream.push(uuid);
            observe(h.published('t1', uuid));
          } else observe(h.tick(RETRY_MS));
        }
        expect(firstPublished).toEqual(accepted);
        expect(inStream).toEqual(accepted);
      }),
      { numRuns: 300 },
    );
  });
});

describe('agent core: KILL_TASK', () => {
  it('asks a subscribed executor to kill the task with the grace period of the message', () => {
    const h = new AgentHarness();
    h.launched('t1', 'f1', { killPolicy: { gracePeriodMs: 9000 } });
    const effects = h.master({ type: 'KILL_TASK', frameworkId: 'f1', taskId: 't1', gracePeriodMs: 1234 });
    expect(toExecutor(effects, 't1')).toEqual([{ type: 'KILL', taskId: 't1', gracePeriodMs: 1234 }]);
    expect(h.taskView('t1')?.killRequested).toBe(true);
    // the task's state changes only when the executor reports it
    expect(h.taskView('t1')?.state).toBe(S.STAGING);
  });

  it('falls back to the task’s kill policy, then to the agent default', () => {
    const h = new AgentHarness({ defaultKillGracePeriodMs: 4321 });
    h.launched('t1', 'f1', { killPolicy: { gracePeriodMs: 9000 } });
    h.launched('t2');
    expect(toExecutor(h.master({ type: 'KILL_TASK', frameworkId: 'f1', taskId: 't1' }), 't1')).toEqual([{ type: 'KILL', taskId: 't1', gracePeriodMs: 9000 }]);
    expect(toExecutor(h.master({ type: 'KILL_TASK', frameworkId: 'f1', taskId: 't2' }), 't2')).toEqual([{ type: 'KILL', taskId: 't2', gracePeriodMs: 4321 }]);
    const plain = new AgentHarness();
    plain.launched('t3');
    expect(toExecutor(plain.master({ type: 'KILL_TASK', frameworkId: 'f1', taskId: 't3' }), 't3')).toEqual([{ type: 'KILL', taskId: 't3', gracePeriodMs: 3000 }]);
  });

  it('kills a task whose executor has not subscribed yet: SIGKILL the executor and report TASK_KILLED (Mesos: REASON_TASK_KILLED_DURING_LAUNCH)', () => {
    const h = new AgentHarness();
    h.register();
    h.runTask('t1');
    const effects = h.master({ type: 'KILL_TASK', frameworkId: 'f1', taskId: 't1' });
    expect(ofKind(effects, 'kill-executor')).toEqual([{ kind: 'kill-executor', executorId: 't1', reason: 'task killed before its executor subscribed' }]);
    expect(statusUpdates(effects)).toEqual([
      expect.objectContaining({ taskId: 't1', state: S.KILLED, reason: TaskReason.TASK_KILLED_DURING_LAUNCH, source: TaskSource.AGENT, executorId: 't1' }),
    ]);
    expect(h.executorView('t1')?.phase).toBe('killed-during-launch');
    // the executor may still try to subscribe: refused, no LAUNCH
    expect(h.subscribe('t1')).toMatchObject({ ok: false, code: 'UNKNOWN_EXECUTOR' });
    // its exit adds no second terminal update
    const exit = h.exited('t1', { signal: 'SIGKILL' });
    expect(statusUpdates(exit)).toEqual([]);
    expect(toMaster(exit).map((m) => m.type)).toEqual(['EXITED_EXECUTOR']);
  });

  it('answers a kill of a task it does not have (or of another framework’s task) TASKS_UNKNOWN, and ignores a kill of an ended task', () => {
    const h = new AgentHarness();
    h.launched('t1');
    const none = h.master({ type: 'KILL_TASK', frameworkId: 'f1', taskId: 'ghost' });
    const wrong = h.master({ type: 'KILL_TASK', frameworkId: 'f2', taskId: 't1' });
    for (const [effects, ref] of [[none, { frameworkId: 'f1', taskId: 'ghost' }], [wrong, { frameworkId: 'f2', taskId: 't1' }]] as const) {
      expect(ofKind(effects, 'send-executor')).toEqual([]);
      expect(logs(effects, 'info')).toEqual(['asked to kill a task this agent does not have: telling the master']);
      expect(toMaster(effects)).toEqual([{ type: 'TASKS_UNKNOWN', agentId: AGENT_ID, tasks: [ref] }]);
    }
    expect(h.taskView('t1')?.killRequested).toBe(false);
    h.update('t1', S.FINISHED, 'x1');
    const ended = h.master({ type: 'KILL_TASK', frameworkId: 'f1', taskId: 't1' });
    expect(ofKind(ended, 'send-executor')).toEqual([]);
    expect(logs(ended, 'info')).toEqual(['asked to kill a task that has already ended']);
  });

  it('does not act on a kill while the executor is already going away', () => {
    const h = new AgentHarness({ executorRegistrationTimeoutMs: 1000 });
    h.register();
    h.runTask('t1');
    h.tick(1000);
    expect(h.executorView('t1')?.phase).toBe('registration-timed-out');
    const effects = h.master({ type: 'KILL_TASK', frameworkId: 'f1', taskId: 't1' });
    expect(ofKind(effects, 'kill-executor')).toEqual([]);
    expect(statusUpdates(effects)).toEqual([]);
    expect(logs(effects, 'info')).toEqual(['asked to kill a task whose executor is already going away']);
  });

  it('reports TASK_KILLED when a task being killed loses its executor without a terminal update', () => {
    const h = new AgentHarness();
    h.launched('t1');
    h.update('t1', S.RUNNING, 'x1');
    h.published('t1', 'x1');
    h.master({ type: 'KILL_TASK', frameworkId: 'f1', taskId: 't1' });
    h.update('t1', S.KILLING, 'x2');
    h.published('t1', 'x2');
    const exit = h.exited('t1', { signal: 'SIGKILL' });
    expect(statusUpdates(exit)).toEqual([expect.objectContaining({ state: S.KILLED, reason: TaskReason.EXECUTOR_TERMINATED, source: TaskSource.AGENT })]);
  });
});

describe('agent core: SHUTDOWN_FRAMEWORK', () => {
  it('kills every live task of that framework, and only those', () => {
    const h = new AgentHarness();
    h.launched('t1', 'f1');
    h.launched('t2', 'f1');
    h.update('t2', S.FINISHED, 'y1');
    h.runTask('t3', 'f1'); // not subscribed yet
    h.launched('t4', 'f2');
    const effects = h.master({ type: 'SHUTDOWN_FRAMEWORK', frameworkId: 'f1' });
    expect(toExecutor(effects, 't1')).toEqual([{ type: 'KILL', taskId: 't1', gracePeriodMs: 3000 }]);
    expect(toExecutor(effects, 't2')).toEqual([]);
    expect(ofKind(effects, 'kill-executor').map((k) => k.executorId)).toEqual(['t3']);
    expect(statusUpdates(effects)).toEqual([expect.objectContaining({ taskId: 't3', state: S.KILLED })]);
    expect(toExecutor(effects, 't4')).toEqual([]);
    expect(h.taskView('t4')?.killRequested).toBe(false);
  });
});

describe('agent core: executor exits', () => {
  it('reports EXITED_EXECUTOR and fails the task it left running (Mesos: TASK_FAILED, REASON_EXECUTOR_TERMINATED)', () => {
    const h = new AgentHarness();
    h.launched('t1');
    h.update('t1', S.RUNNING, 'x1');
    h.published('t1', 'x1');
    const effects = h.exited('t1', { exitCode: 3 });
    expect(toMaster(effects)).toEqual([{ type: 'EXITED_EXECUTOR', agentId: AGENT_ID, frameworkId: 'f1', executorId: 't1', exitCode: 3 }]);
    expect(ofKind(effects, 'publish-update')).toEqual([
      {
        kind: 'publish-update',
        frameworkId: 'f1',
        status: expect.objectContaining({
          taskId: 't1',
          state: S.FAILED,
          reason: TaskReason.EXECUTOR_TERMINATED,
          source: TaskSource.AGENT,
          message: 'Executor exited with status 3 before the task ended',
          executorId: 't1',
          agentId: AGENT_ID,
          uuid: 'au-1',
          timestamp: h.now / 1000,
        }),
        // terminal: published once a checkpoint holds it
        afterCheckpoint: 'update',
      },
    ]);
    expect(h.executorView('t1')?.phase).toBe('exited');
    expect(h.taskView('t1')?.state).toBe(S.FAILED);
  });

  it('reports how the executor ended: a signal, or that it could not start', () => {
    const h = new AgentHarness();
    h.launched('t1');
    const bySignal = h.exited('t1', { signal: 'SIGKILL' });
    expect(toMaster(bySignal)[0]).toEqual({ type: 'EXITED_EXECUTOR', agentId: AGENT_ID, frameworkId: 'f1', executorId: 't1', signal: 'SIGKILL' });
    expect(statusUpdates(bySignal)[0]?.message).toBe('Executor was terminated by signal SIGKILL before the task ended');

    h.runTask('t2');
    const notStarted = h.exited('t2', { error: 'ENOENT' });
    expect(toMaster(notStarted)[0]).toEqual({ type: 'EXITED_EXECUTOR', agentId: AGENT_ID, frameworkId: 'f1', executorId: 't2' });
    expect(statusUpdates(notStarted)).toEqual([expect.objectContaining({ taskId: 't2', state: S.FAILED, message: 'Executor could not start: ENOENT before the task ended' })]);
  });

  it('adds no update when the task had already ended, and ignores a second exit', () => {
    const h = new AgentHarness();
    h.launched('t1');
    h.update('t1', S.FAILED, 'x1', 'f1', { exitCode: 1 });
    const effects = h.exited('t1', { exitCode: 0 });
    expect(toMaster(effects).map((m) => m.type)).toEqual(['EXITED_EXECUTOR']);
    expect(h.exited('t1')).toEqual([expect.objectContaining({ kind: 'log', level: 'debug', msg: 'exit of an executor already gone' })]);
    expect(h.exited('ghost')).toEqual([expect.objectContaining({ kind: 'log', level: 'debug' })]);
  });

  it('refuses calls from an executor that has exited', () => {
    const h = new AgentHarness();
    h.launched('t1');
    h.update('t1', S.RUNNING, 'x1');
    h.exited('t1');
    expect(h.subscribe('t1')).toMatchObject({ ok: false, code: 'UNKNOWN_EXECUTOR' });
    expect(h.update('t1', S.FINISHED, 'x9')).toMatchObject({ ok: false, code: 'NOT_SUBSCRIBED' });
  });
});

describe('agent core: executor registration timeout', () => {
  it('kills an executor that has not subscribed in time and fails its task (Mesos: REASON_EXECUTOR_REGISTRATION_TIMEOUT)', () => {
    const h = new AgentHarness({ executorRegistrationTimeoutMs: 5000 });
    h.register();
    h.runTask('t1');
    h.tick(4000);
    h.reply('HEARTBEAT', { type: 'OK' });
    expect(ofKind(h.tick(999), 'kill-executor')).toEqual([]);
    const effects = h.tick(1);
    expect(ofKind(effects, 'kill-executor')).toEqual([{ kind: 'kill-executor', executorId: 't1', reason: 'executor registration timed out' }]);
    // killed once only
    expect(ofKind(h.tick(5000), 'kill-executor')).toEqual([]);
    expect(h.subscribe('t1')).toMatchObject({ ok: false, code: 'UNKNOWN_EXECUTOR' });
    const exit = h.exited('t1', { signal: 'SIGKILL' });
    expect(statusUpdates(exit)).toEqual([expect.objectContaining({ taskId: 't1', state: S.FAILED, reason: TaskReason.EXECUTOR_REGISTRATION_TIMEOUT })]);
  });

  it('uses 60 s by default and never times out a subscribed executor', () => {
    const h = new AgentHarness();
    h.register();
    h.runTask('t1');
    h.launched('t2');
    h.tick(59_999);
    h.reply('HEARTBEAT', { type: 'OK' });
    expect(ofKind(h.tick(0), 'kill-executor')).toEqual([]);
    expect(ofKind(h.tick(1), 'kill-executor').map((k) => k.executorId)).toEqual(['t1']);
    expect(ofKind(h.tick(600_000), 'kill-executor')).toEqual([]);
    expect(h.executorView('t2')?.phase).toBe('subscribed');
  });
});

describe('agent core: epoch fencing', () => {
  it('drops master messages from an epoch older than the newest seen, and takes equal or newer ones', () => {
    const h = new AgentHarness();
    h.register(EPOCH);
    const old = h.runTask('t1', 'f1', {}, EPOCH - 1);
    expect(ofKind(old, 'launch-executor')).toEqual([]);
    expect(logs(old, 'warn')).toEqual(['dropped RUN_TASK from an older master epoch']);
    expect(h.core.view().tasks).toEqual([]);
    expect(ofKind(h.runTask('t1', 'f1', {}, EPOCH), 'launch-executor')).toHaveLength(1);
    expect(ofKind(h.runTask('t2', 'f1', {}, EPOCH + 2), 'launch-executor')).toHaveLength(1);
    expect(h.core.view().epoch).toBe(EPOCH + 2);
    // now EPOCH itself is old: a deposed master cannot kill t1
    const kill = h.master({ type: 'KILL_TASK', epoch: EPOCH, frameworkId: 'f1', taskId: 't1' });
    expect(ofKind(kill, 'kill-executor')).toEqual([]);
    expect(statusUpdates(kill)).toEqual([]);
  });

  it('learns newer epochs from the master’s replies, but never moves back', () => {
    const h = new AgentHarness();
    h.register(EPOCH);
    h.reply('EXITED_EXECUTOR', { type: 'OK', epoch: EPOCH + 3 });
    expect(h.core.view().epoch).toBe(EPOCH + 3);
    h.reply('EXITED_EXECUTOR', { type: 'OK', epoch: EPOCH + 1 });
    expect(h.core.view().epoch).toBe(EPOCH + 3);
    expect(ofKind(h.runTask('t1', 'f1', {}, EPOCH + 2), 'launch-executor')).toEqual([]);
  });
});

describe('describeExit', () => {
  it('prefers a start error, then a signal, then the exit status', () => {
    expect(describeExit({ error: 'ENOENT', signal: 'SIGKILL', exitCode: 1 })).toBe('could not start: ENOENT');
    expect(describeExit({ signal: 'SIGTERM', exitCode: 1 })).toBe('was terminated by signal SIGTERM');
    expect(describeExit({ exitCode: 0 })).toBe('exited with status 0');
    expect(describeExit({})).toBe('exited with status unknown');
  });
});
