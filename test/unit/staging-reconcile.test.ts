// A launch lost while an agent's process is replaced (docs/reliability.md, finding 7): the
// RUN_TASK went out between the agent's SIGKILL and its new process subscribing, so nobody
// took it. The agent registers again without the task; the master asks it about its STAGING
// tasks (RECONCILE_TASKS, behind any RUN_TASK still on the way), the agent answers those it
// does not have (TASKS_UNKNOWN), and the master ends them TASK_DROPPED (TASK_LOST for
// frameworks that are not partition-aware) with REASON_RECONCILIATION. A kill of such a task
// is answered the same way.
import { describe, expect, it } from 'vitest';
import type { TaskOnAgent } from '../../protocol/agent.js';
import { Resources } from '../../protocol/resources.js';
import { TaskReason, TaskSource, TaskState } from '../../protocol/task-state.js';
import { AGENT_ID, AgentHarness, framework, logs, statusUpdates, task, toMaster } from '../harness/agent-harness.js';
import { MasterHarness, allocatorCalls, published, toAgent } from '../harness/master-harness.js';

const S = TaskState;

/** REGISTER_AGENT from agent `id` (again), reporting `tasks`. */
function reregister(h: MasterHarness, id: string, tasks: TaskOnAgent[] = []) {
  return h.agent({
    type: 'REGISTER_AGENT',
    agent: { id, hostname: `${id}.local`, resources: Resources.parse('cpus:4;mem:4096').toWire(), attributes: {} },
    tasks,
  });
}

describe('master core: STAGING tasks an agent does not report', () => {
  it('asks the agent about them (RECONCILE_TASKS) instead of ending them or leaving them for ever', () => {
    const h = new MasterHarness();
    h.registerAgent('a1');
    h.subscribe('f1', ['PARTITION_AWARE']);
    const { offerId } = h.offer('f1', 'a1', 'cpus:2;mem:256');
    // t1 is launched and runs; t2's RUN_TASK reaches nobody (the agent's process was just SIGKILLed)
    const launch = h.call({
      type: 'ACCEPT',
      frameworkId: 'f1',
      offerIds: [offerId],
      operations: [{ type: 'LAUNCH', tasks: ['t1', 't2'].map((id) => ({ taskId: id, name: id, agentId: 'a1', resources: Resources.parse('cpus:1;mem:128').toWire(), command: { value: 'true', environment: {} } })) }],
    });
    expect(toAgent(launch.effects, 'a1').map((m) => m.type)).toEqual(['RUN_TASK', 'RUN_TASK']);
    h.update('a1', 'f1', 't1', S.RUNNING);
    // the restarted process registers with t1 only
    const back = reregister(h, 'a1', [{ frameworkId: 'f1', task: h.core.state.tasks.get('f1/t1')!.info, state: S.RUNNING }]);
    // t2 is not ended blindly (its RUN_TASK might still be on the way): the agent is asked, after any such RUN_TASK
    expect(published(back.effects, 'f1')).toEqual([]);
    expect(h.core.state.tasks.get('f1/t2')?.state).toBe(S.STAGING);
    expect(toAgent(back.effects, 'a1')).toContainEqual({ type: 'RECONCILE_TASKS', epoch: expect.any(Number), tasks: [{ frameworkId: 'f1', taskId: 't2' }] });
  });

  it('ends a STAGING task its agent says it does not have: TASK_DROPPED (partition-aware) with REASON_RECONCILIATION, resources back', () => {
    const h = new MasterHarness();
    h.registerAgent('a1');
    h.subscribe('f1', ['PARTITION_AWARE']);
    const { offerId } = h.offer('f1', 'a1');
    h.launch('f1', offerId, { taskId: 't1', agentId: 'a1' });
    reregister(h, 'a1'); // without t1
    // the agent answers RECONCILE_TASKS: t1 is unknown to it
    const answer = h.agent({ type: 'TASKS_UNKNOWN', agentId: 'a1', tasks: [{ frameworkId: 'f1', taskId: 't1' }] });
    expect(answer.reply.type).toBe('OK');
    // the framework hears it through the updates stream (a master-made update, after no update of the task)
    expect(answer.effects).toContainEqual(expect.objectContaining({ kind: 'publish-update', frameworkId: 'f1', afterSeq: 0 }));
    expect(published(answer.effects, 'f1')).toEqual([
      expect.objectContaining({ taskId: 't1', state: S.DROPPED, reason: TaskReason.RECONCILIATION, source: TaskSource.MASTER, agentId: 'a1' }),
    ]);
    expect(h.core.state.tasks.has('f1/t1')).toBe(false);
    expect(h.core.state.completedTasks.get('f1/t1')?.state).toBe(S.DROPPED);
    expect(allocatorCalls(answer.effects)).toContainEqual(expect.objectContaining({ op: 'recoverResources', frameworkId: 'f1', agentId: 'a1' }));
    // a second answer (a resent request) changes nothing
    const again = h.agent({ type: 'TASKS_UNKNOWN', agentId: 'a1', tasks: [{ frameworkId: 'f1', taskId: 't1' }] });
    expect(again.effects).toEqual([]);
  });

  it('ends it TASK_LOST for a framework that is not partition-aware', () => {
    const h = new MasterHarness();
    h.registerAgent('a1');
    h.subscribe('f1');
    const { offerId } = h.offer('f1', 'a1');
    h.launch('f1', offerId, { taskId: 't1', agentId: 'a1' });
    const answer = h.agent({ type: 'TASKS_UNKNOWN', agentId: 'a1', tasks: [{ frameworkId: 'f1', taskId: 't1' }] });
    expect(published(answer.effects, 'f1')).toEqual([expect.objectContaining({ taskId: 't1', state: S.LOST, reason: TaskReason.RECONCILIATION })]);
  });

  it('a kill of the stuck task: KILL_TASK goes to the agent, whose TASKS_UNKNOWN ends the task', () => {
    const h = new MasterHarness();
    h.registerAgent('a1');
    h.subscribe('f1', ['PARTITION_AWARE']);
    const { offerId } = h.offer('f1', 'a1');
    h.launch('f1', offerId, { taskId: 't1', agentId: 'a1' });
    const kill = h.call({ type: 'KILL', frameworkId: 'f1', taskId: 't1' });
    expect(toAgent(kill.effects, 'a1').map((m) => m.type)).toEqual(['KILL_TASK']);
    const answer = h.agent({ type: 'TASKS_UNKNOWN', agentId: 'a1', tasks: [{ frameworkId: 'f1', taskId: 't1' }] });
    expect(published(answer.effects, 'f1').map((s) => s.state)).toEqual([S.DROPPED]);
  });

  it('leaves alone a task that moved on, lives on another agent, or that it does not track', () => {
    const h = new MasterHarness();
    h.registerAgent('a1');
    h.registerAgent('a2');
    h.subscribe('f1', ['PARTITION_AWARE']);
    h.launch('f1', h.offer('f1', 'a1').offerId, { taskId: 't1', agentId: 'a1' });
    h.launch('f1', h.offer('f1', 'a2').offerId, { taskId: 't2', agentId: 'a2' });
    h.update('a1', 'f1', 't1', S.RUNNING); // its agent's update came through meanwhile
    const answer = h.agent({
      type: 'TASKS_UNKNOWN',
      agentId: 'a1',
      tasks: [
        { frameworkId: 'f1', taskId: 't1' },
        { frameworkId: 'f1', taskId: 't2' }, // on a2: a1 cannot speak for it
        { frameworkId: 'f1', taskId: 'ghost' },
      ],
    });
    expect(answer.effects.filter((e) => e.kind === 'publish-update')).toEqual([]);
    expect(h.core.state.tasks.get('f1/t1')?.state).toBe(S.RUNNING);
    expect(h.core.state.tasks.get('f1/t2')?.state).toBe(S.STAGING);
  });

  it('refuses TASKS_UNKNOWN from an agent that is not registered', () => {
    const h = new MasterHarness();
    const answer = h.agent({ type: 'TASKS_UNKNOWN', agentId: 'a9', tasks: [{ frameworkId: 'f1', taskId: 't1' }] });
    expect(answer.reply).toMatchObject({ type: 'REJECTED', code: 'UNKNOWN_AGENT' });
  });
});

describe('agent core: RECONCILE_TASKS and kills of tasks it does not have', () => {
  it('answers TASKS_UNKNOWN for the tasks it neither holds nor ended lately', () => {
    const h = new AgentHarness();
    h.launched('t1'); // running
    h.launched('t2');
    h.update('t2', S.FINISHED, 'x1');
    h.published('t2', 'x1'); // ended and forgotten: still reported as ended
    h.runTask('t3', 'f2'); // launched just now: its executor has not subscribed
    const effects = h.master({
      type: 'RECONCILE_TASKS',
      tasks: [
        { frameworkId: 'f1', taskId: 't1' },
        { frameworkId: 'f1', taskId: 't2' },
        { frameworkId: 'f2', taskId: 't3' },
        { frameworkId: 'f1', taskId: 'lost' }, // its RUN_TASK reached nobody
        { frameworkId: 'f2', taskId: 't1' }, // another framework's id
      ],
    });
    expect(toMaster(effects)).toEqual([
      { type: 'TASKS_UNKNOWN', agentId: AGENT_ID, tasks: [{ frameworkId: 'f1', taskId: 'lost' }, { frameworkId: 'f2', taskId: 't1' }] },
    ]);
    // and nothing is done to the tasks it has
    expect(statusUpdates(effects)).toEqual([]);
    expect(h.taskView('t1')?.state).toBe(S.STAGING);
  });

  it('says nothing when it has every task', () => {
    const h = new AgentHarness();
    h.launched('t1');
    expect(h.master({ type: 'RECONCILE_TASKS', tasks: [{ frameworkId: 'f1', taskId: 't1' }] })).toEqual([]);
  });

  it('a launch still on its way is not taken for lost: RUN_TASK comes before the RECONCILE_TASKS or KILL_TASK sent after it', () => {
    // The master publishes RUN_TASK, then (the agent registered again meanwhile) RECONCILE_TASKS,
    // then a KILL_TASK, on one connection: the agent takes them in that order.
    const h = new AgentHarness();
    h.register();
    h.master({ type: 'RUN_TASK', frameworkId: 'f1', framework: framework('f1'), task: task('t1') });
    expect(toMaster(h.master({ type: 'RECONCILE_TASKS', tasks: [{ frameworkId: 'f1', taskId: 't1' }] }))).toEqual([]);
    const kill = h.master({ type: 'KILL_TASK', frameworkId: 'f1', taskId: 't1' });
    expect(toMaster(kill)).toEqual([]);
    expect(statusUpdates(kill)).toEqual([expect.objectContaining({ taskId: 't1', state: S.KILLED, reason: TaskReason.TASK_KILLED_DURING_LAUNCH })]);
  });

  it('a kill of a task it never received is answered TASKS_UNKNOWN, not ignored', () => {
    // The agent's process was replaced while the RUN_TASK was on the way: it never had t1.
    const h = new AgentHarness();
    h.register();
    const kill = h.master({ type: 'KILL_TASK', frameworkId: 'f1', taskId: 't1' });
    expect(toMaster(kill)).toEqual([{ type: 'TASKS_UNKNOWN', agentId: AGENT_ID, tasks: [{ frameworkId: 'f1', taskId: 't1' }] }]);
    expect(logs(kill, 'info')).toEqual(['asked to kill a task this agent does not have: telling the master']);
  });

  it('registers again when the master no longer knows it (TASKS_UNKNOWN answered UNKNOWN_AGENT)', () => {
    const h = new AgentHarness();
    h.register();
    h.master({ type: 'KILL_TASK', frameworkId: 'f1', taskId: 't1' });
    const after = h.reply('TASKS_UNKNOWN', { type: 'REJECTED', code: 'UNKNOWN_AGENT', reason: 'register again', epoch: 5 });
    expect(toMaster(after).map((m) => m.type)).toEqual(['REGISTER_AGENT']);
  });
});
