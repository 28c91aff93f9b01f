// Operator events derived from successive snapshots, and the figures derived from one.
import { describe, expect, it } from 'vitest';
import { SnapshotEventFeed, diffStates, nextPollDelay } from '../../actors/http/snapshot-feed.js';
import { ResourceAmounts, summarize } from '../../actors/http/summary.js';
import type { ClusterState } from '../../protocol/operator-api.js';
import type { OperatorChangeEvent } from '../../protocol/operator-events.js';
import { FakeOperatorSource } from '../helpers/fake-operator-source.js';

function base(): FakeOperatorSource {
  const src = new FakeOperatorSource();
  src.addAgent('a1', 'cpus:2;mem:1024');
  src.addFramework('f1');
  src.launchTask('t1', 'f1', 'a1');
  return src;
}

describe('diffStates', () => {
  it('says nothing when nothing changed', () => {
    const s = base().state;
    expect(diffStates(s, structuredClone(s))).toEqual([]);
  });

  it('emits MAINTENANCE_UPDATED when the schedule, a mode or an inverse offer answer changed, not when the master reports none', () => {
    const s = base().state;
    const scheduled: ClusterState = { ...s, maintenance: { windows: [{ agentIds: ['a1'], start: 0, durationMs: 1000 }], agents: [{ agentId: 'a1', mode: 'DRAINING' }] } };
    expect(diffStates(s, scheduled)).toEqual([{ type: 'MAINTENANCE_UPDATED', maintenance: scheduled.maintenance }]);
    expect(diffStates(scheduled, structuredClone(scheduled))).toEqual([]);
    const down: ClusterState = { ...scheduled, maintenance: { ...scheduled.maintenance!, agents: [{ agentId: 'a1', mode: 'DOWN' }] } };
    expect(diffStates(scheduled, down).map((e) => e.type)).toEqual(['MAINTENANCE_UPDATED']);
    expect(diffStates(scheduled, s)).toEqual([]); // absent: not reported, not "none"
    // A framework's answer to an inverse offer is a change too.
    const answered: ClusterState = { ...scheduled, maintenance: { ...scheduled.maintenance!, agents: [{ agentId: 'a1', mode: 'DRAINING', statuses: [{ frameworkId: 'f1', status: 'ACCEPT', updatedAt: 5 }] }] } };
    expect(diffStates(scheduled, answered)).toEqual([{ type: 'MAINTENANCE_UPDATED', maintenance: answered.maintenance }]);
  });

  it('emits agents, then frameworks, then tasks, then offers, then removals', () => {
    const src = base();
    const before = structuredClone(src.state);
    src.addAgent('a2');
    src.addFramework('f2');
    src.launchTask('t2', 'f2', 'a2');
    src.updateTask('t1', 'TASK_RUNNING');
    src.addOffer('o1', 'f2', 'a2', 'cpus:1');
    src.setAgentStatus('a1', 'unreachable');
    src.removeFramework('f1');
    expect(diffStates(before, src.state).map((e) => e.type)).toEqual([
      'AGENT_UPDATED',
      'AGENT_ADDED',
      'FRAMEWORK_ADDED',
      'TASK_UPDATED',
      'TASK_ADDED',
      'OFFER_ADDED',
      'FRAMEWORK_REMOVED',
    ]);
  });

  it('sees a task finish (moved to completedTasks) as TASK_UPDATED, and removals of offers and agents', () => {
    const src = base();
    src.addOffer('o1', 'f1', 'a1', 'cpus:1');
    const before = structuredClone(src.state);
    src.updateTask('t1', 'TASK_FINISHED');
    src.state.offers = [];
    src.removeAgent('a1');
    const events = diffStates(before, src.state);
    expect(events).toEqual([
      { type: 'TASK_UPDATED', task: expect.objectContaining({ taskId: 't1', state: 'TASK_FINISHED' }) },
      { type: 'OFFER_REMOVED', offerId: 'o1' },
      { type: 'AGENT_REMOVED', agentId: 'a1' },
    ]);
  });

  it('reports a new leader', () => {
    const src = base();
    const before = structuredClone(src.state);
    src.state.leader = { masterId: 'm2', epoch: 9 };
    expect(diffStates(before, src.state)).toEqual([{ type: 'LEADER_CHANGED', leader: { masterId: 'm2', epoch: 9 } }]);
  });
});

describe('SnapshotEventFeed', () => {
  it('polls only while someone listens and publishes what changed', async () => {
    const src = base();
    const feed = new SnapshotEventFeed({ snapshot: () => src.snapshot(), intervalMs: 10 });
    const seen: OperatorChangeEvent[] = [];
    const before = src.snapshots;
    const off = feed.subscribe((e) => seen.push(e));
    // the first snapshot is asked for before subscribe returns
    expect(src.snapshots).toBe(before + 1);
    await new Promise((r) => setTimeout(r, 30));
    src.updateTask('t1', 'TASK_RUNNING');
    const deadline = Date.now() + 2000;
    while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(seen.map((e) => e.type)).toEqual(['TASK_UPDATED']);
    off();
    await new Promise((r) => setTimeout(r, 30));
    const after = src.snapshots;
    await new Promise((r) => setTimeout(r, 50));
    expect(src.snapshots).toBe(after);
    expect(feed.size).toBe(0);
  });

  it('waits longer after a slow poll, so that polling takes at most its share of the time', async () => {
    // nextPollDelay(interval, poll, share) = max(interval, poll × (1 − share) / share):
    // 250 ms interval, 10 ms polls at 0.1 → 90 ms, so the interval (250) holds;
    expect(nextPollDelay(250, 10, 0.1)).toBe(250);
    // a 300 ms poll (a snapshot of 40,000 agents) at 0.1 → 300 × 0.9 / 0.1 = 2,700 ms.
    expect(nextPollDelay(250, 300, 0.1)).toBe(2700);
    // share 0.5: as long again as the poll took.
    expect(nextPollDelay(250, 400, 0.5)).toBe(400);

    // A feed whose snapshots take 100 ms on its clock: the next poll waits 900 ms, not 10.
    let now = 0;
    const src = base();
    const feed = new SnapshotEventFeed({
      snapshot: () => {
        now += 100;
        return src.snapshot();
      },
      intervalMs: 10,
      clock: () => now,
    });
    const off = feed.subscribe(() => undefined);
    await new Promise((r) => setTimeout(r, 5));
    expect(feed.delayMs).toBe(900);
    off();
  });

  it('keeps going when a snapshot fails', async () => {
    let fail = true;
    const src = base();
    const errors: unknown[] = [];
    const feed = new SnapshotEventFeed({
      snapshot: async (): Promise<ClusterState> => {
        if (fail) throw new Error('master busy');
        return src.snapshot();
      },
      intervalMs: 5,
      onError: (e) => errors.push(e),
    });
    const seen: OperatorChangeEvent[] = [];
    const off = feed.subscribe((e) => seen.push(e));
    await new Promise((r) => setTimeout(r, 20));
    fail = false;
    await new Promise((r) => setTimeout(r, 20));
    src.addAgent('a2');
    const deadline = Date.now() + 2000;
    while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    off();
    expect(errors.length).toBeGreaterThan(0);
    expect(seen.map((e) => e.type)).toEqual(['AGENT_ADDED']);
  });
});

describe('summarize', () => {
  it('counts ranges by their values, sets by their items, and ignores unreachable agents in totals', () => {
    const src = new FakeOperatorSource();
    src.addAgent('a1', 'cpus:1;ports:[31000-31004,32000-32000];gpus:{0,1}');
    src.addAgent('a2', 'cpus:8');
    src.setAgentStatus('a2', 'unreachable');
    const s = summarize(src.state);
    // ports: 5 + 1 = 6 values; gpus: a set of 2; a2 is unreachable, so cpus is a1's 1
    expect(s.resources.total).toEqual({ cpus: 1, ports: 6, gpus: 2 });
    expect(s.agentsByStatus).toEqual({ active: 1, unreachable: 1 });
  });

  it('adds scalars in thousandths and attributes reserved resources to their role', () => {
    const src = new FakeOperatorSource();
    src.addAgent('a1', 'cpus:1;cpus(eng):2');
    src.addFramework('f1', 'f1', ['web']);
    src.launchTask('t1', 'f1', 'a1', 'cpus:0.1');
    src.launchTask('t2', 'f1', 'a1', 'cpus:0.2');
    src.launchTask('t3', 'f1', 'a1', 'cpus(eng):1');
    const s = summarize(src.state, new ResourceAmounts());
    // 0.1 + 0.2 + 1 = 1.3 exactly; total 3; idle 1.7
    expect(s.resources.allocated).toEqual({ cpus: 1.3 });
    expect(s.resources.idle).toEqual({ cpus: 1.7 });
    expect(s.roles.total).toEqual({ '*': { cpus: 1 }, eng: { cpus: 2 } });
    // unreserved cpus go to the framework's role, reserved ones to their own
    expect(s.roles.allocated).toEqual({ web: { cpus: 0.3 }, eng: { cpus: 1 } });
  });

  it('treats unparsable resource text as nothing', () => {
    const src = new FakeOperatorSource();
    src.addAgent('a1', 'this is not resources');
    expect(summarize(src.state).resources.total).toEqual({});
  });
});
