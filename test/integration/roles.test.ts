// Roles on a real cluster: two frameworks get offers in DRF order; operators set weights
// and quota and reserve resources for a role through the operator API; reserved resources
// reach only their role; settings survive a master failover.
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scheduler, type Offer } from '../../actors/scheduler/index.js';
import { silentLogger } from '../../actors/runtime/logger.js';
import { request } from '../../actors/runtime/request.js';
import { OperatorApiReply, type OperatorApiCall } from '../../protocol/operator-api.js';
import { Resources } from '../../protocol/resources.js';
import { Subjects } from '../../protocol/subjects.js';
import { TestCluster } from '../helpers/cluster.js';
import { signalGroup } from '../helpers/processes.js';

let cluster: TestCluster;
let nc: NatsConnection;

beforeAll(async () => {
  cluster = await TestCluster.start({
    masters: 2,
    agents: 1,
    agentResources: 'cpus:4;mem:4096;disk:1024;ports:[31000-31010]',
    masterArgs: ['--lease-ms', '1000', '--renew-interval-ms', '100', '--allocation-interval', '200'],
  });
  nc = await cluster.connect();
});

afterAll(async () => {
  await cluster?.stop();
});

async function operator(call: OperatorApiCall): Promise<OperatorApiReply> {
  return request(nc, new Subjects(cluster.name).operatorCall('ops'), call, OperatorApiReply, { timeoutMs: 5000, attempts: 5 });
}

function connect(name: string, roles: string[] = ['*']): Promise<Scheduler> {
  return Scheduler.connect({
    servers: cluster.natsUrl,
    cluster: cluster.name,
    framework: { name, roles, capabilities: roles.length > 1 ? ['MULTI_ROLE'] : [] },
    logger: silentLogger(),
  });
}

/** The next offer a framework receives (rejecting after `timeoutMs`). */
function nextOffer(sched: Scheduler, timeoutMs = 10_000): Promise<Offer> {
  return sched.waitForOffer('cpus:0.01', { timeoutMs });
}

describe('roles on a real cluster', () => {
  it('offers go in DRF order: when both want the free resources, the framework holding less gets them', async () => {
    const a = await connect('drf-a');
    let b: Scheduler | undefined;
    try {
      // a takes cpus:2;mem:1024 of cpus:4;mem:4096 and, from then on, declines everything
      // with no filter, so that it always competes for what is free.
      const first = await nextOffer(a);
      await a.launch(first, [{ name: 'hold', command: 'sleep 30', resources: 'cpus:2;mem:1024' }], { refuseSeconds: 0 });
      a.on('offers', async (offers) => {
        await a.decline(offers.map((o) => o.id), { refuseSeconds: 0 }).catch(() => undefined);
      });
      b = await connect('drf-b');
      // shares: a = max(2/4, 1024/4096) = .5, b = 0 → b wins the free cpus:2;mem:3072.
      const offerToB = await nextOffer(b);
      expect(Resources.fromWire(offerToB.resources).scalar('cpus')).toBe(2);
      expect(Resources.fromWire(offerToB.resources).scalar('mem')).toBe(3072);
      const state = await cluster.state();
      expect(state.frameworks.find((f) => f.id === a.frameworkId)?.share).toBeCloseTo(0.5, 3);
    } finally {
      for (const s of [a, b]) {
        if (s === undefined) continue;
        await s.teardown().catch(() => undefined);
        await s.close();
      }
    }
  });

  it('sets and reads weights and quota through the operator API', async () => {
    expect(await operator({ type: 'UPDATE_WEIGHTS', weights: [{ role: 'analytics', weight: 2 }] })).toMatchObject({ type: 'OK' });
    expect(await operator({ type: 'UPDATE_QUOTA', quotas: [{ role: 'analytics', guarantee: 'cpus:1;mem:256', limit: 'cpus:3;mem:2048' }] })).toMatchObject({ type: 'OK' });
    expect(await operator({ type: 'GET_WEIGHTS' })).toMatchObject({ type: 'WEIGHTS', weights: [{ role: 'analytics', weight: 2 }] });
    const quota = await operator({ type: 'GET_QUOTA' });
    expect(quota).toMatchObject({ type: 'QUOTA', quotas: [{ role: 'analytics', guarantee: 'cpus:1;mem:256', limit: 'cpus:3;mem:2048' }] });
    const bad = await operator({ type: 'UPDATE_QUOTA', quotas: [{ role: 'analytics', guarantee: 'cpus:2', limit: 'cpus:1' }] });
    expect(bad).toMatchObject({ type: 'REJECTED', code: 'INVALID' });
  });

  it('reserved resources reach only their role', async () => {
    const agentId = (await cluster.state()).agents[0]!.id;
    const reserved = await operator({ type: 'RESERVE_RESOURCES', agentId, resources: 'cpus(analytics,dynamic):1;mem(analytics,dynamic):512' });
    expect(reserved).toMatchObject({ type: 'OK' });
    const analytics = await connect('analytics-fw', ['analytics']);
    let star: Scheduler | undefined;
    try {
      const toAnalytics = await nextOffer(analytics);
      expect(toAnalytics.role).toBe('analytics');
      expect(Resources.fromWire(toAnalytics.resources).scalar('cpus', 'analytics')).toBe(1);
      await analytics.decline([toAnalytics.id], { refuseSeconds: 60 });
      star = await connect('unreserved-only');
      const toStar = await nextOffer(star);
      const r = Resources.fromWire(toStar.resources);
      // The '*' framework gets the unreserved cpus:3;mem:3584, never the analytics reservation.
      expect(r.reserved().isEmpty()).toBe(true);
      expect(r.scalar('cpus')).toBe(3);
      const explained = await operator({ type: 'EXPLAIN_OFFERS', frameworkId: star.frameworkId, resources: 'cpus:100' });
      expect(explained.type === 'EXPLANATION' && explained.explanations[0]?.reasons).toContain('NO_AGENT_WITH_ENOUGH');
    } finally {
      for (const s of [star, analytics]) {
        if (s === undefined) continue;
        await s.teardown().catch(() => undefined);
        await s.close();
      }
    }
  });

  it('weights, quota and reservations survive a master failover', async () => {
    const leader = await cluster.leader();
    signalGroup(leader, 'SIGKILL');
    await cluster.waitFor((s) => s.masterId !== leader.name && s.agents.some((a) => a.status === 'active'), 15_000);
    expect(await operator({ type: 'GET_WEIGHTS' })).toMatchObject({ type: 'WEIGHTS', weights: [{ role: 'analytics', weight: 2 }] });
    const roles = await operator({ type: 'GET_ROLES' });
    expect(roles.type === 'ROLES' && roles.roles.find((r) => r.name === 'analytics')?.quota?.guarantee).toBe('cpus:1;mem:256');
    const state = await cluster.state();
    expect(Resources.parse(state.agents[0]!.resources).scalar('cpus', 'analytics')).toBe(1);
  });
});
