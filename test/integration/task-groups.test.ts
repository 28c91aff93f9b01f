// Task groups on real processes: LAUNCH_GROUP through the SDK, one default executor per
// group, every task in its own directory of the sandbox; a failing task takes the others down.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Scheduler } from '../../actors/scheduler/index.js';
import { TaskState } from '../../protocol/task-state.js';
import { agentState, connectFramework, offerFrom, recordUpdates, statesOf, terminalOf, until } from '../helpers/agent-tests.js';
import { TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;
let sched: Scheduler;

beforeAll(async () => {
  cluster = await TestCluster.start({ agents: 1 });
  sched = await connectFramework(cluster, 'groups');
});

afterAll(async () => {
  await sched?.close();
  await cluster?.stop();
});

describe('task groups', () => {
  it('runs a group in one default executor; every task finishes, each with its own stdout', async () => {
    const updates = recordUpdates(sched);
    const offer = await offerFrom(sched, 'agent-1');
    const tasks = await sched.launchGroup(
      offer,
      ['a', 'b', 'c'].map((n) => ({ name: n, command: `echo hello from ${n}`, resources: 'cpus:0.1;mem:32' })),
      { executorId: 'group-ok', filters: { refuseSeconds: 0.1 } },
    );
    const ids = tasks.map((t) => t.taskId);
    await until(() => ids.every((id) => terminalOf(updates, id) !== undefined), 'every task to end', 20_000, () => cluster.logs());
    for (const id of ids) {
      expect(statesOf(updates, id)).toEqual([TaskState.STARTING, TaskState.RUNNING, TaskState.FINISHED]);
      expect(updates.filter((u) => u.taskId === id).every((u) => u.executorId === 'group-ok')).toBe(true);
    }
    const sandbox = join(cluster.dir, 'agent-1', 'agents', 'agent-1', 'frameworks', sched.frameworkId, 'executors', 'group-ok', 'runs', 'latest');
    expect(readFileSync(join(sandbox, 'tasks', ids[1]!, 'stdout'), 'utf8')).toBe('hello from b\n');
  });

  it('kills the other tasks of a group when one fails', async () => {
    const updates = recordUpdates(sched);
    const offer = await offerFrom(sched, 'agent-1');
    const [fails, sleeper1, sleeper2] = await sched.launchGroup(
      offer,
      [
        { name: 'fails', command: 'sleep 0.5; exit 3', resources: 'cpus:0.1;mem:32' },
        { name: 'sleeper-1', command: 'sleep 60', resources: 'cpus:0.1;mem:32', killPolicy: { gracePeriodMs: 200 } },
        { name: 'sleeper-2', command: 'sleep 60', resources: 'cpus:0.1;mem:32', killPolicy: { gracePeriodMs: 200 } },
      ],
      { filters: { refuseSeconds: 0.1 } },
    );
    const ids = [fails!.taskId, sleeper1!.taskId, sleeper2!.taskId];
    await until(() => ids.every((id) => terminalOf(updates, id) !== undefined), 'every task to end', 20_000, () => cluster.logs());
    expect(terminalOf(updates, fails!.taskId)).toMatchObject({ state: TaskState.FAILED, exitCode: 3 });
    for (const s of [sleeper1!, sleeper2!]) {
      expect(terminalOf(updates, s.taskId)?.state).toBe(TaskState.KILLED);
      expect(terminalOf(updates, s.taskId)?.message).toMatch(`Killed with its task group: task ${fails!.taskId} ended TASK_FAILED`);
    }
  });

  it('a second group for a running default executor joins it: one process runs both groups', async () => {
    const updates = recordUpdates(sched);
    // the first task must outlive the whole second group (715 ms on a quiet machine; with
    // `sleep 1` a loaded CI run saw it end first, and forgotten, before the state was read)
    const first = await sched.launchGroup(await offerFrom(sched, 'agent-1'), [{ name: 'a', command: 'sleep 4', resources: 'cpus:0.1;mem:32' }], { executorId: 'shared', filters: { refuseSeconds: 0.1 } });
    await until(() => statesOf(updates, first[0]!.taskId).includes(TaskState.RUNNING), 'the first group running');
    const pid = (await agentState(cluster, 'agent-1')).executors.find((e) => e.executorId === 'shared')?.pid;
    const second = await sched.launchGroup(await offerFrom(sched, 'agent-1'), [{ name: 'b', command: 'true', resources: 'cpus:0.1;mem:32' }], { executorId: 'shared', filters: { refuseSeconds: 0.1 } });
    await until(() => terminalOf(updates, second[0]!.taskId) !== undefined, 'the second group to end', 15_000, () => cluster.logs());
    expect(terminalOf(updates, second[0]!.taskId)?.state).toBe(TaskState.FINISHED);
    const shared = (await agentState(cluster, 'agent-1')).executors.find((e) => e.executorId === 'shared');
    expect(shared?.pid).toBe(pid);
    expect(updates.filter((u) => u.taskId === second[0]!.taskId).every((u) => u.executorId === 'shared')).toBe(true);
    // the second task, finished and acknowledged, is forgotten while the executor lives on
    expect(shared?.taskIds).toEqual([first[0]!.taskId]);
    // both groups count against the container: 2 × 32 MB
    expect(shared?.usage?.memLimitBytes).toBe(64 * 1024 * 1024);
    await until(() => terminalOf(updates, first[0]!.taskId) !== undefined, 'the first group to end');
  });
});
