// Operator calls that change the cluster, on the master's pure core: teardown, kill one
// task, deactivate/reactivate, drain, mark an agent gone (and its consequences for
// registration, reconciliation and the registry).
import { describe, expect, it } from 'vitest';
import { Rejection } from '../../actors/runtime/actor.js';
import type { MasterEffect } from '../../actors/master/effects.js';
import { TaskState as S } from '../../protocol/task-state.js';
import { EPOCH, MasterHarness, allocatorCalls, events, published, toAgent, updates } from '../harness/master-harness.js';

/** An agent a1 with one launched task t1 of framework f1 (aware: PARTITION_AWARE). */
function withTask(aware = false) {
  const h = new MasterHarness();
  h.registerAgent('a1');
  h.subscribe('f1', aware ? ['PARTITION_AWARE'] : []);
  const { offerId } = h.offer('f1', 'a1');
  h.launch('f1', offerId, { taskId: 't1', agentId: 'a1', killPolicy: { gracePeriodMs: 9000 } });
  return h;
}

function registryOps(effects: readonly MasterEffect[]) {
  return effects.flatMap((e) => (e.kind === 'registry' ? [e.op] : []));
}

describe('operator calls on the master core', () => {
  it('TEARDOWN ends the framework: its agent shuts it down, its task is KILLED, the registry forgets it', () => {
    const h = withTask();
    const { reply, effects } = h.core.onOperatorCall({ type: 'TEARDOWN', frameworkId: 'f1' }, h.now);
    expect(reply).toEqual({ type: 'OK', epoch: EPOCH });
    expect(toAgent(effects, 'a1')).toEqual([{ type: 'SHUTDOWN_FRAMEWORK', frameworkId: 'f1', epoch: EPOCH }]);
    expect(h.core.state.frameworks.has('f1')).toBe(false);
    expect(h.core.state.completedTasks.get('f1/t1')?.state).toBe(S.KILLED);
    expect(registryOps(effects)).toContainEqual({ op: 'delete-framework', frameworkId: 'f1' });
  });

  it('TEARDOWN of an unknown framework is refused with the fix', () => {
    const h = withTask();
    expect(() => h.core.onOperatorCall({ type: 'TEARDOWN', frameworkId: 'nope' }, h.now)).toThrow(/nesos frameworks/);
  });

  it('KILL_TASK asks the task\'s agent to kill it, with the grace period given', () => {
    const h = withTask();
    const { effects } = h.core.onOperatorCall({ type: 'KILL_TASK', taskId: 't1', gracePeriodMs: 100 }, h.now);
    expect(toAgent(effects, 'a1')).toEqual([{ type: 'KILL_TASK', frameworkId: 'f1', taskId: 't1', gracePeriodMs: 100, epoch: EPOCH }]);
  });

  it('KILL_TASK refuses an unknown task, and a task id two frameworks use unless one is named', () => {
    const h = withTask();
    expect(() => h.core.onOperatorCall({ type: 'KILL_TASK', taskId: 'ghost' }, h.now)).toThrow(Rejection);
    h.subscribe('f2');
    const { offerId } = h.offer('f2', 'a1', 'cpus:1;mem:256');
    h.launch('f2', offerId, { taskId: 't1', agentId: 'a1' });
    expect(() => h.core.onOperatorCall({ type: 'KILL_TASK', taskId: 't1' }, h.now)).toThrow(/say which with frameworkId/);
    const { effects } = h.core.onOperatorCall({ type: 'KILL_TASK', taskId: 't1', frameworkId: 'f2' }, h.now);
    expect(toAgent(effects, 'a1')[0]).toMatchObject({ type: 'KILL_TASK', frameworkId: 'f2', taskId: 't1' });
  });

  it('DEACTIVATE_AGENT takes the agent out of the allocator and rescinds its offers; REACTIVATE brings it back with its tasks', () => {
    const h = withTask();
    const { offerId } = h.offer('f1', 'a1', 'cpus:3;mem:3968');
    const off = h.core.onOperatorCall({ type: 'DEACTIVATE_AGENT', agentId: 'a1' }, h.now);
    expect(events(off.effects, 'f1')).toContainEqual({ type: 'RESCIND', offerId, epoch: EPOCH });
    expect(allocatorCalls(off.effects).map((c) => c.op)).toEqual(['removeAgent']);
    expect(h.core.state.agents.get('a1')?.deactivated).toBe(true);
    // An allocation decided before the deactivation reached the master is not offered.
    const late = h.core.onAllocations([{ frameworkId: 'f1', agentId: 'a1', resources: h.core.state.agents.get('a1')!.total }], h.now);
    expect(events(late, 'f1')).toEqual([]);
    const on = h.core.onOperatorCall({ type: 'REACTIVATE_AGENT', agentId: 'a1' }, h.now);
    const [add] = allocatorCalls(on.effects);
    expect(add?.op).toBe('addAgent');
    // t1 (cpus:1;mem:128) still runs there and counts as f1's.
    if (add?.op === 'addAgent') expect(add.used.get('f1')?.toString()).toBe('cpus:1;mem:128');
  });

  it('a deactivated agent that registers again stays out of the allocator', () => {
    const h = withTask();
    h.core.onOperatorCall({ type: 'DEACTIVATE_AGENT', agentId: 'a1' }, h.now);
    const { effects } = h.registerAgent('a1');
    expect(allocatorCalls(effects)).toEqual([]);
  });

  it('DRAIN_AGENT deactivates the agent and tells it to drain with the grace period cap; REACTIVATE_AGENT ends the drain on the agent', () => {
    const h = withTask();
    const { effects } = h.core.onOperatorCall({ type: 'DRAIN_AGENT', agentId: 'a1', maxGracePeriodMs: 2000 }, h.now);
    // the agent kills t1 with min(its own 9 s, 2 s) and drops new tasks
    expect(toAgent(effects, 'a1')).toEqual([{ type: 'DRAIN_AGENT', maxGracePeriodMs: 2000, epoch: EPOCH }]);
    expect(h.core.state.agents.get('a1')).toMatchObject({ deactivated: true, draining: true });
    const back = h.core.onOperatorCall({ type: 'REACTIVATE_AGENT', agentId: 'a1' }, h.now);
    expect(toAgent(back.effects, 'a1')).toEqual([{ type: 'REACTIVATE_AGENT', epoch: EPOCH }]);
    expect(h.core.state.agents.get('a1')).toMatchObject({ deactivated: false, draining: false });
  });

  it('DRAIN_AGENT with markGone marks the agent gone once its tasks ended', () => {
    const h = withTask();
    h.core.onOperatorCall({ type: 'DRAIN_AGENT', agentId: 'a1', markGone: true }, h.now);
    expect(h.core.state.agents.get('a1')?.status).toBe('active'); // t1 still runs
    h.update('a1', 'f1', 't1', S.KILLED);
    h.core.onTick(h.now);
    expect(h.core.state.agents.get('a1')?.status).toBe('gone');
  });

  it('MARK_AGENT_GONE: tasks become GONE_BY_OPERATOR (partition-aware) and the agent may not register again', () => {
    const h = withTask(true);
    const { effects } = h.core.onOperatorCall({ type: 'MARK_AGENT_GONE', agentId: 'a1' }, h.now);
    expect(published(effects, 'f1')).toMatchObject([{ taskId: 't1', state: S.GONE_BY_OPERATOR }]);
    expect(registryOps(effects)).toContainEqual(expect.objectContaining({ op: 'put-agent', agent: expect.objectContaining({ goneSince: h.now }) }));
    expect(() => h.registerAgent('a1')).toThrow(/marked gone/);
    // Reconciling a task that was on it: GONE_BY_OPERATOR.
    const rec = h.call({ type: 'RECONCILE', frameworkId: 'f1', tasks: [{ taskId: 'other', agentId: 'a1' }] });
    expect(updates(rec.effects, 'f1')).toMatchObject([{ taskId: 'other', state: S.GONE_BY_OPERATOR }]);
  });

  it('MARK_AGENT_GONE gives TASK_LOST to frameworks that are not partition-aware', () => {
    const h = withTask(false);
    const { effects } = h.core.onOperatorCall({ type: 'MARK_AGENT_GONE', agentId: 'a1' }, h.now);
    expect(published(effects, 'f1')).toMatchObject([{ taskId: 't1', state: S.LOST }]);
  });

  it('a gone agent from the registry stays gone after a failover', () => {
    const h = new MasterHarness();
    h.core.recover({ agents: [{ info: { id: 'a9', hostname: 'h', resources: [], attributes: {} }, admittedAt: 1, goneSince: 2 }], frameworks: [] }, h.now);
    expect(h.core.state.agents.get('a9')?.status).toBe('gone');
    expect(() => h.registerAgent('a9')).toThrow(/marked gone/);
  });

  it('answers UNKNOWN_TYPE for calls this master does not implement', () => {
    const h = new MasterHarness();
    const { reply } = h.core.onOperatorCall({ type: 'GET_WEIGHTS' }, h.now);
    expect(reply).toMatchObject({ type: 'REJECTED', code: 'UNKNOWN_TYPE' });
  });
});

describe('offer timeout', () => {
  it('rescinds offers outstanding longer than --offer-timeout and gives their resources back', () => {
    const h = new MasterHarness();
    (h.core.config as { offerTimeoutMs: number }).offerTimeoutMs = 3_000; // within the agent's 5 s heartbeat timeout
    h.registerAgent('a1');
    h.subscribe('f1');
    const { offerId } = h.offer('f1', 'a1');
    h.now += 2_999;
    expect(events(h.core.onTick(h.now), 'f1').filter((e) => e.type === 'RESCIND')).toEqual([]);
    h.now += 1;
    const effects = h.core.onTick(h.now);
    expect(events(effects, 'f1')).toContainEqual({ type: 'RESCIND', offerId, epoch: EPOCH });
    // Back to the allocator with no filter, in the offer's role.
    expect(allocatorCalls(effects)).toContainEqual(expect.objectContaining({ op: 'recoverResources', agentId: 'a1', role: '*', refuseSeconds: undefined }));
  });
});

describe('drain across failover', () => {
  it('keeps a drain (and mark-gone-when-drained) in the registry, and resumes it after a failover', () => {
    const h = withTask();
    const { effects } = h.core.onOperatorCall({ type: 'DRAIN_AGENT', agentId: 'a1', markGone: true }, h.now);
    const put = registryOps(effects).filter((o) => o.op === 'put-agent').at(-1);
    expect(put?.op === 'put-agent' && put.agent).toMatchObject({ deactivated: true, draining: true, goneWhenDrained: true });
    const next = new MasterHarness();
    next.core.recover({ agents: [put?.op === 'put-agent' ? put.agent : (undefined as never)], frameworks: [] }, next.now);
    expect(next.core.state.agents.get('a1')).toMatchObject({ status: 'recovering', deactivated: true, draining: true, goneWhenDrained: true });
  });
});
