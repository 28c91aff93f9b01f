// Each task's status history on the master's pure core: every status applied is kept, oldest
// first, bounded at MAX_TASK_STATUSES; completed tasks keep theirs; the snapshot (GET_STATE,
// GET_TASKS, /state) carries it.
import { describe, expect, it } from 'vitest';
import { snapshot } from '../../actors/master/snapshot.js';
import { MAX_TASK_STATUSES } from '../../actors/master/task-history.js';
import type { MasterState } from '../../actors/master/state.js';
import { TaskState as S } from '../../protocol/task-state.js';
import { MasterHarness } from '../harness/master-harness.js';

function withTask(aware = false) {
  const h = new MasterHarness();
  h.registerAgent('a1');
  h.subscribe('f1', aware ? ['PARTITION_AWARE'] : []);
  const { offerId } = h.offer('f1', 'a1');
  h.launch('f1', offerId, { taskId: 't1', agentId: 'a1' });
  return h;
}

function view(state: MasterState) {
  return snapshot(state, { masterId: 'm1', epoch: 7, cluster: 'c', startedAt: 0, shareOf: () => 0 });
}

describe('task status history', () => {
  it('keeps every status applied, oldest first, and the snapshot carries it for live and completed tasks', () => {
    const h = withTask();
    const staged = view(h.core.state).tasks[0];
    expect(staged?.statuses).toBeUndefined(); // STAGING is the master's own start, not a status
    h.update('a1', 'f1', 't1', S.STARTING);
    h.update('a1', 'f1', 't1', S.RUNNING);
    expect(view(h.core.state).tasks[0]?.statuses?.map((s) => s.state)).toEqual([S.STARTING, S.RUNNING]);
    h.update('a1', 'f1', 't1', S.FINISHED);
    const done = view(h.core.state).completedTasks.find((t) => t.taskId === 't1');
    expect(done?.statuses?.map((s) => s.state)).toEqual([S.STARTING, S.RUNNING, S.FINISHED]);
    expect(done?.status).toEqual(done?.statuses?.at(-1));
  });

  it('records the master\'s own statuses too (TASK_LOST when the agent is lost)', () => {
    const h = withTask();
    h.update('a1', 'f1', 't1', S.RUNNING);
    h.core.markAgentUnreachable('a1', h.now);
    const done = h.core.state.completedTasks.get('f1/t1');
    expect(done?.statuses?.map((s) => [s.state, s.source])).toEqual([
      [S.RUNNING, 'SOURCE_EXECUTOR'],
      [S.LOST, 'SOURCE_MASTER'],
    ]);
  });

  it('records the KILLED status of a framework\'s teardown', () => {
    const h = withTask();
    h.update('a1', 'f1', 't1', S.RUNNING);
    h.core.onOperatorCall({ type: 'TEARDOWN', frameworkId: 'f1' }, h.now);
    expect(h.core.state.completedTasks.get('f1/t1')?.statuses?.map((s) => s.state)).toEqual([S.RUNNING, S.KILLED]);
  });

  it(`keeps at most the last ${MAX_TASK_STATUSES} statuses`, () => {
    const h = withTask();
    h.update('a1', 'f1', 't1', S.RUNNING);
    // Health checks repeat TASK_RUNNING: 40 statuses in all, the first one the oldest.
    for (let i = 1; i < 40; i++) {
      h.now += 1000;
      h.update('a1', 'f1', 't1', S.RUNNING);
    }
    const statuses = h.core.state.tasks.get('f1/t1')?.statuses ?? [];
    expect(statuses).toHaveLength(MAX_TASK_STATUSES);
    // The 8 oldest (timestamps 1000 … 1007 s) were dropped: the first kept is the 9th.
    expect(statuses[0]?.timestamp).toBe(1000 + 8);
    expect(statuses.at(-1)?.timestamp).toBe(1000 + 39);
  });

  it('the snapshot copies the history: a later status does not change a snapshot already taken', () => {
    const h = withTask();
    h.update('a1', 'f1', 't1', S.RUNNING);
    const before = view(h.core.state).tasks[0];
    h.update('a1', 'f1', 't1', S.FINISHED);
    expect(before?.statuses).toHaveLength(1);
  });
});

describe('task status history in large listings', () => {
  it('listings leave histories out once the master holds more tasks than the limit; the latest status stays', () => {
    const h = withTask();
    const { offerId } = h.offer('f1', 'a1', 'cpus:1;mem:128');
    h.launch('f1', offerId, { taskId: 't2', agentId: 'a1' });
    h.update('a1', 'f1', 't1', S.RUNNING);
    h.update('a1', 'f1', 't2', S.RUNNING);
    const extras = { masterId: 'm1', epoch: 7, cluster: 'c', startedAt: 0, shareOf: () => 0 };
    // 2 tasks: within a limit of 2, beyond a limit of 1.
    expect(snapshot(h.core.state, { ...extras, historyMaxTasks: 2 }).tasks.map((t) => t.statuses?.length)).toEqual([1, 1]);
    const large = snapshot(h.core.state, { ...extras, historyMaxTasks: 1 }).tasks;
    expect(large.map((t) => t.statuses)).toEqual([undefined, undefined]);
    expect(large.map((t) => t.status?.state)).toEqual([S.RUNNING, S.RUNNING]);
  });
});
