// Spare executors on real processes: the agent keeps one built-in executor process started
// ahead of need (shown in its state); a task group binds it (the group's executor is that
// very process) and runs and reports; another spare takes its place. A SIGKILLed agent
// leaves no spare behind, while the executor bound from a spare outlives it and is taken
// back by the restarted agent; a stopped agent leaves none either. --spare-executors 0
// keeps none.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Scheduler } from '../../actors/scheduler/index.js';
import type { AgentSnapshot } from '../../protocol/agent-state.js';
import { TaskState } from '../../protocol/task-state.js';
import { agentState, connectFramework, killAgent, offerFrom, recordUpdates, statesOf, stoppedAfterEach, terminalOf, until } from '../helpers/agent-tests.js';
import { TestCluster } from '../helpers/cluster.js';
import { isAlive, stopProcess } from '../helpers/processes.js';

const held = stoppedAfterEach();

const RESOURCES = 'cpus:2;mem:1024;disk:1024;ports:[31000-31100]';

async function setUp(name: string, agentArgs: string[] = []): Promise<{ c: TestCluster; s: Scheduler }> {
  const cluster = (held.cluster = await TestCluster.start({ agents: 0 }));
  cluster.startAgent('agent-1', RESOURCES, agentArgs);
  await cluster.waitForAgents(1);
  const sched = (held.sched = await connectFramework(cluster, name));
  return { c: cluster, s: sched };
}

/** The agent's state, retried while it is (re)starting. */
async function stateOf(c: TestCluster): Promise<AgentSnapshot> {
  for (let i = 0; ; i++) {
    try {
      return await agentState(c, 'agent-1');
    } catch (e) {
      if (i >= 100) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Waits for the agent to show a spare with a pid, and returns that pid. */
async function sparePid(c: TestCluster, not?: number): Promise<number> {
  let pid: number | undefined;
  for (let i = 0; i < 200 && pid === undefined; i++) {
    const spare = (await stateOf(c)).spares?.find((s) => s.pid !== undefined && s.pid !== not && !s.stopping);
    pid = spare?.pid;
    if (pid === undefined) await new Promise((r) => setTimeout(r, 100));
  }
  if (pid === undefined) throw new Error(`no spare executor shown by the agent\n${c.logs()}`);
  return pid;
}

/** The executor pids the agent checkpointed. */
function checkpointedPids(c: TestCluster): Record<string, number> {
  const file = JSON.parse(readFileSync(join(c.dir, 'agent-1', 'meta', 'checkpoint.json'), 'utf8')) as { processes: Record<string, { pid: number }> };
  return Object.fromEntries(Object.entries(file.processes).map(([id, p]) => [id, p.pid]));
}

/** The command line of a process, '' when it is gone. */
function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

describe('spare executors', () => {
  it('a task group binds the spare: the spare process becomes its executor, runs and reports the group; a new spare follows', async () => {
    const { c, s } = await setUp('spare-bind');
    const spare = await sparePid(c);
    expect(cmdline(spare)).toMatch(/executor\/main\.js --spare /);
    expect(Object.values(checkpointedPids(c))).not.toContain(spare); // a spare is no executor yet
    const updates = recordUpdates(s);
    const tasks = await s.launchGroup(
      await offerFrom(s, 'agent-1'),
      ['a', 'b'].map((n) => ({ name: n, command: `echo hello from ${n}; sleep 1`, resources: 'cpus:0.1;mem:32' })),
      { executorId: 'bound', filters: { refuseSeconds: 0.1 } },
    );
    const ids = tasks.map((t) => t.taskId);
    await until(() => ids.every((id) => statesOf(updates, id).includes(TaskState.RUNNING)), 'the group RUNNING', 20_000, () => c.logs());
    const state = await stateOf(c);
    const executor = state.executors.find((e) => e.executorId === 'bound');
    expect(executor?.pid).toBe(spare);
    expect(executor?.kind).toBe('default');
    expect(checkpointedPids(c).bound).toBe(spare);
    await until(() => ids.every((id) => terminalOf(updates, id) !== undefined), 'the group to end', 20_000, () => c.logs());
    for (const id of ids) expect(statesOf(updates, id)).toEqual([TaskState.STARTING, TaskState.RUNNING, TaskState.FINISHED]);
    const sandbox = join(c.dir, 'agent-1', 'agents', 'agent-1', 'frameworks', s.frameworkId, 'executors', 'bound', 'runs', 'latest');
    expect(readFileSync(join(sandbox, 'tasks', ids[0]!, 'stdout'), 'utf8')).toBe('hello from a\n');
    // the bound spare logs where an executor started for the run would
    expect(readFileSync(join(sandbox, 'executor.log'), 'utf8')).toMatch(/"actor":"executor","id":"bound"/);
    const next = await sparePid(c, spare);
    expect(next).not.toBe(spare);
  });

  it('a SIGKILLed agent leaves no spare behind; the executor bound from a spare outlives it and is taken back', async () => {
    const { c, s } = await setUp('spare-recovery');
    const spare = await sparePid(c);
    const updates = recordUpdates(s);
    const tasks = await s.launchGroup(
      await offerFrom(s, 'agent-1'),
      [{ name: 'long', command: 'sleep 4', resources: 'cpus:0.1;mem:32' }],
      { executorId: 'survivor', filters: { refuseSeconds: 0.1 } },
    );
    const id = tasks[0]!.taskId;
    await until(() => statesOf(updates, id).includes(TaskState.RUNNING), 'the task RUNNING', 20_000, () => c.logs());
    expect(checkpointedPids(c).survivor).toBe(spare);
    const nextSpare = await sparePid(c, spare);

    await killAgent(c.agents[0]!);
    await until(() => !isAlive(nextSpare), 'the unbound spare to exit with the agent', 10_000);
    expect(isAlive(spare)).toBe(true); // bound: an executor now, it stays

    c.startAgent('agent-1', RESOURCES);
    await until(() => terminalOf(updates, id) !== undefined, 'the task to finish', 30_000, () => c.logs());
    expect(terminalOf(updates, id)?.state).toBe(TaskState.FINISHED);
    expect([...new Set(statesOf(updates, id))]).toEqual([TaskState.STARTING, TaskState.RUNNING, TaskState.FINISHED]);
    const state = await stateOf(c);
    expect(state.recovery).toMatchObject({ mode: 'reconnect', executors: 1, reattached: 1, gone: 0 });
  });

  it('a stopped agent lets its spare go', async () => {
    const { c } = await setUp('spare-stop');
    const spare = await sparePid(c);
    await stopProcess(c.agents[0]!);
    await until(() => !isAlive(spare), 'the spare to exit', 10_000);
  });

  it('--spare-executors 0 keeps none, and groups still run', async () => {
    const { c, s } = await setUp('spare-off', ['--spare-executors', '0']);
    const updates = recordUpdates(s);
    const tasks = await s.launchGroup(await offerFrom(s, 'agent-1'), [{ name: 'x', command: 'true', resources: 'cpus:0.1;mem:32' }], { filters: { refuseSeconds: 0.1 } });
    await until(() => terminalOf(updates, tasks[0]!.taskId) !== undefined, 'the task to end', 20_000, () => c.logs());
    expect(terminalOf(updates, tasks[0]!.taskId)?.state).toBe(TaskState.FINISHED);
    await new Promise((r) => setTimeout(r, 500));
    expect((await stateOf(c)).spares).toEqual([]);
  });
});
