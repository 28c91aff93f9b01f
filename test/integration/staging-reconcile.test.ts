// A launch lost while an agent's process is replaced (docs/reliability.md, finding 7), made
// deterministic on real processes: the agent is SIGKILLed, the framework launches on the
// offer it still holds (the master has not noticed: it allows 30 missed heartbeats here), so
// the RUN_TASK reaches nobody; the agent is started again on the same work dir and registers
// without the task. The master asks it (RECONCILE_TASKS, behind any RUN_TASK on the way),
// the agent says it does not have the task, and the framework receives TASK_DROPPED
// (partition-aware) or TASK_LOST, REASON_RECONCILIATION, through the updates stream; the
// resources come back. A kill made while the task was stuck ends with it. And a kill of a
// task whose RUN_TASK is still on its way (the agent paused) is not taken for a lost launch.
import { describe, expect, it } from 'vitest';
import type { Scheduler } from '../../actors/scheduler/index.js';
import { TaskReason, TaskState } from '../../protocol/task-state.js';
import { connectFramework, killAgent, offerFrom, recordUpdates, statesOf, stoppedAfterEach, terminalOf, until } from '../helpers/agent-tests.js';
import { TestCluster } from '../helpers/cluster.js';

const held = stoppedAfterEach();

const RESOURCES = 'cpus:2;mem:1024;disk:1024;ports:[31000-31100]';

async function setUp(name: string, partitionAware: boolean): Promise<{ c: TestCluster; s: Scheduler }> {
  // 30 missed heartbeats: the master goes on taking the SIGKILLed agent for alive meanwhile
  const cluster = (held.cluster = await TestCluster.start({ agents: 1, masterArgs: ['--max-missed-heartbeats', '30'] }));
  const sched = (held.sched = await connectFramework(cluster, name, { framework: { name, ...(partitionAware && { capabilities: ['PARTITION_AWARE'] }) } }));
  return { c: cluster, s: sched };
}

describe('a launch lost while the agent process is replaced', () => {
  it('ends TASK_DROPPED (REASON_RECONCILIATION) for a partition-aware framework once the agent is back, and the resources come back', async () => {
    const { c, s } = await setUp('staging-dropped', true);
    const updates = recordUpdates(s);
    const offer = await offerFrom(s, 'agent-1');
    await killAgent(c.agents[0]!);
    const [task] = await s.launch(offer, [{ name: 'lost-launch', command: 'sleep 30', resources: 'cpus:1;mem:64' }]);
    const id = task!.taskId;
    // the RUN_TASK reached nobody: the master holds the task STAGING
    const staging = await c.waitFor((m) => m.tasks.some((t) => t.taskId === id && t.state === TaskState.STAGING));
    expect(staging.agents.find((a) => a.id === 'agent-1')?.status).toBe('active');

    c.startAgent('agent-1', RESOURCES);
    await until(() => terminalOf(updates, id) !== undefined, 'the lost task to end', 30_000, () => c.logs());
    expect(terminalOf(updates, id)).toMatchObject({ state: TaskState.DROPPED, reason: TaskReason.RECONCILIATION, agentId: 'agent-1' });
    expect(statesOf(updates, id)).toEqual([TaskState.DROPPED]);
    const after = await c.waitFor((m) => !m.tasks.some((t) => t.taskId === id));
    expect(after.frameworks.find((f) => f.id === s.frameworkId)?.tasks).toBe(0);
    // its resources are offered again: the whole agent
    const whole = await offerFrom(s, 'agent-1', 20_000, 'cpus:2;mem:1024');
    expect(whole.agentId).toBe('agent-1');
  });

  it('ends TASK_LOST (REASON_RECONCILIATION) for a framework that is not partition-aware; a kill made meanwhile ends with it', async () => {
    const { c, s } = await setUp('staging-lost', false);
    const updates = recordUpdates(s);
    const offer = await offerFrom(s, 'agent-1');
    await killAgent(c.agents[0]!);
    const [task] = await s.launch(offer, [{ name: 'lost-launch', command: 'sleep 30', resources: 'cpus:1;mem:64' }]);
    const id = task!.taskId;
    await c.waitFor((m) => m.tasks.some((t) => t.taskId === id && t.state === TaskState.STAGING));
    await s.kill(id); // its KILL_TASK reaches nobody either
    await new Promise((r) => setTimeout(r, 300));
    expect((await c.state()).tasks.find((t) => t.taskId === id)?.state).toBe(TaskState.STAGING);

    c.startAgent('agent-1', RESOURCES);
    await until(() => terminalOf(updates, id) !== undefined, 'the lost task to end', 30_000, () => c.logs());
    expect(terminalOf(updates, id)).toMatchObject({ state: TaskState.LOST, reason: TaskReason.RECONCILIATION });
    await c.waitFor((m) => !m.tasks.some((t) => t.taskId === id));
    // a kill now is answered at once with the task's end
    const before = updates.length;
    await s.kill(id);
    await until(() => updates.slice(before).some((u) => u.taskId === id), 'the answer to the second kill', 10_000);
    expect(updates.slice(before).find((u) => u.taskId === id)?.state).toBe(TaskState.LOST);
  });

  it('a kill of a task whose RUN_TASK is still on its way (the agent paused) kills it; it is not dropped', async () => {
    const { c, s } = await setUp('staging-in-flight', true);
    const updates = recordUpdates(s);
    const offer = await offerFrom(s, 'agent-1');
    const agent = c.agents[0]!;
    process.kill(agent.pid, 'SIGSTOP');
    try {
      const [task] = await s.launch(offer, [{ name: 'in-flight', command: 'sleep 30', resources: 'cpus:1;mem:64' }]);
      const id = task!.taskId;
      await c.waitFor((m) => m.tasks.some((t) => t.taskId === id && t.state === TaskState.STAGING));
      await s.kill(id);
      await new Promise((r) => setTimeout(r, 300)); // RUN_TASK, then KILL_TASK, wait in the agent's connection
      process.kill(agent.pid, 'SIGCONT');
      await until(() => terminalOf(updates, id) !== undefined, 'the killed task to end', 30_000, () => c.logs());
      expect(terminalOf(updates, id)?.state).toBe(TaskState.KILLED);
      expect(statesOf(updates, id)).not.toContain(TaskState.DROPPED);
    } finally {
      if (!agent.hasExited) process.kill(agent.pid, 'SIGCONT');
    }
  });
});
