// Tasks on a real cluster: nats-server, a master and two agents as processes, a framework
// written with the scheduler SDK. Covers the skeleton's loop end to end: offers, launches
// over several agents, every update delivered in order and acknowledged, failure exit codes,
// kills.
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Buckets } from '../../protocol/buckets.js';
import { OfferPool, Scheduler, TaskState, isTerminal, type Offer, type TaskInfo, type TaskStatus } from '../../actors/scheduler/index.js';
import { silentLogger } from '../../actors/runtime/logger.js';
import { TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({ agents: 2, agentResources: 'cpus:2;mem:1024;disk:1024;ports:[31000-31100]' });
});

afterAll(async () => {
  await cluster?.stop();
});

/** Connects a framework to the test cluster (closed by the test). */
function connect(name: string, extra: Partial<Parameters<typeof Scheduler.connect>[0]> = {}): Promise<Scheduler> {
  return Scheduler.connect({ servers: cluster.natsUrl, cluster: cluster.name, framework: { name }, logger: silentLogger(), ...extra });
}

/** Collects every update of the framework, in arrival order. */
function record(sched: Scheduler): TaskStatus[] {
  const seen: TaskStatus[] = [];
  sched.on('update', (status) => {
    seen.push(status);
  });
  return seen;
}

/** Resolves once `done()` holds, polling every 50 ms; rejects with `what` after `timeoutMs`. */
async function until(done: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${cluster.logs()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The states each task went through, by task id. */
function statesByTask(updates: TaskStatus[]): Map<string, string[]> {
  const by = new Map<string, string[]>();
  for (const u of updates) by.set(u.taskId, [...(by.get(u.taskId) ?? []), u.state]);
  return by;
}

describe('a framework on a real cluster', () => {
  it('runs 20 tasks over both agents; every task reaches TASK_FINISHED, each update arrives once, in order, and is not delivered again', async () => {
    const sched = await connect('twenty');
    const updates = record(sched);
    const launched: TaskInfo[] = [];
    const usedAgents = new Set<string>();
    try {
      // 20 tasks of cpus:0.5 need 10 cpus; the two agents have 2 each (4 in all), so the
      // framework must use both agents and several rounds of offers.
      sched.on('offers', async (offers: Offer[]) => {
        for (const offer of offers) {
          const specs = [];
          const pool = new OfferPool(offer);
          while (launched.length + specs.length < 20 && pool.fits('cpus:0.5;mem:32')) {
            specs.push({ name: `t${launched.length + specs.length}`, command: 'echo out-$NESOS_TASK_ID', resources: pool.take('cpus:0.5;mem:32')! });
          }
          if (specs.length === 0) {
            await sched.decline([offer.id], { refuseSeconds: 0.1 });
            continue;
          }
          usedAgents.add(offer.agentId);
          launched.push(...(await sched.launch(offer, specs, { refuseSeconds: 0.1 })));
        }
      });
      await until(() => launched.length === 20 && launched.every((t) => updates.some((u) => u.taskId === t.taskId && isTerminal(u.state))), '20 terminal updates');

      const by = statesByTask(updates);
      expect(by.size).toBe(20);
      for (const t of launched) {
        // Each task went STARTING → RUNNING → FINISHED, each state once, in order.
        expect(by.get(t.taskId), t.taskId).toEqual([TaskState.STARTING, TaskState.RUNNING, TaskState.FINISHED]);
      }
      expect(usedAgents.size).toBe(2);
      // Every update was acknowledged: the framework's consumer has nothing delivered and
      // unacknowledged (so nothing will be delivered again) and nothing left to deliver; once
      // the master has read them too, the stream keeps none of them (interest retention).
      const jsm = await jetstreamManager(await cluster.connect());
      const b = new Buckets(cluster.name);
      const deadline = Date.now() + 10_000;
      for (;;) {
        const mine = await jsm.consumers.info(b.updates(), b.frameworkUpdatesConsumer(sched.frameworkId));
        const master = await jsm.consumers.info(b.updates(), b.masterUpdatesConsumer());
        const held = (await jsm.streams.info(b.updates())).state.messages;
        if (mine.num_ack_pending === 0 && mine.num_pending === 0 && master.num_ack_pending === 0 && master.num_pending === 0 && held === 0) break;
        if (Date.now() > deadline) throw new Error(`updates still held: framework ${JSON.stringify([mine.num_ack_pending, mine.num_pending])}, master ${JSON.stringify([master.num_ack_pending, master.num_pending])}, in the stream ${held}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(updates).toHaveLength(60);

      const state = await cluster.state();
      const mine = state.completedTasks.filter((t) => t.frameworkId === sched.frameworkId);
      expect(mine.map((t) => t.state)).toEqual(Array(20).fill(TaskState.FINISHED));
      expect(state.tasks.filter((t) => t.frameworkId === sched.frameworkId)).toEqual([]);
    } finally {
      await sched.teardown().catch(() => undefined);
      await sched.close();
    }
  });

  it('reports a failing command as TASK_FAILED with its exit code', async () => {
    const sched = await connect('failing');
    const updates = sched.updates();
    try {
      const offer = await sched.waitForOffer('cpus:0.1;mem:32', { timeoutMs: 10_000 });
      const [task] = await sched.launch(offer, [{ name: 'fails', command: 'echo about to fail >&2; exit 7', resources: 'cpus:0.1;mem:32' }]);
      let last: TaskStatus | undefined;
      for await (const status of updates) {
        if (status.taskId !== task!.taskId) continue;
        last = status;
        if (isTerminal(status.state)) break;
      }
      expect(last?.state).toBe(TaskState.FAILED);
      expect(last?.exitCode).toBe(7);
      expect(last?.message).toMatch(/status 7/);
    } finally {
      await sched.teardown().catch(() => undefined);
      await sched.close();
    }
  });

  it('kills a running task: TASK_KILLING is skipped or reported, then TASK_KILLED', async () => {
    const sched = await connect('killer');
    const updates = sched.updates();
    try {
      const offer = await sched.waitForOffer('cpus:0.1;mem:32', { timeoutMs: 10_000 });
      const [task] = await sched.launch(offer, [{ name: 'sleeper', command: 'sleep 60', resources: 'cpus:0.1;mem:32' }]);
      const states: string[] = [];
      for await (const status of updates) {
        if (status.taskId !== task!.taskId) continue;
        states.push(status.state);
        if (status.state === TaskState.RUNNING) await sched.kill(task!.taskId, { agentId: offer.agentId, gracePeriodMs: 500 });
        if (isTerminal(status.state)) break;
      }
      expect(states.at(-1)).toBe(TaskState.KILLED);
      expect(states).toContain(TaskState.RUNNING);
      // Once the terminal update is acknowledged the master moves the task to its completed
      // tasks, as Mesos does.
      const state = await cluster.waitFor((s) => s.tasks.every((t) => t.taskId !== task!.taskId));
      expect(state.completedTasks.find((t) => t.taskId === task!.taskId)?.state).toBe(TaskState.KILLED);
    } finally {
      await sched.teardown().catch(() => undefined);
      await sched.close();
    }
  });

  it('kills the tasks of a framework that tears down', async () => {
    const sched = await connect('teardown');
    const updates = sched.updates();
    const offer = await sched.waitForOffer('cpus:0.1;mem:32', { timeoutMs: 10_000 });
    const [task] = await sched.launch(offer, [{ name: 'long', command: 'sleep 60', resources: 'cpus:0.1;mem:32' }]);
    try {
      for await (const status of updates) if (status.taskId === task!.taskId && status.state === TaskState.RUNNING) break;
      await sched.teardown();
    } finally {
      await sched.close();
    }
    await cluster.waitFor((s) => s.tasks.every((t) => t.taskId !== task!.taskId) && s.frameworks.every((f) => f.id !== sched.frameworkId));
    const state = await cluster.state();
    expect(state.completedTasks.find((t) => t.taskId === task!.taskId)?.state).toBe(TaskState.KILLED);
  });
});
