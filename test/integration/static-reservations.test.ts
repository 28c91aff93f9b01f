// Static reservations from the agent's --resources flag on a real cluster:
// `cpus(analytics):2;cpus:2;mem:1024` offers the reserved cpus only to a framework of role
// analytics, which can launch a task on them; a framework of another role never sees them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Resources, type Offer, type Scheduler } from '../../actors/scheduler/index.js';
import { TaskState } from '../../protocol/task-state.js';
import { connectFramework, offerFrom, recordUpdates, terminalOf, until } from '../helpers/agent-tests.js';
import { TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;
const frameworks: Scheduler[] = [];

beforeAll(async () => {
  cluster = await TestCluster.start({ agents: 1, agentResources: 'cpus(analytics):2;cpus:2;mem:1024' });
});

afterAll(async () => {
  for (const s of frameworks) await s.close();
  await cluster?.stop();
});

/** Records every offer a framework gets. */
function recordOffers(s: Scheduler): Offer[] {
  const seen: Offer[] = [];
  s.on('offers', (offers) => {
    seen.push(...offers);
  });
  return seen;
}

describe('static reservations (--resources)', () => {
  it('offers cpus(analytics) only to role analytics, which launches on them; another role never sees them', async () => {
    const state = await cluster.state();
    expect(state.agents[0]?.resources).toMatch('cpus(analytics):2');

    const web = await connectFramework(cluster, 'web', { framework: { name: 'web', roles: ['web'] } });
    frameworks.push(web);
    const webOffers = recordOffers(web);
    const first = await offerFrom(web, 'agent-1');
    // cpus: the unreserved 2 only
    expect(Resources.fromWire(first.resources).scalar('cpus')).toBe(2);
    await web.decline([first.id], { refuseSeconds: 0.1 }); // it keeps being offered, never the reservation

    const analytics = await connectFramework(cluster, 'analytics', { framework: { name: 'analytics', roles: ['analytics'] } });
    frameworks.push(analytics);
    const updates = recordUpdates(analytics);
    let offer = await offerFrom(analytics, 'agent-1');
    while (Resources.fromWire(offer.resources).scalar('cpus', 'analytics') !== 2) {
      await analytics.decline([offer.id], { refuseSeconds: 0.1 });
      offer = await offerFrom(analytics, 'agent-1');
    }
    expect(offer.role).toBe('analytics');
    const [task] = await analytics.launch(offer, [{ name: 'on-reserved', command: 'true', resources: 'cpus(analytics):2' }], { refuseSeconds: 0.1 });
    await until(() => terminalOf(updates, task!.taskId) !== undefined, 'the task on the reservation to end', 30_000, () => cluster.logs());
    expect(terminalOf(updates, task!.taskId)?.state).toBe(TaskState.FINISHED);

    // analytics goes (its held offers with it): web is offered the agent again, still without the reservation
    const before = webOffers.length;
    await analytics.teardown();
    await until(() => webOffers.length > before, 'web to be offered again', 30_000, () => cluster.logs());
    for (const o of webOffers) {
      expect(o.role).toBe('web');
      expect(Resources.fromWire(o.resources).roles().filter((r) => r !== '*')).toEqual([]);
    }
  }, 120_000);
});
