// The smaller pure parts of `nesos chaos`: the workload framework's plan (reconcile,
// kill, room to launch), the nats-server configurations, the JetStream replica setting,
// and the workload's task kinds.
import { describe, expect, it } from 'vitest';
import { planStep } from '../../bin/chaos/framework-plan.js';
import { natsConfig } from '../../bin/chaos/nats-config.js';
import { taskViews } from '../../bin/chaos/task-views.js';
import type { JournalEntry } from '../../bin/chaos/types.js';
import { nextTaskKind, taskSpec } from '../../bin/chaos/workload.js';
import { jetStreamReplicas } from '../../actors/runtime/replicas.js';
import { InvalidReplicasError } from '../../actors/runtime/errors.js';
import { createRng } from '../../actors/runtime/rng.js';
import { TASK_KINDS } from '../../bin/chaos/types.js';

const journal: JournalEntry[] = [
  { t: 'launch', at: 0, taskId: 'done', kind: 'true', agentId: 'a1' },
  { t: 'launch', at: 0, taskId: 'quiet', kind: 'long', agentId: 'a1' },
  { t: 'launch', at: 0, taskId: 'victim', kind: 'killed', agentId: 'a2' },
  { t: 'launch', at: 0, taskId: 'unknown', kind: 'short', agentId: 'a2' },
  { t: 'update', at: 500, taskId: 'done', state: 'TASK_FINISHED', uuid: 'u1', source: 'SOURCE_EXECUTOR' },
  { t: 'update', at: 9000, taskId: 'victim', state: 'TASK_RUNNING', uuid: 'u2', source: 'SOURCE_EXECUTOR' },
  { t: 'update', at: 9000, taskId: 'unknown', state: 'TASK_UNKNOWN', source: 'SOURCE_MASTER' },
];

describe('the workload framework plan', () => {
  const views = taskViews(journal);

  it('reconciles unsettled tasks not heard of lately, kills running `killed` tasks, leaves room to launch', () => {
    // at 10 000: quiet last heard at 0 (reconcile), victim at 9000 (not yet); done and unknown are settled
    const plan = planStep(views, 10_000, false, new Map(), new Map());
    expect(plan.reconcile).toEqual([{ taskId: 'quiet', agentId: 'a1' }]);
    expect(plan.kill).toEqual([{ taskId: 'victim', agentId: 'a2' }]);
    expect(plan).toMatchObject({ unsettled: 2, launchRoom: 10 });
  });

  it('does not ask again too soon, and kills everything unsettled while draining', () => {
    const asked = new Map([['quiet', 9000]]);
    const killed = new Map([['victim', 9500]]);
    expect(planStep(views, 10_000, false, asked, killed)).toMatchObject({ reconcile: [], kill: [] });
    expect(planStep(views, 13_000, true, asked, new Map()).kill.map((k) => k.taskId)).toEqual(['quiet', 'victim']);
    expect(planStep(views, 13_000, true, asked, new Map()).launchRoom).toBe(0);
  });
});

describe('nats-server configurations', () => {
  it('writes one server like nats.conf, and cluster members with routes to every member', () => {
    const nodes = [1, 2, 3].map((i) => ({ name: `nats-${i}`, clientPort: 4000 + i, routePort: 5000 + i, storeDir: `/tmp/s${i}` }));
    const single = natsConfig({ name: 'nats-1', clientPort: 4001, storeDir: '/tmp/s1' }, 'c');
    expect(single).toContain('listen: 127.0.0.1:4001');
    expect(single).toContain('write_deadline: "2s"');
    expect(single).not.toContain('cluster {');
    const member = natsConfig(nodes[1]!, 'nesos-c', nodes);
    expect(member).toContain('server_name: nats-2');
    expect(member).toContain('listen: 127.0.0.1:5002');
    expect(member).toContain('routes: [nats-route://127.0.0.1:5001, nats-route://127.0.0.1:5002, nats-route://127.0.0.1:5003]');
  });
});

describe('NESOS_JETSTREAM_REPLICAS', () => {
  it('defaults to 1, takes 1 to 5, refuses anything else naming the variable', () => {
    expect(jetStreamReplicas({})).toBe(1);
    expect(jetStreamReplicas({ NESOS_JETSTREAM_REPLICAS: '3' })).toBe(3);
    expect(() => jetStreamReplicas({ NESOS_JETSTREAM_REPLICAS: 'three' })).toThrow(InvalidReplicasError);
    expect(() => jetStreamReplicas({ NESOS_JETSTREAM_REPLICAS: '7' })).toThrow(/NESOS_JETSTREAM_REPLICAS "7"/);
  });
});

describe('the workload', () => {
  it('draws every kind from a seed, the same way for the same seed', () => {
    const draw = (seed: number) => Array.from({ length: 200 }, ((rng) => () => nextTaskKind(rng))(createRng(seed)));
    expect(new Set(draw(1))).toEqual(new Set(TASK_KINDS));
    expect(draw(1)).toEqual(draw(1));
  });

  it('gives health-checked kinds a COMMAND check, and every task a short kill grace', () => {
    expect(taskSpec('healthy', 't').healthCheck).toMatchObject({ type: 'COMMAND', command: { value: 'true' } });
    expect(taskSpec('unhealthy', 't').healthCheck).toMatchObject({ type: 'COMMAND', command: { value: 'exit 1' }, consecutiveFailures: 2 });
    for (const kind of TASK_KINDS) expect(taskSpec(kind, 't').killPolicy).toEqual({ gracePeriodMs: 500 });
  });
});
