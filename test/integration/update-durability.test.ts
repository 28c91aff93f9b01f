// Status updates live in the updates stream, not in the processes that made them: an agent
// SIGKILLed right after it published a task's last update, and a cluster with no master at
// all, still get every update to the framework, in order.
import { jetstreamManager } from '@nats-io/jetstream';
import { afterEach, describe, expect, it } from 'vitest';
import { Scheduler, TaskState, isTerminal, type TaskStatus } from '../../actors/scheduler/index.js';
import { silentLogger } from '../../actors/runtime/logger.js';
import { Buckets } from '../../protocol/buckets.js';
import { decode } from '../../protocol/codec.js';
import { Subjects } from '../../protocol/subjects.js';
import { UpdateRecord } from '../../protocol/updates.js';
import { TestCluster } from '../helpers/cluster.js';
import { signalGroup } from '../helpers/processes.js';

let cluster: TestCluster | undefined;

afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

async function until(done: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${cluster?.logs() ?? ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The statuses a framework's updates iterator yields for `taskId` until a terminal one. */
async function untilTerminal(sched: Scheduler, updates: AsyncIterableIterator<TaskStatus>, taskId: string, acknowledge: boolean): Promise<TaskStatus[]> {
  const got: TaskStatus[] = [];
  for await (const status of updates) {
    if (status.taskId !== taskId || status.uuid === undefined) continue; // reconciliation answers aside
    got.push(status);
    if (acknowledge) await sched.acknowledge(status);
    if (isTerminal(status.state)) break;
  }
  return got;
}

describe('status updates outlive the processes that made them', () => {
  it('an agent SIGKILLed right after publishing a task’s last update: the framework still gets it', async () => {
    cluster = await TestCluster.start({ masters: 1, agents: 1 });
    const c = cluster;
    const options = { servers: c.natsUrl, cluster: c.name, logger: silentLogger(), acknowledge: 'manual' as const, reconcileOnSubscribe: false };
    const first = await Scheduler.connect({ ...options, framework: { name: 'survivor', failoverTimeoutSeconds: 60 } });
    const frameworkId = first.frameworkId;
    const offer = await first.waitForOffer('cpus:0.1;mem:32', { timeoutMs: 10_000 });
    const [task] = await first.launch(offer, [{ name: 'short', command: 'sleep 0.5', resources: 'cpus:0.1;mem:32' }]);
    for await (const status of first.updates(task!.taskId)) {
      await first.acknowledge(status);
      if (status.state === TaskState.RUNNING) break;
    }
    await first.close(); // nobody reads while the task finishes

    // Wait until the agent has put TASK_FINISHED into the stream, then kill it at once.
    const jsm = await jetstreamManager(await c.connect());
    const stream = new Buckets(c.name).updates();
    const subject = new Subjects(c.name).statusUpdate(frameworkId, task!.taskId);
    await until(async () => {
      try {
        const stored = await jsm.streams.getMessage(stream, { last_by_subj: subject });
        const decoded = stored === null ? undefined : decode(UpdateRecord, stored.data);
        return decoded?.ok === true && decoded.value.status.state === TaskState.FINISHED;
      } catch {
        return false;
      }
    }, 'TASK_FINISHED in the stream');
    signalGroup(c.agents[0]!, 'SIGKILL');

    const second = await Scheduler.connect({ ...options, framework: { name: 'survivor', id: frameworkId, failoverTimeoutSeconds: 60 } });
    try {
      const updates = second.updates(task!.taskId);
      const got = await untilTerminal(second, updates, task!.taskId, true);
      // Only what the first process had not acknowledged, and only the agent's own update: its
      // death did not turn the task LOST (the master had it FINISHED already).
      expect(got.map((s) => [s.state, s.source])).toEqual([[TaskState.FINISHED, 'SOURCE_EXECUTOR']]);
      const state = await c.waitFor((s) => s.completedTasks.some((t) => t.taskId === task!.taskId));
      expect(state.completedTasks.find((t) => t.taskId === task!.taskId)?.state).toBe(TaskState.FINISHED);
    } finally {
      await second.teardown().catch(() => undefined);
      await second.close();
    }
  });

  it('with no master running, a task’s updates still reach its framework; a master started later catches up', async () => {
    cluster = await TestCluster.start({ masters: 1, agents: 1 });
    const c = cluster;
    const sched = await Scheduler.connect({
      servers: c.natsUrl,
      cluster: c.name,
      framework: { name: 'headless', failoverTimeoutSeconds: 60 },
      logger: silentLogger(),
    });
    try {
      const updates = sched.updates();
      const offer = await sched.waitForOffer('cpus:0.1;mem:32', { timeoutMs: 10_000 });
      const [task] = await sched.launch(offer, [{ name: 'on-its-own', command: 'sleep 1', resources: 'cpus:0.1;mem:32' }]);
      const states: string[] = [];
      for await (const status of updates) {
        if (status.taskId !== task!.taskId) continue;
        states.push(status.state);
        if (status.state === TaskState.RUNNING) {
          signalGroup(c.master!, 'SIGKILL'); // the only master
          await c.master!.exited;
        }
        if (isTerminal(status.state)) break;
      }
      expect(states).toEqual([TaskState.STARTING, TaskState.RUNNING, TaskState.FINISHED]);

      // A new master: its task table comes from the agent, and the stream's backlog is read.
      c.startMaster([], 'master-2');
      const state = await c.waitFor((s) => s.masterId === 'master-2' && s.completedTasks.some((t) => t.taskId === task!.taskId), 20_000);
      expect(state.completedTasks.find((t) => t.taskId === task!.taskId)?.state).toBe(TaskState.FINISHED);
      const jsm = await jetstreamManager(await c.connect());
      await until(async () => (await jsm.consumers.info(new Buckets(c.name).updates(), 'master')).num_pending === 0, 'the master to read the backlog');
    } finally {
      await sched.teardown().catch(() => undefined);
      await sched.close();
    }
  });
});
