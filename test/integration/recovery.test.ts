// Agent recovery on real processes: the agent is SIGKILLed while its tasks run and started
// again on the same work dir. Its executors outlive it and reconnect: the tasks keep
// running and finish, with every update delivered, including one produced while the agent
// was down. An executor killed while the agent was down is reported, and its task's
// processes do not survive it. With --recover=cleanup, running executors are killed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Scheduler, TaskInfo } from '../../actors/scheduler/index.js';
import { TaskReason, TaskState } from '../../protocol/task-state.js';
import { agentState, connectFramework, killAgent, offerFrom, recordUpdates, statesOf, stoppedAfterEach, terminalOf, until } from '../helpers/agent-tests.js';
import { TestCluster } from '../helpers/cluster.js';
import { isAlive, processesUnder } from '../helpers/processes.js';

const held = stoppedAfterEach();

const RESOURCES = 'cpus:2;mem:1024;disk:1024;ports:[31000-31100]';

async function setUp(name: string): Promise<{ c: TestCluster; s: Scheduler }> {
  const cluster = (held.cluster = await TestCluster.start({ agents: 1 }));
  const sched = (held.sched = await connectFramework(cluster, name));
  return { c: cluster, s: sched };
}

/** The executor pids the agent checkpointed. */
function checkpointedPids(c: TestCluster): Record<string, number> {
  const file = JSON.parse(readFileSync(join(c.dir, 'agent-1', 'meta', 'checkpoint.json'), 'utf8')) as { processes: Record<string, { pid: number }> };
  return Object.fromEntries(Object.entries(file.processes).map(([id, p]) => [id, p.pid]));
}

describe('agent recovery', () => {
  it('keeps tasks running across a SIGKILL of the agent; they finish with every update delivered, one produced while it was down', async () => {
    const { c, s } = await setUp('recovery');
    const updates = recordUpdates(s);
    const offer = await offerFrom(s, 'agent-1');
    const tasks: TaskInfo[] = await s.launch(
      offer,
      [
        { name: 'during-downtime', command: 'sleep 1; echo finished while the agent was away', resources: 'cpus:0.1;mem:32' },
        { name: 'after-restart', command: 'sleep 5; echo finished after', resources: 'cpus:0.1;mem:32' },
      ],
      { refuseSeconds: 0.1 },
    );
    const group = await s.launchGroup(await offerFrom(s, 'agent-1'), [
      { name: 'g1', command: 'sleep 5', resources: 'cpus:0.1;mem:32' },
      { name: 'g2', command: 'sleep 5', resources: 'cpus:0.1;mem:32' },
    ], { executorId: 'group-recovered', filters: { refuseSeconds: 0.1 } });
    const ids = [...tasks, ...group].map((t) => t.taskId);
    await until(() => ids.every((id) => statesOf(updates, id).includes(TaskState.RUNNING)), 'every task RUNNING', 20_000, () => c.logs());

    await killAgent(c.agents[0]!);
    await new Promise((r) => setTimeout(r, 1500)); // the short task finishes meanwhile
    c.startAgent('agent-1', RESOURCES);

    // Right after the restart: the long tasks are still running, as the agent and the master see it.
    let state = await agentStateEventually(c);
    expect(state.recovery).toMatchObject({ mode: 'reconnect', executors: 3, reattached: 3, gone: 0 });
    expect(state.tasks.find((t) => t.taskId === tasks[1]!.taskId)?.state).toBe(TaskState.RUNNING);
    const master = await c.waitFor((m) => m.tasks.some((t) => t.taskId === tasks[1]!.taskId && t.state === TaskState.RUNNING));
    expect(master.agents.find((a) => a.id === 'agent-1')?.status).toBe('active');

    await until(() => ids.every((id) => terminalOf(updates, id) !== undefined), 'every task to end', 30_000, () => c.logs());
    for (const id of ids) {
      expect(terminalOf(updates, id)?.state, id).toBe(TaskState.FINISHED);
      // in order, no state twice apart from a resent one: STARTING, RUNNING, FINISHED
      expect([...new Set(statesOf(updates, id))], id).toEqual([TaskState.STARTING, TaskState.RUNNING, TaskState.FINISHED]);
    }
    // every update was acknowledged: the agent forgets the tasks and their executors
    for (let i = 0; i < 100 && state.tasks.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      state = await agentState(c, 'agent-1');
    }
    expect(state.tasks).toEqual([]);
  });

  it('reports a task whose executor was killed while the agent was down, and its processes do not survive', async () => {
    const { c, s } = await setUp('recovery-lost');
    const updates = recordUpdates(s);
    const offer = await offerFrom(s, 'agent-1');
    const [task] = await s.launch(offer, [{ name: 'orphan', command: 'sleep 60', resources: 'cpus:0.1;mem:32' }], { refuseSeconds: 0.1 });
    const id = task!.taskId;
    await until(() => statesOf(updates, id).includes(TaskState.RUNNING), 'RUNNING');
    const sandbox = join(c.dir, 'agent-1', 'agents', 'agent-1', 'frameworks', s.frameworkId, 'executors', id);
    await until(() => checkpointedPids(c)[id] !== undefined, 'the checkpoint to hold the executor');
    const executorPid = checkpointedPids(c)[id]!;

    await killAgent(c.agents[0]!);
    process.kill(executorPid, 'SIGKILL');
    await until(() => !isAlive(executorPid), 'the executor to die');
    expect(processesUnder(sandbox).length).toBeGreaterThan(0); // the task's sleep, orphaned
    c.startAgent('agent-1', RESOURCES);

    await until(() => terminalOf(updates, id) !== undefined, 'the lost task to be reported', 20_000, () => c.logs());
    expect(terminalOf(updates, id)).toMatchObject({ state: TaskState.FAILED, reason: TaskReason.EXECUTOR_TERMINATED });
    expect(terminalOf(updates, id)?.message).toMatch(/Executor exited while the agent was down/);
    await until(() => processesUnder(sandbox).length === 0, 'the orphaned task processes to be killed', 5000);
    expect((await agentState(c, 'agent-1')).recovery).toMatchObject({ executors: 1, reattached: 0, gone: 1 });
  });

  it('with --recover=cleanup, kills the executors it finds running and reports their tasks', async () => {
    const { c, s } = await setUp('recovery-cleanup');
    const updates = recordUpdates(s);
    const offer = await offerFrom(s, 'agent-1');
    const [task] = await s.launch(offer, [{ name: 'doomed', command: 'sleep 60', resources: 'cpus:0.1;mem:32' }], { refuseSeconds: 0.1 });
    const id = task!.taskId;
    await until(() => statesOf(updates, id).includes(TaskState.RUNNING), 'RUNNING');
    await until(() => checkpointedPids(c)[id] !== undefined, 'the checkpoint to hold the executor');
    const executorPid = checkpointedPids(c)[id]!;
    await killAgent(c.agents[0]!);
    expect(isAlive(executorPid)).toBe(true);
    c.startAgent('agent-1', RESOURCES, ['--recover', 'cleanup']);
    await until(() => terminalOf(updates, id) !== undefined, 'the task to be reported', 20_000, () => c.logs());
    expect(terminalOf(updates, id)).toMatchObject({ state: TaskState.FAILED, reason: TaskReason.EXECUTOR_TERMINATED });
    expect(terminalOf(updates, id)?.message).toMatch(/--recover=cleanup/);
    await until(() => !isAlive(executorPid), 'the executor to be killed', 5000);
  });
});

/** GET_STATE of agent-1, retried while the restarted agent comes up. */
async function agentStateEventually(c: TestCluster) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await agentState(c, 'agent-1');
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
