// The agent core and container limitations: a container over its memory limit is destroyed,
// and its tasks end TASK_FAILED with REASON_CONTAINER_LIMITATION_MEMORY whichever way the end
// is learnt (the executor's own FAILED update, or the executor's death).
import { describe, expect, it } from 'vitest';
import { TaskReason, TaskState } from '../../protocol/task-state.js';
import { AgentHarness, ofKind, statusUpdates } from '../harness/agent-harness.js';

const S = TaskState;
const LIMIT = { reason: TaskReason.MEMORY_LIMIT, message: 'Memory limit exceeded: requested 64 MB, maximum used 64 MB (test)' };

describe('agent core: container limitations', () => {
  it('destroys the container of a running task and reports TASK_FAILED with the limitation once the executor is gone', () => {
    const h = new AgentHarness();
    h.launched('t1');
    h.update('t1', S.RUNNING);
    const effects = h.core.onContainerLimitation('t1', LIMIT, h.now);
    expect(ofKind(effects, 'kill-executor')).toEqual([{ kind: 'kill-executor', executorId: 't1', reason: LIMIT.message }]);
    expect(h.executorView('t1')?.limitation).toEqual(LIMIT);
    const exited = h.exited('t1', { signal: 'SIGKILL' });
    const failed = statusUpdates(exited).find((s) => s.taskId === 't1');
    // (the RUNNING update is still unacknowledged: FAILED waits in the queue)
    expect(failed).toBeUndefined();
    expect(h.taskView('t1')?.state).toBe(S.FAILED);
  });

  it('gives the limitation\'s reason to the FAILED update the executor sends itself', () => {
    const h = new AgentHarness();
    h.launched('t1');
    h.core.onContainerLimitation('t1', LIMIT, h.now);
    const r = h.update('t1', S.FAILED, 'u-failed', 'f1', { message: 'Command terminated with signal SIGKILL', signal: 'SIGKILL' });
    expect(r.ok).toBe(true);
    const [sent] = statusUpdates(r.effects);
    expect(sent).toMatchObject({ taskId: 't1', state: S.FAILED, reason: TaskReason.MEMORY_LIMIT, signal: 'SIGKILL' });
    expect(sent?.message).toBe(`${LIMIT.message}; Command terminated with signal SIGKILL`);
  });

  it('reports a limitation once, and not at all for an executor that has exited', () => {
    const h = new AgentHarness();
    h.launched('t1');
    expect(ofKind(h.core.onContainerLimitation('t1', LIMIT, h.now), 'kill-executor')).toHaveLength(1);
    expect(h.core.onContainerLimitation('t1', LIMIT, h.now)).toEqual([]);
    h.launched('t2');
    h.update('t2', S.FINISHED);
    h.exited('t2');
    expect(ofKind(h.core.onContainerLimitation('t2', LIMIT, h.now), 'kill-executor')).toEqual([]);
    expect(ofKind(h.core.onContainerLimitation('nope', LIMIT, h.now), 'kill-executor')).toEqual([]);
  });

  it('does not kill an executor whose tasks have all ended; other updates keep their own reason', () => {
    const h = new AgentHarness();
    h.launched('t1');
    const done = h.update('t1', S.FINISHED);
    expect(statusUpdates(done.effects)[0]?.reason).toBeUndefined();
    expect(ofKind(h.core.onContainerLimitation('t1', LIMIT, h.now), 'kill-executor')).toEqual([]);
  });
});
