import { describe, expect, it } from 'vitest';
import { Rejection } from '../../actors/runtime/actor.js';
import { Resources } from '../../protocol/resources.js';
import { TaskReason, TaskState } from '../../protocol/task-state.js';
import { EPOCH, MasterHarness, allocatorCalls, consumerOps, events, published, toAgent, updates } from '../harness/master-harness.js';

const S = TaskState;

/** A master with agent a1 and framework f1 (optionally partition-aware) holding one offer of a1. */
function withOffer(capabilities: Array<'PARTITION_AWARE'> = []) {
  const h = new MasterHarness();
  h.registerAgent('a1');
  h.subscribe('f1', capabilities);
  const { offerId } = h.offer('f1', 'a1');
  return { h, offerId };
}

describe('master core: agents', () => {
  it('admits an agent, hands it to the allocator and tells it the heartbeat interval', () => {
    const h = new MasterHarness();
    const { reply, effects } = h.registerAgent('a1', 'cpus:2;mem:1024');
    expect(reply).toMatchObject({ type: 'AGENT_REGISTERED', agentId: 'a1', epoch: EPOCH, heartbeatIntervalMs: 1000 });
    const [add] = allocatorCalls(effects);
    expect(add?.op).toBe('addAgent');
    if (add?.op === 'addAgent') expect(add.total.toString()).toBe('cpus:2;mem:1024');
  });

  it('refuses an agent registering under another agent id', () => {
    const h = new MasterHarness();
    expect(() =>
      h.agent({ type: 'REGISTER_AGENT', agent: { id: 'a1', hostname: 'h', resources: [], attributes: {} }, tasks: [] }, 'a2'),
    ).toThrow(Rejection);
    const hb = h.agent({ type: 'HEARTBEAT', agentId: 'a1' }, 'a2');
    expect(hb.reply).toMatchObject({ type: 'REJECTED', code: 'WRONG_PRINCIPAL' });
  });

  it('tells an unknown agent to register again', () => {
    const h = new MasterHarness();
    expect(() => h.agent({ type: 'HEARTBEAT', agentId: 'ghost' })).toThrow(/register again/);
  });

  it('marks a silent agent unreachable: offers rescinded, tasks LOST (through the updates stream), frameworks told', () => {
    const { h, offerId } = withOffer();
    h.launch('f1', offerId, { taskId: 't1', agentId: 'a1' });
    const { offerId: second } = h.offer('f1', 'a1', 'cpus:3;mem:3968');
    // 5 missed heartbeats of 1 s: silent for 5.001 s
    h.now += 5001;
    const effects = h.core.onTick(h.now);
    expect(events(effects, 'f1').map((e) => e.type)).toEqual(['RESCIND', 'FAILURE']);
    expect(events(effects, 'f1')[0]).toMatchObject({ offerId: second });
    expect(published(effects, 'f1')).toEqual([
      expect.objectContaining({ taskId: 't1', state: S.LOST, reason: TaskReason.AGENT_UNREACHABLE, source: 'SOURCE_MASTER', uuid: expect.stringMatching(/^update-/) }),
    ]);
    expect(h.core.state.completedTasks.get('f1/t1')?.status?.uuid).toBe(published(effects, 'f1')[0]?.uuid);
    expect(allocatorCalls(effects).map((c) => c.op)).toEqual(['removeAgent']);
    expect(h.core.state.agents.get('a1')?.status).toBe('unreachable');
  });

  it('looks at every agent at most every half heartbeat interval, so a silent agent is marked at most that late', () => {
    const h = new MasterHarness(); // heartbeats every 1 s, 5 may be missed
    h.registerAgent('a1');
    const silentSince = h.now;
    let markedAt: number | undefined;
    for (let i = 0; i < 100 && markedAt === undefined; i++) {
      h.now += 100; // the shell's tick
      h.core.onTick(h.now);
      if (h.core.state.agents.get('a1')?.status === 'unreachable') markedAt = h.now;
    }
    expect(markedAt).toBeDefined();
    expect(markedAt! - silentSince).toBeGreaterThan(5000);
    expect(markedAt! - silentSince).toBeLessThanOrEqual(5000 + 500 + 100);
  });

  it('keeps a silent agent that is still within its heartbeat timeout', () => {
    const { h } = withOffer();
    h.now += 4999;
    expect(h.core.onTick(h.now).filter((e) => e.kind === 'to-framework')).toEqual([]);
  });

  it('reports UNREACHABLE to partition-aware frameworks, and RUNNING again when the agent returns', () => {
    const { h, offerId } = withOffer(['PARTITION_AWARE']);
    h.launch('f1', offerId, { taskId: 't1', agentId: 'a1' });
    h.update('a1', 'f1', 't1', S.RUNNING);
    h.now += 6000;
    expect(published(h.core.onTick(h.now), 'f1')[0]?.state).toBe(S.UNREACHABLE);
    const task = h.core.state.tasks.get('f1/t1');
    const back = h.agent({
      type: 'REGISTER_AGENT',
      agent: { id: 'a1', hostname: 'a1.local', resources: Resources.parse('cpus:4;mem:4096').toWire(), attributes: {} },
      tasks: [{ frameworkId: 'f1', task: task!.info, state: S.RUNNING }],
    });
    expect(published(back.effects, 'f1')[0]).toMatchObject({ state: S.RUNNING, reason: TaskReason.RECONCILIATION, uuid: expect.any(String) });
    // the agent comes back with t1 using cpus:1;mem:128 of f1
    const add = allocatorCalls(back.effects).find((c) => c.op === 'addAgent');
    expect(add?.op === 'addAgent' && add.used.get('f1')?.toString()).toBe('cpus:1;mem:128');
  });

  it('takes the ended tasks an agent reports as completed, without counting their resources or marking them gone', () => {
    const { h, offerId } = withOffer();
    h.launch('f1', offerId, { taskId: 't1', agentId: 'a1' });
    const info = h.core.state.tasks.get('f1/t1')!.info;
    const other = { ...info, taskId: 't0' }; // ended before this master knew of it (a failover)
    const again = h.agent({
      type: 'REGISTER_AGENT',
      agent: { id: 'a1', hostname: 'a1.local', resources: Resources.parse('cpus:4;mem:4096').toWire(), attributes: {} },
      tasks: [
        { frameworkId: 'f1', task: info, state: S.FINISHED },
        { frameworkId: 'f1', task: other, state: S.FAILED },
      ],
    });
    expect(h.core.state.tasks.has('f1/t1')).toBe(false);
    expect([...h.core.state.completedTasks.values()].map((t) => [t.info.taskId, t.state])).toEqual([
      ['t1', S.FINISHED],
      ['t0', S.FAILED],
    ]);
    expect(published(again.effects, 'f1')).toEqual([]); // their updates are in the stream already
    // nothing to kill; only its checkpointed resources (none), as after every registration
    expect(toAgent(again.effects, 'a1')).toEqual([{ type: 'CHECKPOINT_RESOURCES', resources: [], epoch: EPOCH }]);
    const add = allocatorCalls(again.effects).find((c) => c.op === 'addAgent');
    expect(add?.op === 'addAgent' && add.used.size).toBe(0);
    const rec = h.call({ type: 'RECONCILE', frameworkId: 'f1', tasks: [{ taskId: 't0', agentId: 'a1' }] });
    expect(updates(rec.effects, 'f1')).toMatchObject([{ taskId: 't0', state: S.FAILED }]);
  });

  it('kills tasks that a returning agent still runs but the master declared LOST', () => {
    const { h, offerId } = withOffer();
    h.launch('f1', offerId, { taskId: 't1', agentId: 'a1' });
    const info = h.core.state.tasks.get('f1/t1')!.info;
    h.now += 6000;
    h.core.onTick(h.now);
    const back = h.agent({
      type: 'REGISTER_AGENT',
      agent: { id: 'a1', hostname: 'a1.local', resources: Resources.parse('cpus:4;mem:4096').toWire(), attributes: {} },
      tasks: [{ frameworkId: 'f1', task: info, state: S.RUNNING }],
    });
    expect(toAgent(back.effects, 'a1')).toEqual([
      { type: 'KILL_TASK', frameworkId: 'f1', taskId: 't1', epoch: EPOCH },
      { type: 'CHECKPOINT_RESOURCES', resources: [], epoch: EPOCH },
    ]);
  });
});

describe('master core: frameworks', () => {
  it('subscribes a framework and sends SUBSCRIBED with the epoch', () => {
    const h = new MasterHarness();
    const { reply, effects } = h.subscribe('f1');
    expect(reply).toEqual({ type: 'OK', epoch: EPOCH });
    expect(events(effects, 'f1')).toEqual([
      { type: 'SUBSCRIBED', frameworkId: 'f1', masterId: 'm1', heartbeatIntervalSeconds: 15, epoch: EPOCH },
    ]);
    expect(allocatorCalls(effects)[0]).toMatchObject({ op: 'addFramework', frameworkId: 'f1', roles: ['*'] });
    // its consumer of the updates stream is made sure of (the SDK creates it before SUBSCRIBE)
    expect(consumerOps(effects)).toEqual(['ensure f1']);
  });

  it('refuses a framework whose declared principal differs from the subject', () => {
    const h = new MasterHarness();
    expect(() =>
      h.call({ type: 'SUBSCRIBE', framework: { id: 'f1', name: 'x', principal: 'alice', roles: ['*'], capabilities: [], failoverTimeoutSeconds: 0 } }, 'bob'),
    ).toThrow(/principal/);
  });

  it('refuses calls for a framework from another principal, and calls before SUBSCRIBE', () => {
    const h = new MasterHarness();
    h.subscribe('f1');
    expect(() => h.call({ type: 'REVIVE', frameworkId: 'f1' }, 'mallory')).toThrow(expect.objectContaining({ code: 'WRONG_PRINCIPAL' }));
    expect(() => h.call({ type: 'REVIVE', frameworkId: 'nope' })).toThrow(expect.objectContaining({ code: 'NOT_SUBSCRIBED' }));
  });

  it('disconnects a framework after two unanswered heartbeats and removes it after its failover timeout', () => {
    const { h, offerId } = withOffer();
    h.core.state.frameworks.get('f1')!.info.failoverTimeoutSeconds = 10;
    h.launch('f1', offerId, { taskId: 't1', agentId: 'a1' });
    h.now += 15_000;
    h.agent({ type: 'HEARTBEAT', agentId: 'a1' }); // the agent stays alive throughout
    const beat = h.core.onTick(h.now);
    expect(beat.filter((e) => e.kind === 'heartbeat-framework')).toHaveLength(1);
    h.core.onFrameworkHeartbeat('f1', false, h.now);
    const down = h.core.onFrameworkHeartbeat('f1', false, h.now);
    expect(allocatorCalls(down).map((c) => c.op)).toEqual(['deactivateFramework']);
    expect(h.core.state.frameworks.get('f1')?.connected).toBe(false);
    // failover timeout 10 s: at +9.999 s the framework stays, at +10 s it is removed
    h.now += 4000;
    h.agent({ type: 'HEARTBEAT', agentId: 'a1' });
    h.now += 4000;
    h.agent({ type: 'HEARTBEAT', agentId: 'a1' });
    h.now += 1999;
    expect(toAgent(h.core.onTick(h.now), 'a1')).toEqual([]);
    h.now += 1;
    const gone = h.core.onTick(h.now);
    expect(toAgent(gone, 'a1')).toEqual([{ type: 'SHUTDOWN_FRAMEWORK', frameworkId: 'f1', epoch: EPOCH }]);
    expect(h.core.state.frameworks.has('f1')).toBe(false);
    expect(h.core.state.completedTasks.get('f1/t1')?.state).toBe(S.KILLED);
    expect(published(gone, 'f1')).toEqual([]); // nobody reads them: the framework is gone
    expect(consumerOps(gone)).toEqual(['delete f1']);
  });

  it('resubscribing within the failover timeout reconnects and withdraws old offers', () => {
    const { h, offerId } = withOffer();
    h.core.state.frameworks.get('f1')!.info.failoverTimeoutSeconds = 60;
    h.core.onFrameworkHeartbeat('f1', false, h.now);
    h.core.onFrameworkHeartbeat('f1', false, h.now);
    const again = h.call({ type: 'SUBSCRIBE', framework: { id: 'f1', name: 'f1', principal: 'p', roles: ['*'], capabilities: [], failoverTimeoutSeconds: 60 } });
    expect(allocatorCalls(again.effects).map((c) => c.op)).toEqual(['activateFramework']);
    expect(h.core.state.offers.has(offerId)).toBe(false);
    expect(h.core.state.frameworks.get('f1')?.connected).toBe(true);
  });

  it('TEARDOWN shuts the framework down on its agents', () => {
    const { h, offerId } = withOffer();
    h.launch('f1', offerId, { taskId: 't1', agentId: 'a1' });
    const { effects } = h.call({ type: 'TEARDOWN', frameworkId: 'f1' });
    expect(toAgent(effects, 'a1')).toEqual([{ type: 'SHUTDOWN_FRAMEWORK', frameworkId: 'f1', epoch: EPOCH }]);
    expect(allocatorCalls(effects).map((c) => c.op)).toEqual(['removeFramework']);
    expect(consumerOps(effects)).toEqual(['delete f1']);
  });
});

describe('master core: offers and ACCEPT', () => {
  it('offers the allocator decision to the framework', () => {
    const h = new MasterHarness();
    h.registerAgent('a1');
    h.subscribe('f1');
    const { effects } = h.offer('f1', 'a1', 'cpus:2;mem:512');
    const [ev] = events(effects, 'f1');
    expect(ev).toMatchObject({ type: 'OFFERS', epoch: EPOCH, offers: [{ agentId: 'a1', hostname: 'a1.local' }] });
  });

  it('gives a decision back when its framework has gone', () => {
    const h = new MasterHarness();
    h.registerAgent('a1');
    const effects = h.core.onAllocations([{ frameworkId: 'gone', agentId: 'a1', resources: Resources.parse('cpus:1') }], h.now);
    expect(allocatorCalls(effects)).toMatchObject([{ op: 'recoverResources', frameworkId: 'gone', agentId: 'a1' }]);
  });

  it('launches a valid task and returns the unused rest with the default 5 s filter', () => {
    const { h, offerId } = withOffer();
    const { effects } = h.launch('f1', offerId, { taskId: 't1', agentId: 'a1' });
    expect(toAgent(effects, 'a1')[0]).toMatchObject({ type: 'RUN_TASK', frameworkId: 'f1', task: { taskId: 't1' }, epoch: EPOCH });
    // offered cpus:4;mem:4096, task uses cpus:1;mem:128 (accepted, in role *) → cpus:3;mem:3968 back
    const [accepted, rest] = allocatorCalls(effects);
    expect(accepted).toMatchObject({ op: 'offerAccepted', role: '*' });
    expect(accepted?.op === 'offerAccepted' && accepted.resources.toString()).toBe('cpus:1;mem:128');
    expect(rest).toMatchObject({ op: 'recoverResources', refuseSeconds: 5, role: '*' });
    expect(rest?.op === 'recoverResources' && rest.resources.toString()).toBe('cpus:3;mem:3968');
    expect(h.core.state.tasks.get('f1/t1')?.state).toBe(S.STAGING);
  });

  it('uses the filter given with ACCEPT for the unused rest', () => {
    const { h, offerId } = withOffer();
    const { effects } = h.launch('f1', offerId, { taskId: 't1', agentId: 'a1' }, 30);
    expect(allocatorCalls(effects).find((c) => c.op === 'recoverResources')).toMatchObject({ refuseSeconds: 30 });
  });

  it('drops tasks on an unknown or used offer (LOST when not partition-aware)', () => {
    const { h, offerId } = withOffer(['PARTITION_AWARE']);
    h.launch('f1', offerId, { taskId: 't1', agentId: 'a1' });
    const again = h.launch('f1', offerId, { taskId: 't2', agentId: 'a1' });
    expect(published(again.effects, 'f1')).toMatchObject([{ taskId: 't2', state: S.DROPPED, reason: TaskReason.INVALID_OFFERS }]);
    expect(toAgent(again.effects, 'a1')).toEqual([]);

    const plain = withOffer();
    const bad = plain.h.launch('f1', 'offer-nope', { taskId: 't3', agentId: 'a1' });
    expect(published(bad.effects, 'f1')[0]?.state).toBe(S.LOST);
  });

  it('refuses a task that asks for more than the offer holds', () => {
    const { h, offerId } = withOffer();
    const { effects } = h.launch('f1', offerId, { taskId: 't1', agentId: 'a1', resources: Resources.parse('cpus:5;mem:128').toWire() });
    const [status] = published(effects, 'f1');
    expect(status).toMatchObject({ taskId: 't1', state: S.ERROR, reason: TaskReason.TASK_INVALID, uuid: expect.any(String) });
    expect(status?.message).toContain('more resources');
    // nothing launched: the whole offer goes back
    expect(allocatorCalls(effects)[0]?.op === 'recoverResources' && (allocatorCalls(effects)[0] as { resources: Resources }).resources.toString()).toBe('cpus:4;mem:4096');
  });

  it('refuses duplicate task ids within a call and across calls', () => {
    const { h, offerId } = withOffer();
    const info = { name: 'x', agentId: 'a1', resources: Resources.parse('cpus:1;mem:64').toWire(), command: { value: 'true', environment: {} } };
    const { effects } = h.call({
      type: 'ACCEPT',
      frameworkId: 'f1',
      offerIds: [offerId],
      operations: [{ type: 'LAUNCH', tasks: [{ ...info, taskId: 'd' }, { ...info, taskId: 'd' }] }],
    });
    expect(toAgent(effects, 'a1')).toHaveLength(1);
    expect(published(effects, 'f1')).toMatchObject([{ taskId: 'd', state: S.ERROR }]);
    const { offerId: next } = h.offer('f1', 'a1', 'cpus:3;mem:4032');
    const later = h.launch('f1', next, { taskId: 'd', agentId: 'a1' });
    expect(published(later.effects, 'f1')[0]?.message).toContain('already used');
  });

  it('refuses a task naming another agent than the offer', () => {
    const { h, offerId } = withOffer();
    const { effects } = h.launch('f1', offerId, { taskId: 't1', agentId: 'a9' });
    expect(published(effects, 'f1')[0]).toMatchObject({ state: S.ERROR });
  });

  it('DECLINE returns the offer with a 5 s filter, or the one given', () => {
    const { h, offerId } = withOffer();
    const d = h.call({ type: 'DECLINE', frameworkId: 'f1', offerIds: [offerId] });
    expect(allocatorCalls(d.effects)).toMatchObject([{ op: 'recoverResources', refuseSeconds: 5 }]);
    const { offerId: o2 } = h.offer('f1', 'a1');
    const d2 = h.call({ type: 'DECLINE', frameworkId: 'f1', offerIds: [o2], filters: { refuseSeconds: 120 } });
    expect(allocatorCalls(d2.effects)).toMatchObject([{ refuseSeconds: 120 }]);
  });
});

describe('master core: status updates, kill, reconcile', () => {
  it('applies updates read from the stream, sends nothing on, and ends a task at its terminal update, recovering its resources', () => {
    const { h, offerId } = withOffer();
    h.launch('f1', offerId, { taskId: 't1', agentId: 'a1' });
    const running = h.update('a1', 'f1', 't1', S.RUNNING);
    expect(running.effects).toEqual([]); // frameworks read the stream themselves
    expect(h.core.state.tasks.get('f1/t1')).toMatchObject({ state: S.RUNNING, status: { uuid: running.uuid }, lastUpdateSeq: running.seq });
    const done = h.update('a1', 'f1', 't1', S.FINISHED);
    expect(allocatorCalls(done.effects)).toMatchObject([{ op: 'recoverResources', frameworkId: 'f1', agentId: 'a1' }]);
    expect(done.effects.filter((e) => e.kind !== 'allocator')).toEqual([]);
    expect(h.core.state.tasks.has('f1/t1')).toBe(false);
    expect(h.core.state.completedTasks.get('f1/t1')?.state).toBe(S.FINISHED);
  });

  it('ignores an update older (by stream sequence) than the last one applied, and an illegal transition', () => {
    const { h, offerId } = withOffer();
    h.launch('f1', offerId, { taskId: 't1', agentId: 'a1' });
    h.update('a1', 'f1', 't1', S.RUNNING, 'u-new', 12);
    // RUNNING → RUNNING is legal (health changes): only the sequence tells this one is stale
    h.update('a1', 'f1', 't1', S.RUNNING, 'u-old', 11);
    expect(h.core.state.tasks.get('f1/t1')).toMatchObject({ state: S.RUNNING, status: { uuid: 'u-new' }, lastUpdateSeq: 12 });
    h.update('a1', 'f1', 't1', S.STARTING, 'u-bad', 13);
    expect(h.core.state.tasks.get('f1/t1')).toMatchObject({ state: S.RUNNING, status: { uuid: 'u-new' } });
  });

  it('ignores updates of tasks it does not track, of another agent, and its own (applied when made)', () => {
    const { h, offerId } = withOffer();
    h.launch('f1', offerId, { taskId: 't1', agentId: 'a1' });
    expect(h.update('a1', 'gone', 't1', S.FINISHED).effects).toEqual([]);
    h.update('a9', 'f1', 't1', S.RUNNING);
    expect(h.core.state.tasks.get('f1/t1')?.state).toBe(S.STAGING);
    const own = h.core.onStatusUpdate('f1', { taskId: 't1', state: S.LOST, source: 'SOURCE_MASTER', uuid: 'update-x', timestamp: 1 }, 99, h.now);
    expect(own).toEqual([]);
    expect(h.core.state.tasks.get('f1/t1')?.state).toBe(S.STAGING);
  });

  it('sends KILL_TASK to the agent, and answers a kill of an unknown task itself', () => {
    const { h, offerId } = withOffer();
    h.launch('f1', offerId, { taskId: 't1', agentId: 'a1' });
    const k = h.call({ type: 'KILL', frameworkId: 'f1', taskId: 't1', gracePeriodMs: 500 });
    expect(toAgent(k.effects, 'a1')).toEqual([{ type: 'KILL_TASK', frameworkId: 'f1', taskId: 't1', gracePeriodMs: 500, epoch: EPOCH }]);
    const u = h.call({ type: 'KILL', frameworkId: 'f1', taskId: 'nope' });
    expect(updates(u.effects, 'f1')).toMatchObject([{ taskId: 'nope', state: S.LOST, reason: TaskReason.TASK_UNKNOWN }]);
  });

  it('answers explicit reconciliation as Mesos does', () => {
    const { h, offerId } = withOffer(['PARTITION_AWARE']);
    h.launch('f1', offerId, { taskId: 't1', agentId: 'a1' });
    h.update('a1', 'f1', 't1', S.RUNNING);
    const { effects } = h.call({
      type: 'RECONCILE',
      frameworkId: 'f1',
      tasks: [{ taskId: 't1' }, { taskId: 'x', agentId: 'a1' }, { taskId: 'y' }],
    });
    // known → latest; unknown on a registered agent → GONE; unknown elsewhere → UNKNOWN
    expect(updates(effects, 'f1').map((s) => [s.taskId, s.state, s.reason])).toEqual([
      ['t1', S.RUNNING, TaskReason.RECONCILIATION],
      ['x', S.GONE, TaskReason.RECONCILIATION],
      ['y', S.UNKNOWN, TaskReason.RECONCILIATION],
    ]);
  });

  it('does not answer for an unknown task that may be on an agent still expected back after a failover', () => {
    const h = new MasterHarness();
    h.core.recover({ agents: [{ info: { id: 'a1', hostname: 'a1.local', resources: Resources.parse('cpus:1').toWire(), attributes: {} }, admittedAt: 0 }], frameworks: [] }, h.now);
    h.registerAgent('a2');
    h.subscribe('f1');
    const { effects } = h.call({ type: 'RECONCILE', frameworkId: 'f1', tasks: [{ taskId: 'x', agentId: 'a1' }, { taskId: 'y' }, { taskId: 'z', agentId: 'a2' }] });
    // x may be on a1 (recovering), y anywhere; z would be on a2, which has reported its tasks
    expect(updates(effects, 'f1').map((s) => [s.taskId, s.state])).toEqual([['z', S.LOST]]);
  });

  it('answers implicit reconciliation with every live task, and LOST for unknown tasks to plain frameworks', () => {
    const { h, offerId } = withOffer();
    h.launch('f1', offerId, { taskId: 't1', agentId: 'a1' });
    expect(updates(h.call({ type: 'RECONCILE', frameworkId: 'f1', tasks: [] }).effects, 'f1')).toMatchObject([{ taskId: 't1', state: S.STAGING }]);
    expect(updates(h.call({ type: 'RECONCILE', frameworkId: 'f1', tasks: [{ taskId: 'zz' }] }).effects, 'f1')[0]?.state).toBe(S.LOST);
  });
});

describe('master core: registering again after a failover', () => {
  const a1 = { id: 'a1', hostname: 'a1.local', resources: Resources.parse('cpus:4;mem:4096').toWire(), attributes: {} };
  const registryOps = (effects: readonly { kind: string; op?: unknown }[]) => effects.flatMap((e) => (e.kind === 'registry' ? [e.op] : []));

  it('writes nothing to the registry for an agent it holds unchanged; a changed, unreachable or new one is written', () => {
    const h = new MasterHarness();
    h.core.recover({ agents: [{ info: a1, admittedAt: 5 }, { info: { ...a1, id: 'a2', hostname: 'a2.local' }, admittedAt: 6, unreachableSince: 7 }], frameworks: [] }, h.now);
    expect(registryOps(h.registerAgent('a1').effects)).toEqual([]);
    expect(h.core.state.agents.get('a1')).toMatchObject({ status: 'active', registeredAtMs: 5 });
    // back from unreachable: the mark is cleared in the registry
    expect(registryOps(h.registerAgent('a2').effects)).toEqual([{ op: 'put-agent', agent: expect.not.objectContaining({ unreachableSince: expect.anything() }) }]);
    // other resources than recorded: written
    expect(registryOps(h.registerAgent('a1', 'cpus:8;mem:4096').effects)).toEqual([{ op: 'put-agent', agent: expect.objectContaining({ admittedAt: 5 }) }]);
    expect(registryOps(h.registerAgent('a3').effects)).toEqual([{ op: 'put-agent', agent: expect.objectContaining({ admittedAt: h.now }) }]);
  });

  it('rebuilds each reported task with its own resources, equal neighbours or not', () => {
    const h = new MasterHarness();
    const big = Resources.parse('cpus:16;mem:65536;ports:[31000-32000]').toWire();
    h.core.recover({ agents: [{ info: { ...a1, resources: big }, admittedAt: 5 }], frameworks: [] }, h.now);
    const asking = (taskId: string, resources: string) => ({
      frameworkId: 'f1',
      task: { taskId, name: taskId, agentId: 'a1', resources: Resources.parse(resources).toWire(), command: { value: 'true', environment: {} } },
      state: S.RUNNING,
    });
    const asked: Array<[string, string]> = [
      ['t1', 'cpus:1;mem:128'],
      ['t2', 'cpus:1;mem:128'],
      ['t3', 'cpus:2;mem:128'],
      ['t4', 'cpus:1;mem:128'],
      ['t5', 'cpus:1;mem:128;ports:[31000-31001]'],
      ['t6', 'cpus:1;mem:128;ports:[31002-31003]'],
      ['t7', 'cpus:1;mem:256'],
    ];
    const { effects } = h.agent({ type: 'REGISTER_AGENT', agent: { ...a1, resources: big }, tasks: asked.map(([id, r]) => asking(id, r)) });
    for (const [id, r] of asked) expect(h.core.state.tasks.get(`f1/${id}`)?.resources.toString()).toBe(r);
    const add = allocatorCalls(effects).find((c) => c.op === 'addAgent');
    expect(add?.op === 'addAgent' && add.used.get('f1')?.toString()).toBe('cpus:8;mem:1024;ports:[31000-31003]');
  });

  it('keeps a drain in the registry when a draining agent registers again with other info', () => {
    const h = new MasterHarness();
    h.core.recover({ agents: [{ info: a1, admittedAt: 5, deactivated: true, draining: true, goneWhenDrained: true }], frameworks: [] }, h.now);
    expect(registryOps(h.registerAgent('a1', 'cpus:8;mem:4096').effects)).toEqual([
      { op: 'put-agent', agent: expect.objectContaining({ deactivated: true, draining: true, goneWhenDrained: true }) },
    ]);
  });
});
