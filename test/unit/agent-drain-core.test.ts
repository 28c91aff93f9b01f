// Draining, in the agent core: DRAIN_AGENT kills every task with its grace period capped,
// new tasks are dropped while draining, DRAINED once every end is acknowledged,
// REACTIVATE_AGENT takes tasks again.
import { describe, expect, it } from 'vitest';
import { TaskReason, TaskState } from '../../protocol/task-state.js';
import { AgentHarness, framework, ofKind, statusUpdates, task, toExecutor } from '../harness/agent-harness.js';

const S = TaskState;

describe('agent core: drain', () => {
  it('kills every running task, with the task\'s grace period capped by maxGracePeriodMs', () => {
    const h = new AgentHarness();
    h.launched('t1', 'f1', { killPolicy: { gracePeriodMs: 10_000 } });
    h.launched('t2', 'f1', { killPolicy: { gracePeriodMs: 100 } });
    const effects = h.master({ type: 'DRAIN_AGENT', maxGracePeriodMs: 1000 });
    expect(toExecutor(effects, 't1')).toEqual([{ type: 'KILL', taskId: 't1', gracePeriodMs: 1000 }]);
    expect(toExecutor(effects, 't2')).toEqual([{ type: 'KILL', taskId: 't2', gracePeriodMs: 100 }]);
    expect(h.core.view().drain).toEqual({ state: 'draining', maxGracePeriodMs: 1000 });
  });

  it('drops tasks that arrive while draining, singly or as a group', () => {
    const h = new AgentHarness();
    h.register();
    h.master({ type: 'DRAIN_AGENT' });
    const effects = h.runTask('t1');
    expect(ofKind(effects, 'launch-executor')).toEqual([]);
    expect(statusUpdates(effects).map((s) => [s.taskId, s.state, s.reason])).toEqual([['t1', S.DROPPED, TaskReason.AGENT_DRAINING]]);
    const group = h.master({ type: 'RUN_TASK_GROUP', frameworkId: 'f1', framework: framework('f1'), executorId: 'g1', tasks: [task('t2')] });
    expect(ofKind(group, 'launch-executor')).toEqual([]);
    expect(h.taskView('t2')?.state).toBe(S.DROPPED);
  });

  it('is DRAINED once every task has ended and its last update is acknowledged', () => {
    const h = new AgentHarness();
    h.launched('t1');
    h.master({ type: 'DRAIN_AGENT' });
    h.update('t1', S.KILLED, 'u-killed');
    h.tick(1);
    expect(h.core.view().drain.state).toBe('draining'); // the update waits for its acknowledgement
    h.published('t1', 'u-killed');
    h.tick(1);
    expect(h.core.view().drain.state).toBe('drained');
  });

  it('an agent without tasks is drained at once; REACTIVATE_AGENT takes tasks again', () => {
    const h = new AgentHarness();
    h.register();
    h.master({ type: 'DRAIN_AGENT' });
    expect(h.core.view().drain.state).toBe('drained');
    h.master({ type: 'REACTIVATE_AGENT' });
    expect(h.core.view().drain).toEqual({ state: 'active', maxGracePeriodMs: undefined });
    expect(ofKind(h.runTask('t1'), 'launch-executor')).toHaveLength(1);
  });

  it('draining again lowers the cap and kills nothing twice', () => {
    const h = new AgentHarness();
    h.launched('t1', 'f1', { killPolicy: { gracePeriodMs: 10_000 } });
    h.master({ type: 'DRAIN_AGENT', maxGracePeriodMs: 5000 });
    const again = h.master({ type: 'DRAIN_AGENT', maxGracePeriodMs: 50 });
    expect(toExecutor(again, 't1')).toEqual([]);
    expect(h.core.view().drain.maxGracePeriodMs).toBe(50);
  });
});
