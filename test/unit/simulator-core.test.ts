import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MasterReplyToAgent } from '../../protocol/agent.js';
import type { FrameworkInfo, TaskInfo } from '../../protocol/schema.js';
import { TaskState } from '../../protocol/task-state.js';
import { createRng } from '../../actors/runtime/rng.js';
import { Limiter, SimulatorConfigError, SimulatorCore, TimerQueue, simulatorConfig, type SimulatorConfig, type SimulatorEffect } from '../../actors/simulator/index.js';

const S = TaskState;
const FW: FrameworkInfo = { id: 'fw-1', name: 'fw', principal: 'fw', roles: ['*'], capabilities: [], failoverTimeoutSeconds: 0 };

function config(over: Partial<SimulatorConfig> = {}): SimulatorConfig {
  return {
    ...simulatorConfig({ agents: 3, tasksPerAgent: 0, taskDurationMs: 1000, jitterMs: 100, reregisterJitterMs: 100, resources: 'cpus:8;mem:1024' }),
    ...over,
  };
}

/** A core with a seeded RNG, ids `u-1`, `u-2`, … and a manual clock. */
class Harness {
  now = 0;
  private n = 0;
  readonly core: SimulatorCore;
  constructor(over: Partial<SimulatorConfig> = {}, seed = 1) {
    this.core = new SimulatorCore(config(over), createRng(seed), () => `u-${++this.n}`);
  }
  at(ms: number): SimulatorEffect[] {
    this.now = ms;
    return this.core.tick(ms);
  }
  /** Starts and registers every agent with `epoch` (heartbeat every 1000 ms). */
  registerAll(epoch = 1): void {
    this.core.start(this.now);
    for (const e of this.at(this.now + 10_000)) if (e.kind === 'register') this.core.onRegisterReply(e.agentId, registered(e.agentId, epoch), this.now);
  }
}

function registered(agentId: string, epoch: number): MasterReplyToAgent {
  return { type: 'AGENT_REGISTERED', epoch, agentId, masterId: `m-${epoch}`, heartbeatIntervalMs: 1000 };
}

function runTask(agentId: string, taskId: string, epoch = 1) {
  const task: TaskInfo = { taskId, name: taskId, agentId, resources: [{ name: 'cpus', scalar: 1 }], command: { value: 'true', environment: {} } };
  return { type: 'RUN_TASK' as const, epoch, frameworkId: FW.id, framework: FW, task };
}

const ofKind = <K extends SimulatorEffect['kind']>(effects: SimulatorEffect[], kind: K) => effects.filter((e): e is Extract<SimulatorEffect, { kind: K }> => e.kind === kind);
const states = (effects: SimulatorEffect[]) => ofKind(effects, 'publish-update').map((e) => `${e.status.taskId}:${e.status.state}`);

describe('simulator core: registration', () => {
  it('registers every agent once within the jitter window, with the tasks it starts with', () => {
    const h = new Harness({ tasksPerAgent: 2 });
    h.core.start(0);
    const regs = ofKind(h.at(100), 'register');
    // agents sim-0, sim-1, sim-2, each reporting its two tasks as running, of the swarm's framework
    expect(regs.map((r) => r.agentId).sort()).toEqual(['sim-0', 'sim-1', 'sim-2']);
    expect(regs[0]!.message.tasks.map((t) => [t.task.taskId.replace(/^sim-\d/, 'a'), t.state, t.frameworkId])).toEqual([
      ['a-t0', S.RUNNING, 'sim-framework'],
      ['a-t1', S.RUNNING, 'sim-framework'],
    ]);
    expect(ofKind(h.at(10_000), 'register')).toEqual([]); // none twice while the answer is awaited
  });

  it('counts agents registered per term and retries a failed registration after the retry pause', () => {
    const h = new Harness();
    h.core.start(0);
    const [a, b, c] = ofKind(h.at(100), 'register');
    h.core.onRegisterReply(a!.agentId, registered(a!.agentId, 1), 100);
    h.core.onRegisterReply(b!.agentId, undefined, 100); // timed out
    h.core.onRegisterReply(c!.agentId, { type: 'REJECTED', code: 'NOT_LEADER', reason: 'x' }, 100);
    expect(h.core.registeredWith(1)).toBe(1);
    // retry pause: 100 ms + up to 200 ms
    expect(ofKind(h.at(199), 'register')).toEqual([]);
    expect(ofKind(h.at(400), 'register').map((r) => r.agentId).sort()).toEqual([b!.agentId, c!.agentId].sort());
  });

  it('registers again with a new term, and only agents not yet registered with it', () => {
    const h = new Harness();
    h.registerAll(1);
    expect(h.core.stats()).toMatchObject({ registered: 3, agents: 3 });
    h.core.onTerm(2, h.now);
    h.core.onTerm(2, h.now); // the same term twice: once
    const regs = ofKind(h.at(h.now + 100), 'register');
    expect(regs).toHaveLength(3);
    h.core.onRegisterReply(regs[0]!.agentId, registered(regs[0]!.agentId, 1), h.now); // a late answer of the old term
    h.core.onRegisterReply(regs[1]!.agentId, registered(regs[1]!.agentId, 2), h.now);
    expect(h.core.registeredWith(2)).toBe(1);
    expect(ofKind(h.at(h.now + 300), 'register').map((r) => r.agentId)).toEqual([regs[0]!.agentId]);
  });

  it('registers again within reregisterJitterMs of a new term, and stops heartbeating until then', () => {
    const h = new Harness({ jitterMs: 5000, reregisterJitterMs: 50 });
    h.registerAll(1);
    const beats = ofKind(h.at(h.now + 1000), 'heartbeat');
    expect(beats).toHaveLength(3);
    expect(beats.every((b) => h.core.heartbeatCurrent(b.agentId, b.gen))).toBe(true);
    h.core.onTerm(2, h.now);
    // heartbeats sent before the term but not yet out are no longer due; none are made
    expect(beats.some((b) => h.core.heartbeatCurrent(b.agentId, b.gen))).toBe(false);
    const effects = h.at(h.now + 50);
    expect(ofKind(effects, 'register')).toHaveLength(3);
    expect(ofKind(h.at(h.now + 3000), 'heartbeat')).toEqual([]);
    for (const r of ofKind(effects, 'register')) h.core.onRegisterReply(r.agentId, registered(r.agentId, 2), h.now);
    expect(ofKind(h.at(h.now + 1000), 'heartbeat')).toHaveLength(3);
  });

  it('stops registering an agent the master says is gone', () => {
    const h = new Harness({ agents: 1 });
    h.core.start(0);
    const [r] = ofKind(h.at(100), 'register');
    const effects = h.core.onRegisterReply(r!.agentId, { type: 'REJECTED', code: 'AGENT_GONE', reason: 'gone' }, 100);
    expect(ofKind(effects, 'log')[0]?.level).toBe('warn');
    expect(ofKind(h.at(60_000), 'register')).toEqual([]);
  });
});

describe('simulator core: heartbeats', () => {
  it('heartbeats each agent once per interval after it registered', () => {
    const h = new Harness();
    h.registerAll(1);
    const t0 = h.now;
    // first heartbeats spread over one interval, then one per agent per interval
    expect(ofKind(h.at(t0 + 1000), 'heartbeat')).toHaveLength(3);
    expect(ofKind(h.at(t0 + 1999), 'heartbeat').length).toBeLessThanOrEqual(3);
    const counts = new Map<string, number>();
    for (let t = t0 + 2000; t <= t0 + 6000; t += 50) for (const e of ofKind(h.at(t), 'heartbeat')) counts.set(e.agentId, (counts.get(e.agentId) ?? 0) + 1);
    for (const n of counts.values()) expect(n).toBeGreaterThanOrEqual(3);
    for (const n of counts.values()) expect(n).toBeLessThanOrEqual(5);
  });

  it('registers again when a heartbeat is answered UNKNOWN_AGENT, and stops the old heartbeats', () => {
    const h = new Harness({ agents: 1 });
    h.registerAll(1);
    h.core.onHeartbeatReply('sim-0', { type: 'REJECTED', code: 'UNKNOWN_AGENT', reason: 'who?' }, h.now);
    expect(h.core.registeredWith(1)).toBe(0);
    const effects = h.at(h.now + 5000);
    expect(ofKind(effects, 'register')).toHaveLength(1);
    expect(ofKind(effects, 'heartbeat')).toEqual([]);
  });
});

describe('simulator core: tasks', () => {
  it('reports a launched task RUNNING, then FINISHED after the task duration, in order through the stream', () => {
    const h = new Harness({ agents: 1, taskDurationMs: 1000 });
    h.registerAll(1);
    const t0 = h.now;
    const run = h.core.onMasterMessage('sim-0', runTask('sim-0', 'task-1'), t0);
    expect(states(run)).toEqual(['task-1:TASK_RUNNING']);
    const running = ofKind(run, 'publish-update')[0]!;
    expect(running.status).toMatchObject({ agentId: 'sim-0', source: 'SOURCE_EXECUTOR', uuid: 'u-1', timestamp: t0 / 1000 });
    expect(running.frameworkId).toBe(FW.id);
    // FINISHED is made on time but waits for RUNNING's PubAck (one update of a task in flight)
    expect(states(h.at(t0 + 999))).toEqual([]);
    expect(states(h.at(t0 + 1000))).toEqual([]);
    expect(states(h.core.onPublished('sim-0', 'task-1', 'u-1'))).toEqual(['task-1:TASK_FINISHED']);
    expect(h.core.tasksOf('sim-0')).toEqual([{ taskId: 'task-1', frameworkId: FW.id, state: S.FINISHED }]);
    h.core.onPublished('sim-0', 'task-1', 'u-2');
    expect(h.core.tasksOf('sim-0')).toEqual([]); // forgotten once its last update is in the stream
    expect(h.core.stats()).toMatchObject({ launched: 1, finished: 1, running: 0, published: 2 });
  });

  it('retries a failed publish after the backoff', () => {
    const h = new Harness({ agents: 1 });
    h.registerAll(1);
    const t0 = h.now;
    h.core.onMasterMessage('sim-0', runTask('sim-0', 'task-1'), t0);
    h.core.onPublishFailed('sim-0', 'task-1', 'u-1', t0);
    expect(states(h.at(t0 + 99))).toEqual([]);
    expect(states(h.at(t0 + 100))).toEqual(['task-1:TASK_RUNNING']); // the same update again
    expect(h.core.stats().publishFailures).toBe(1);
  });

  it('kills a task on KILL_TASK and every task of a framework on SHUTDOWN_FRAMEWORK', () => {
    const h = new Harness({ agents: 1, taskDurationMs: Number.POSITIVE_INFINITY });
    h.registerAll(1);
    for (const id of ['a', 'b', 'c']) h.core.onMasterMessage('sim-0', runTask('sim-0', id), h.now);
    for (const [id, uuid] of [['a', 'u-1'], ['b', 'u-2'], ['c', 'u-3']] as const) h.core.onPublished('sim-0', id, uuid);
    expect(states(h.core.onMasterMessage('sim-0', { type: 'KILL_TASK', epoch: 1, frameworkId: FW.id, taskId: 'a' }, h.now))).toEqual(['a:TASK_KILLED']);
    expect(states(h.core.onMasterMessage('sim-0', { type: 'KILL_TASK', epoch: 1, frameworkId: 'other', taskId: 'b' }, h.now))).toEqual([]);
    expect(states(h.core.onMasterMessage('sim-0', { type: 'SHUTDOWN_FRAMEWORK', epoch: 1, frameworkId: FW.id }, h.now))).toEqual(['b:TASK_KILLED', 'c:TASK_KILLED']);
    expect(states(h.at(h.now + 3_600_000))).toEqual([]); // tasks that never finish by themselves
    expect(h.core.stats()).toMatchObject({ launched: 3, killed: 3, running: 0 });
  });

  it('drops messages from an older epoch, for another agent, and tasks it already runs', () => {
    const h = new Harness({ agents: 1 });
    h.registerAll(2);
    expect(states(h.core.onMasterMessage('sim-0', runTask('sim-0', 'old', 1), h.now))).toEqual([]);
    expect(states(h.core.onMasterMessage('sim-0', runTask('sim-9', 'x', 2), h.now))).toEqual([]);
    expect(h.core.onMasterMessage('nobody', runTask('nobody', 'x', 2), h.now)).toEqual([]);
    expect(states(h.core.onMasterMessage('sim-0', runTask('sim-0', 'x', 2), h.now))).toEqual(['x:TASK_RUNNING']);
    expect(states(h.core.onMasterMessage('sim-0', runTask('sim-0', 'x', 2), h.now))).toEqual([]);
  });

  it('reports launched tasks, and ended ones whose updates are not yet in the stream, when it registers again', () => {
    const h = new Harness({ agents: 1, taskDurationMs: 10 });
    h.registerAll(1);
    h.core.onMasterMessage('sim-0', runTask('sim-0', 'done'), h.now);
    h.core.onMasterMessage('sim-0', runTask('sim-0', 'live'), h.now);
    h.core.onPublished('sim-0', 'live', 'u-2');
    h.at(h.now + 10); // both end; "done"'s RUNNING is not acknowledged yet
    h.core.onTerm(2, h.now);
    const [reg] = ofKind(h.at(h.now + 1000), 'register');
    expect(reg!.message.tasks.map((t) => `${t.task.taskId}:${t.state}`).sort()).toEqual(['done:TASK_FINISHED', 'live:TASK_FINISHED']);
  });
});

describe('simulator core: replay', () => {
  it('the same seed gives the same registration order and heartbeat phases', () => {
    const run = (seed: number) => {
      const h = new Harness({ agents: 20 }, seed);
      h.core.start(0);
      const out: string[] = [];
      for (let t = 0; t <= 100; t += 10) out.push(...ofKind(h.at(t), 'register').map((e) => `${t}:${e.agentId}`));
      return out;
    };
    expect(run(5)).toEqual(run(5));
    expect(run(5)).not.toEqual(run(6));
  });
});

describe('simulator config', () => {
  it('names the flag and the fix', () => {
    expect(() => simulatorConfig({ agents: 0 })).toThrow(/--agents 0 must be a whole number from 1/);
    expect(() => simulatorConfig({ agents: 1, resources: 'cpus:x' })).toThrow(SimulatorConfigError);
    expect(() => simulatorConfig({ agents: 1, resources: 'cpus:x' })).toThrow(/--resources "cpus:x" is not valid resource text/);
    expect(() => simulatorConfig({ agents: 1, idPrefix: 'a b' })).toThrow(/--id-prefix/);
    expect(() => simulatorConfig({ agents: 1, taskDurationMs: -1 })).toThrow(/--task-duration/);
  });
});

describe('TimerQueue', () => {
  it('pops in time order, equal times in insertion order, at most `limit`', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 200 }), (times) => {
        const q = new TimerQueue<number>();
        times.forEach((t, i) => q.push(t, i));
        const out = q.popDue(Number.POSITIVE_INFINITY);
        const expected = times.map((t, i) => [t, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map(([, i]) => i);
        expect(out).toEqual(expected);
      }),
    );
    const q = new TimerQueue<string>();
    q.push(5, 'b');
    q.push(1, 'a');
    q.push(9, 'c');
    expect(q.popDue(4)).toEqual(['a']);
    expect(q.popDue(100, 1)).toEqual(['b']);
    expect(q.nextAt).toBe(9);
  });
});

describe('Limiter', () => {
  it('runs at most `max` jobs at once, in order', async () => {
    const l = new Limiter(2);
    let active = 0;
    let peak = 0;
    const order: number[] = [];
    for (let i = 0; i < 10; i++) {
      l.add(async () => {
        active += 1;
        peak = Math.max(peak, active);
        order.push(i);
        await new Promise((r) => setImmediate(r));
        active -= 1;
      });
    }
    await l.whenIdle();
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('starts jobs added with addFirst before the others still waiting', async () => {
    const l = new Limiter(1);
    const order: string[] = [];
    const job = (name: string) => async () => {
      order.push(name);
      await new Promise((r) => setImmediate(r));
    };
    l.add(job('a')); // starts at once
    l.add(job('b'));
    l.add(job('c'));
    l.addFirst(job('urgent-1'));
    l.addFirst(job('urgent-2'));
    expect(l.queued).toBe(4);
    await l.whenIdle();
    expect(order).toEqual(['a', 'urgent-1', 'urgent-2', 'b', 'c']);
  });
});
