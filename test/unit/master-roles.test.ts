// Roles in the master's pure core: weights and quota from operators (checked, kept in the
// registry, replayed after failover), offers per role, SUPPRESS/REVIVE per role, and
// reservations and volumes made through ACCEPT, which survive the agent registering again.
import { describe, expect, it } from 'vitest';
import { Rejection } from '../../actors/runtime/actor.js';
import type { MasterEffect } from '../../actors/master/effects.js';
import { Resources } from '../../protocol/resources.js';
import { MasterHarness, allocatorCalls, events, toAgent, updates } from '../harness/master-harness.js';

function registryOps(effects: readonly MasterEffect[]) {
  return effects.flatMap((e) => (e.kind === 'registry' ? [e.op] : []));
}

/** Agent a1 (cpus:4;mem:4096;disk:1000) and framework f1 in role `eng`, with one offer of the whole agent for `eng`. */
function engOffer() {
  const h = new MasterHarness();
  h.registerAgent('a1', 'cpus:4;mem:4096;disk:1000');
  h.call({ type: 'SUBSCRIBE', framework: { id: 'f1', name: 'f1', principal: 'p', roles: ['eng'], capabilities: ['MULTI_ROLE'], failoverTimeoutSeconds: 0 } });
  const effects = h.core.onAllocations([{ frameworkId: 'f1', agentId: 'a1', role: 'eng', resources: Resources.parse('cpus:4;mem:4096;disk:1000') }], h.now);
  const offer = events(effects, 'f1').find((e) => e.type === 'OFFERS');
  const offerId = offer?.type === 'OFFERS' ? offer.offers[0]!.id : '';
  return { h, offerId, offer };
}

describe('weights and quota', () => {
  it('UPDATE_WEIGHTS sets each weight in the allocator and the registry', () => {
    const h = new MasterHarness();
    const { effects } = h.core.onOperatorCall({ type: 'UPDATE_WEIGHTS', weights: [{ role: 'eng', weight: 2 }, { role: 'ops/web', weight: 0.5 }] }, h.now);
    expect(allocatorCalls(effects)).toEqual([
      { op: 'setWeight', role: 'eng', weight: 2 },
      { op: 'setWeight', role: 'ops/web', weight: 0.5 },
    ]);
    expect(registryOps(effects)).toContainEqual({ op: 'put-role', role: { role: 'eng', weight: 2 } });
    expect(h.core.state.roles.get('ops/web')).toEqual({ weight: 0.5 });
  });

  it('refuses a bad role or weight, and sets nothing then', () => {
    const h = new MasterHarness();
    expect(() => h.core.onOperatorCall({ type: 'UPDATE_WEIGHTS', weights: [{ role: 'eng', weight: 2 }, { role: 'bad role', weight: 1 }] }, h.now)).toThrow(Rejection);
    expect(h.core.state.roles.size).toBe(0);
  });

  it('UPDATE_QUOTA sets guarantees and limits; a role given neither loses its quota', () => {
    const h = new MasterHarness();
    const set = h.core.onOperatorCall({ type: 'UPDATE_QUOTA', quotas: [{ role: 'eng', guarantee: 'cpus:2;mem:1024', limit: 'cpus:4;mem:2048' }] }, h.now);
    expect(allocatorCalls(set.effects)).toEqual([{ op: 'setQuota', role: 'eng', quota: { guarantees: { cpus: 2, mem: 1024 }, limits: { cpus: 4, mem: 2048 } } }]);
    expect(h.core.state.roles.get('eng')).toEqual({ guarantee: 'cpus:2;mem:1024', limit: 'cpus:4;mem:2048' });
    const cleared = h.core.onOperatorCall({ type: 'UPDATE_QUOTA', quotas: [{ role: 'eng' }] }, h.now);
    expect(allocatorCalls(cleared.effects)).toEqual([{ op: 'removeQuota', role: 'eng' }]);
    expect(registryOps(cleared.effects)).toEqual([{ op: 'delete-role', role: 'eng' }]);
  });

  it('refuses a limit below the guarantee, and quota on a nested role', () => {
    const h = new MasterHarness();
    // limit cpus:1 < guarantee cpus:2
    expect(() => h.core.onOperatorCall({ type: 'UPDATE_QUOTA', quotas: [{ role: 'eng', guarantee: 'cpus:2', limit: 'cpus:1' }] }, h.now)).toThrow(Rejection);
    expect(() => h.core.onOperatorCall({ type: 'UPDATE_QUOTA', quotas: [{ role: 'eng/web', guarantee: 'cpus:1' }] }, h.now)).toThrow(/top-level/);
  });

  it('gives the registry\'s weights and quota to the allocator again after a failover', () => {
    const h = new MasterHarness();
    const effects = h.core.recover({ agents: [], frameworks: [], roles: [{ role: 'eng', weight: 3, guarantee: 'cpus:1' }] }, h.now);
    expect(allocatorCalls(effects)).toEqual([
      { op: 'setWeight', role: 'eng', weight: 3 },
      { op: 'setQuota', role: 'eng', quota: { guarantees: { cpus: 1 } } },
    ]);
  });
});

describe('offers per role', () => {
  it('an offer carries its role, and tasks launched on it run in that role', () => {
    const { h, offerId, offer } = engOffer();
    expect(offer?.type === 'OFFERS' && offer.offers[0]?.role).toBe('eng');
    const { effects } = h.launch('f1', offerId, { taskId: 't1', agentId: 'a1' });
    expect(allocatorCalls(effects)).toContainEqual(expect.objectContaining({ op: 'offerAccepted', role: 'eng' }));
    expect(allocatorCalls(effects)).toContainEqual(expect.objectContaining({ op: 'recoverResources', role: 'eng' }));
    expect(h.core.state.tasks.get('f1/t1')?.role).toBe('eng');
  });

  it('SUPPRESS of one role stops its offers only; a role the framework does not have is refused', () => {
    const { h } = engOffer();
    expect(() => h.call({ type: 'SUPPRESS', frameworkId: 'f1', roles: ['ops'] })).toThrow(/did not subscribe with role/);
    const { effects } = h.call({ type: 'SUPPRESS', frameworkId: 'f1', roles: ['eng'] });
    expect(allocatorCalls(effects)).toEqual([{ op: 'suppress', frameworkId: 'f1', roles: ['eng'] }]);
    const later = h.core.onAllocations([{ frameworkId: 'f1', agentId: 'a1', role: 'eng', resources: Resources.parse('cpus:1') }], h.now);
    expect(events(later, 'f1')).toEqual([]);
    h.call({ type: 'REVIVE', frameworkId: 'f1', roles: ['eng'] });
    expect(h.core.state.frameworks.get('f1')?.suppressedRoles.size).toBe(0);
  });
});

describe('reservations and volumes through ACCEPT', () => {
  it('RESERVE then LAUNCH on the reservation: the agent keeps it, the registry too', () => {
    const { h, offerId } = engOffer();
    const reserved = Resources.parse('cpus(eng,dynamic):2;mem(eng,dynamic):1024');
    const { effects } = h.call({
      type: 'ACCEPT',
      frameworkId: 'f1',
      offerIds: [offerId],
      operations: [
        { type: 'RESERVE', resources: reserved.toWire() },
        { type: 'LAUNCH', tasks: [{ taskId: 't1', name: 't1', agentId: 'a1', resources: Resources.parse('cpus(eng,dynamic):1;mem(eng,dynamic):128').toWire(), command: { value: 'true', environment: {} } }] },
      ],
    });
    // the agent is told what it now holds (CHECKPOINT_RESOURCES), then gets the task
    expect(toAgent(effects, 'a1').map((m) => m.type)).toEqual(['CHECKPOINT_RESOURCES', 'RUN_TASK']);
    expect(toAgent(effects, 'a1')[0]).toMatchObject({ type: 'CHECKPOINT_RESOURCES', resources: reserved.toWire() });
    expect(toAgent(effects, 'a1')[1]).toMatchObject({ type: 'RUN_TASK', task: { taskId: 't1' } });
    expect(allocatorCalls(effects)[0]).toMatchObject({ op: 'applyOperation', agentId: 'a1', frameworkId: 'f1', role: 'eng' });
    // The agent now holds cpus:2 unreserved + cpus(eng,dynamic):2 (4 in all).
    const agent = h.core.state.agents.get('a1')!;
    expect(agent.total.scalar('cpus', 'eng')).toBe(2);
    expect(agent.total.scalar('cpus', '*')).toBe(2);
    const put = registryOps(effects).find((o) => o.op === 'put-agent');
    expect(put?.op === 'put-agent' && Resources.fromWire(put.agent.checkpointed ?? []).equals(reserved)).toBe(true);
    // The rest — cpus(eng,dynamic):1;mem(eng,dynamic):896 and the unreserved remainder — goes back.
    const rest = allocatorCalls(effects).find((c) => c.op === 'recoverResources');
    expect(rest?.op === 'recoverResources' && rest.resources.scalar('cpus')).toBe(3);
  });

  it('the reservation survives the agent registering again with its static resources', () => {
    const { h, offerId } = engOffer();
    h.call({ type: 'ACCEPT', frameworkId: 'f1', offerIds: [offerId], operations: [{ type: 'RESERVE', resources: Resources.parse('disk(eng,dynamic):600').toWire() }] });
    h.registerAgent('a1', 'cpus:4;mem:4096;disk:1000');
    const agent = h.core.state.agents.get('a1')!;
    // disk: 400 unreserved + 600 reserved to eng
    expect(agent.total.scalar('disk', '*')).toBe(400);
    expect(agent.total.scalar('disk', 'eng')).toBe(600);
  });

  it('refuses a RESERVE for another role than the offer\'s, changing nothing', () => {
    const { h, offerId } = engOffer();
    const { effects } = h.call({ type: 'ACCEPT', frameworkId: 'f1', offerIds: [offerId], operations: [{ type: 'RESERVE', resources: Resources.parse('cpus(ops,dynamic):1').toWire() }] });
    expect(allocatorCalls(effects).map((c) => c.op)).toEqual(['recoverResources']);
    expect(h.core.state.agents.get('a1')!.total.scalar('cpus', 'ops')).toBe(0);
  });

  it('CREATE makes a persistent volume on reserved disk', () => {
    const { h, offerId } = engOffer();
    const { effects } = h.call({
      type: 'ACCEPT',
      frameworkId: 'f1',
      offerIds: [offerId],
      operations: [
        { type: 'RESERVE', resources: Resources.parse('disk(eng,dynamic):500').toWire() },
        { type: 'CREATE', volumes: Resources.parse('disk(eng,dynamic)[data1:var/data]:500').toWire() },
      ],
    });
    expect(allocatorCalls(effects).filter((c) => c.op === 'applyOperation').map((c) => c.op === 'applyOperation' && c.operation.type)).toEqual(['RESERVE', 'CREATE']);
    expect(h.core.state.agents.get('a1')!.total.volumes().scalar('disk')).toBe(500);
    // No task was involved: the framework hears nothing.
    expect(updates(effects, 'f1')).toEqual([]);
  });
});
