// Maintenance on the master's pure core (Mesos's maintenance primitives): the schedule puts
// agents in DRAINING (offers carry unavailability), START_MAINTENANCE takes them DOWN (tasks
// ended, no offers, registration refused), STOP_MAINTENANCE brings them UP; refusals are
// typed; the schedule and DOWN agents go to the registry and come back after a failover.
import { describe, expect, it } from 'vitest';
import { decode, encode } from '../../protocol/codec.js';
import type { MasterEffect } from '../../actors/master/effects.js';
import { MAX_SCHEDULED_AGENTS } from '../../actors/master/maintenance.js';
import { RegistryEntry, contentsOf, registryWrite, type RegistryOp } from '../../actors/master/registry.js';
import { Resources } from '../../protocol/resources.js';
import { TaskState as S } from '../../protocol/task-state.js';
import { MaintenanceStatusReply } from '../../protocol/operator-api.js';
import { EPOCH, MasterHarness, allocatorCalls, events, published, rejection, toAgent } from '../harness/master-harness.js';

const HOUR = 3_600_000;

/** Agents a1 and a2; framework f1 (PARTITION_AWARE when `aware`) runs task t1 on a1. */
function cluster(aware = true) {
  const h = new MasterHarness();
  h.registerAgent('a1');
  h.registerAgent('a2');
  h.subscribe('f1', aware ? ['PARTITION_AWARE'] : []);
  const { offerId } = h.offer('f1', 'a1', 'cpus:2;mem:1024');
  h.launch('f1', offerId, { taskId: 't1', agentId: 'a1' });
  h.update('a1', 'f1', 't1', S.RUNNING);
  return h;
}

function schedule(h: MasterHarness, agentIds: string[], start = h.now + HOUR, durationMs = 2 * HOUR) {
  return h.operator({ type: 'UPDATE_MAINTENANCE_SCHEDULE', windows: [{ agentIds, start, durationMs }] });
}

/** Each scheduled agent's mode (the inverse offer answers are tested in master-inverse-offers.test.ts). */
function status(h: MasterHarness) {
  const { reply } = h.operator({ type: 'GET_MAINTENANCE_STATUS' });
  return reply.type === 'MAINTENANCE_STATUS' ? MaintenanceStatusReply.parse(reply).agents.map(({ agentId, mode }) => ({ agentId, mode })) : [];
}

function registryOps(effects: readonly MasterEffect[]): RegistryOp[] {
  return effects.flatMap((e) => (e.kind === 'registry' ? [e.op] : []));
}

describe('maintenance schedule (UP → DRAINING)', () => {
  it('a scheduled agent is DRAINING; GET_MAINTENANCE_SCHEDULE answers the windows; the registry gets them', () => {
    const h = cluster();
    const start = h.now + HOUR;
    const { reply, effects } = schedule(h, ['a1'], start);
    expect(reply).toEqual({ type: 'OK', epoch: EPOCH });
    expect(status(h)).toEqual([{ agentId: 'a1', mode: 'DRAINING' }]);
    expect(h.operator({ type: 'GET_MAINTENANCE_SCHEDULE' }).reply).toEqual({
      type: 'MAINTENANCE_SCHEDULE',
      epoch: EPOCH,
      windows: [{ agentIds: ['a1'], start, durationMs: 2 * HOUR }],
    });
    expect(registryOps(effects)).toEqual([{ op: 'put-maintenance', maintenance: { windows: [{ agentIds: ['a1'], start, durationMs: 2 * HOUR }], down: [] } }]);
    // A DRAINING agent keeps running its tasks.
    expect(h.core.state.tasks.get('f1/t1')?.state).toBe(S.RUNNING);
  });

  it('offers of a DRAINING agent carry its window as unavailability; other agents\' offers do not', () => {
    const h = cluster();
    const start = h.now + HOUR;
    schedule(h, ['a1'], start);
    const effects = h.core.onAllocations(
      [
        { frameworkId: 'f1', agentId: 'a1', resources: Resources.parse('cpus:1') },
        { frameworkId: 'f1', agentId: 'a2', resources: Resources.parse('cpus:1') },
      ],
      h.now,
    );
    const offers = events(effects, 'f1').flatMap((e) => (e.type === 'OFFERS' ? e.offers : []));
    expect(offers.map((o) => [o.agentId, o.unavailability])).toEqual([
      ['a1', { start, durationMs: 2 * HOUR }],
      ['a2', undefined],
    ]);
  });

  it('scheduling (or unscheduling) an agent rescinds its outstanding offers so that they come back with (or without) unavailability', () => {
    const h = cluster();
    const { offerId } = h.offer('f1', 'a1', 'cpus:1');
    const { effects } = schedule(h, ['a1']);
    expect(events(effects, 'f1')).toContainEqual({ type: 'RESCIND', offerId, epoch: EPOCH });
    expect(allocatorCalls(effects)).toContainEqual(expect.objectContaining({ op: 'recoverResources', agentId: 'a1', resources: Resources.parse('cpus:1') }));
    const again = h.offer('f1', 'a1', 'cpus:1');
    const cleared = h.operator({ type: 'UPDATE_MAINTENANCE_SCHEDULE', windows: [] });
    expect(events(cleared.effects, 'f1')).toContainEqual({ type: 'RESCIND', offerId: again.offerId, epoch: EPOCH });
    expect(status(h)).toEqual([]);
  });

  it('an unchanged window leaves the agent\'s offers alone', () => {
    const h = cluster();
    const start = h.now + HOUR;
    schedule(h, ['a1'], start);
    h.offer('f1', 'a1', 'cpus:1');
    const { effects } = h.operator({
      type: 'UPDATE_MAINTENANCE_SCHEDULE',
      windows: [
        { agentIds: ['a1'], start, durationMs: 2 * HOUR },
        { agentIds: ['a2'], start, durationMs: HOUR },
      ],
    });
    expect(events(effects, 'f1').filter((e) => e.type === 'RESCIND')).toEqual([]);
  });

  it('an agent may be in one window only (INVALID), and the schedule is bounded', () => {
    const h = cluster();
    const twice = rejection(() =>
      h.operator({
        type: 'UPDATE_MAINTENANCE_SCHEDULE',
        windows: [
          { agentIds: ['a1'], start: 0, durationMs: 1 },
          { agentIds: ['a2', 'a1'], start: 5, durationMs: 1 },
        ],
      }),
    );
    expect(twice.code).toBe('INVALID');
    expect(twice.message).toMatch(/a1 is in more than one/);
    const many = Array.from({ length: MAX_SCHEDULED_AGENTS + 1 }, (_, i) => `x${i}`);
    expect(rejection(() => schedule(h, many)).code).toBe('INVALID');
    expect(status(h)).toEqual([]);
  });
});

describe('START_MAINTENANCE (DRAINING → DOWN)', () => {
  it('takes the agent DOWN: its task is killed and GONE_BY_OPERATOR, its offers go, it leaves the allocator, frameworks get FAILURE', () => {
    const h = cluster(true);
    const { offerId } = h.offer('f1', 'a1', 'cpus:1');
    schedule(h, ['a1']);
    h.offer('f1', 'a1', 'cpus:1'); // offered again, with unavailability
    const { reply, effects } = h.operator({ type: 'START_MAINTENANCE', agentIds: ['a1'] });
    expect(reply).toEqual({ type: 'OK', epoch: EPOCH });
    expect(status(h)).toEqual([{ agentId: 'a1', mode: 'DOWN' }]);
    expect(h.core.state.agents.get('a1')?.status).toBe('down');
    expect(toAgent(effects, 'a1')).toEqual([{ type: 'KILL_TASK', frameworkId: 'f1', taskId: 't1', epoch: EPOCH }]);
    expect(published(effects, 'f1')).toMatchObject([{ taskId: 't1', state: S.GONE_BY_OPERATOR, reason: 'REASON_AGENT_REMOVED' }]);
    expect(h.core.state.completedTasks.get('f1/t1')?.state).toBe(S.GONE_BY_OPERATOR);
    expect(events(effects, 'f1').filter((e) => e.type === 'RESCIND')).toHaveLength(1);
    expect(events(effects, 'f1')).toContainEqual({ type: 'FAILURE', agentId: 'a1', epoch: EPOCH });
    expect(allocatorCalls(effects).map((c) => c.op)).toEqual(['removeAgent']);
    expect(h.core.state.offers.has(offerId)).toBe(false);
    expect(registryOps(effects)).toContainEqual({ op: 'put-maintenance', maintenance: expect.objectContaining({ down: ['a1'] }) });
  });

  it('tasks of frameworks that are not partition-aware become TASK_LOST', () => {
    const h = cluster(false);
    schedule(h, ['a1']);
    const { effects } = h.operator({ type: 'START_MAINTENANCE', agentIds: ['a1'] });
    expect(published(effects, 'f1')).toMatchObject([{ taskId: 't1', state: S.LOST }]);
  });

  it('a DOWN agent gets no offers, its heartbeats are not taken and its registration is refused AGENT_DOWN', () => {
    const h = cluster();
    schedule(h, ['a1']);
    h.operator({ type: 'START_MAINTENANCE', agentIds: ['a1'] });
    // A decision the allocator made before the agent went down is not offered.
    const late = h.core.onAllocations([{ frameworkId: 'f1', agentId: 'a1', resources: Resources.parse('cpus:1') }], h.now);
    expect(events(late, 'f1')).toEqual([]);
    expect(rejection(() => h.agent({ type: 'HEARTBEAT', agentId: 'a1' })).code).toBe('UNKNOWN_AGENT');
    const refused = rejection(() => h.registerAgent('a1'));
    expect(refused.code).toBe('AGENT_DOWN');
    expect(refused.message).toMatch(/nesos maintenance stop a1/);
    // Silence of a DOWN agent does not make it unreachable.
    h.now += 60_000;
    h.core.onTick(h.now);
    expect(h.core.state.agents.get('a1')?.status).toBe('down');
  });

  it('refuses an agent that is not scheduled, or already DOWN, with WRONG_MODE, and then takes none down', () => {
    const h = cluster();
    schedule(h, ['a1']);
    const unscheduled = rejection(() => h.operator({ type: 'START_MAINTENANCE', agentIds: ['a1', 'a2'] }));
    expect(unscheduled.code).toBe('WRONG_MODE');
    expect(unscheduled.message).toMatch(/a2 is not in the maintenance schedule/);
    expect(h.core.state.agents.get('a1')?.status).toBe('active');
    expect(status(h)).toEqual([{ agentId: 'a1', mode: 'DRAINING' }]);
    h.operator({ type: 'START_MAINTENANCE', agentIds: ['a1'] });
    expect(rejection(() => h.operator({ type: 'START_MAINTENANCE', agentIds: ['a1'] })).code).toBe('WRONG_MODE');
  });

  it('a DOWN agent must stay in the schedule (WRONG_MODE); its window may change', () => {
    const h = cluster();
    schedule(h, ['a1']);
    h.operator({ type: 'START_MAINTENANCE', agentIds: ['a1'] });
    expect(rejection(() => h.operator({ type: 'UPDATE_MAINTENANCE_SCHEDULE', windows: [] })).code).toBe('WRONG_MODE');
    schedule(h, ['a1', 'a2'], h.now, HOUR);
    expect(status(h)).toEqual([
      { agentId: 'a1', mode: 'DOWN' },
      { agentId: 'a2', mode: 'DRAINING' },
    ]);
  });

  it('an agent never seen may be scheduled and taken down: it may not register', () => {
    const h = cluster();
    schedule(h, ['new-agent']);
    h.operator({ type: 'START_MAINTENANCE', agentIds: ['new-agent'] });
    expect(rejection(() => h.registerAgent('new-agent')).code).toBe('AGENT_DOWN');
  });
});

describe('STOP_MAINTENANCE (DOWN → UP)', () => {
  it('brings the agent UP and out of the schedule; it registers again and is offered again', () => {
    const h = cluster();
    h.operator({
      type: 'UPDATE_MAINTENANCE_SCHEDULE',
      windows: [
        { agentIds: ['a1'], start: h.now, durationMs: HOUR },
        { agentIds: ['a2'], start: h.now, durationMs: HOUR },
      ],
    });
    h.operator({ type: 'START_MAINTENANCE', agentIds: ['a1'] });
    const { reply, effects } = h.operator({ type: 'STOP_MAINTENANCE', agentIds: ['a1'] });
    expect(reply).toEqual({ type: 'OK', epoch: EPOCH });
    expect(status(h)).toEqual([{ agentId: 'a2', mode: 'DRAINING' }]);
    const windows = h.operator({ type: 'GET_MAINTENANCE_SCHEDULE' }).reply;
    expect(windows).toMatchObject({ windows: [{ agentIds: ['a2'] }] }); // a1's window, left empty, is dropped
    expect(registryOps(effects)).toEqual([{ op: 'put-maintenance', maintenance: { windows: [{ agentIds: ['a2'], start: h.now, durationMs: HOUR }], down: [] } }]);
    expect(h.core.state.agents.get('a1')?.status).toBe('unreachable'); // until it registers
    const registered = h.registerAgent('a1');
    expect(registered.reply).toMatchObject({ type: 'AGENT_REGISTERED', agentId: 'a1' });
    expect(allocatorCalls(registered.effects).map((c) => c.op)).toEqual(['addAgent']);
    const offered = h.offer('f1', 'a1', 'cpus:1');
    const offer = events(offered.effects, 'f1').flatMap((e) => (e.type === 'OFFERS' ? e.offers : []))[0];
    expect(offer?.unavailability).toBeUndefined();
  });

  it('refuses agents that are not DOWN with WRONG_MODE', () => {
    const h = cluster();
    expect(rejection(() => h.operator({ type: 'STOP_MAINTENANCE', agentIds: ['a1'] })).message).toMatch(/a1 is UP, not DOWN/);
    schedule(h, ['a1']);
    expect(rejection(() => h.operator({ type: 'STOP_MAINTENANCE', agentIds: ['a1'] })).code).toBe('WRONG_MODE');
  });

  it('an agent that kept running the task killed for maintenance is told to kill it again when it registers', () => {
    const h = cluster();
    schedule(h, ['a1']);
    h.operator({ type: 'START_MAINTENANCE', agentIds: ['a1'] });
    h.operator({ type: 'STOP_MAINTENANCE', agentIds: ['a1'] });
    const t1 = h.core.state.completedTasks.get('f1/t1')!;
    const { effects } = h.agent({
      type: 'REGISTER_AGENT',
      agent: h.core.state.agents.get('a1')!.info,
      tasks: [{ frameworkId: 'f1', task: t1.info, state: S.RUNNING }],
    });
    expect(toAgent(effects, 'a1')).toEqual([
      { type: 'KILL_TASK', frameworkId: 'f1', taskId: 't1', epoch: EPOCH },
      { type: 'CHECKPOINT_RESOURCES', resources: [], epoch: EPOCH }, // sent after every registration
    ]);
  });
});

describe('maintenance across failover', () => {
  /** The registry as a new leader loads it: every registry write, encoded and decoded, last per key. */
  function registryAfter(effects: readonly MasterEffect[]) {
    const byKey = new Map<string, RegistryEntry>();
    for (const o of registryOps(effects)) {
      const { key, value } = registryWrite(o);
      if (value === undefined) byKey.delete(key);
      else {
        const decoded = decode(RegistryEntry, encode(value));
        if (!decoded.ok) throw decoded.error;
        byKey.set(key, decoded.value);
      }
    }
    return contentsOf(byKey.values());
  }

  it('a new leader keeps the schedule and the DOWN agents: still DOWN, still refused', () => {
    const h = cluster();
    const all: MasterEffect[] = [...h.registerAgent('a3').effects];
    all.push(...h.operator({ type: 'UPDATE_MAINTENANCE_SCHEDULE', windows: [{ agentIds: ['a1', 'a3'], start: h.now, durationMs: HOUR }] }).effects);
    all.push(...h.operator({ type: 'START_MAINTENANCE', agentIds: ['a1'] }).effects);
    const contents = registryAfter([...h.core.recover({ agents: [], frameworks: [] }, h.now), ...all]);
    // a1's own record came from its registration in `cluster`, before `all`: add it as the registry holds it.
    contents.agents.push({ info: h.core.state.agents.get('a1')!.info, admittedAt: 0 });
    const next = new MasterHarness();
    next.core.recover(contents, next.now);
    expect(status(next)).toEqual([
      { agentId: 'a1', mode: 'DOWN' },
      { agentId: 'a3', mode: 'DRAINING' },
    ]);
    expect(next.core.state.agents.get('a1')?.status).toBe('down');
    expect(next.core.state.agents.get('a3')?.status).toBe('recovering');
    expect(rejection(() => next.registerAgent('a1')).code).toBe('AGENT_DOWN');
    // A DOWN agent is not waited for: the re-registration timeout does not make it unreachable.
    next.now += next.core.config.agentReregisterTimeoutMs + 1;
    next.core.onTick(next.now);
    expect(next.core.state.agents.get('a1')?.status).toBe('down');
    next.operator({ type: 'STOP_MAINTENANCE', agentIds: ['a1'] });
    expect(next.registerAgent('a1').reply).toMatchObject({ type: 'AGENT_REGISTERED' });
  });
});
