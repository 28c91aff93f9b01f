// Custom executors on real processes: a framework launches tasks naming one custom
// executor (the example written with the executor SDK, dist/examples/echo-executor.js); the
// agent starts it once and hands it both tasks; it reports them, echoes a framework message
// back, and a KILL reaches it. Recovery: the agent is SIGKILLed while the executor runs and
// started again; the executor reconnects and its task finishes with its updates delivered.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ExecutorSpec, Scheduler } from '../../actors/scheduler/index.js';
import { TaskState } from '../../protocol/task-state.js';
import { agentState, connectFramework, offerFrom, recordUpdates, statesOf, stoppedAfterEach, terminalOf, until } from '../helpers/agent-tests.js';
import { TestCluster } from '../helpers/cluster.js';
import { isAlive } from '../helpers/processes.js';

const EXAMPLE = resolve('dist/examples/echo-executor.js');
const ECHO: ExecutorSpec = { executorId: 'echo', name: 'echo', command: `${process.execPath} ${EXAMPLE}`, resources: 'cpus:0.1;mem:128' };

const held = stoppedAfterEach();

async function setUp(name: string): Promise<{ c: TestCluster; s: Scheduler }> {
  const cluster = (held.cluster = await TestCluster.start({ agents: 1 }));
  const sched = (held.sched = await connectFramework(cluster, name));
  return { c: cluster, s: sched };
}

async function executorOf(c: TestCluster, executorId: string) {
  return (await agentState(c, 'agent-1')).executors.find((e) => e.executorId === executorId);
}

/** Polls `probe` (every 100 ms, errors meaning "not yet") until it gives a value; fails after 45 s with the cluster's logs. */
async function eventually<T>(probe: () => Promise<T | undefined>, what: string, c: TestCluster): Promise<T> {
  const deadline = Date.now() + 45_000;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${c.logs()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A shell loop that ends once `file` exists (the test decides when a task finishes). */
function waitFor(file: string): string {
  return `while [ ! -e ${file} ]; do sleep 0.1; done; echo released`;
}

describe('custom executors', () => {
  it('runs two tasks in one executor process, echoes a framework message back, and takes a KILL', async () => {
    const { c, s } = await setUp('custom');
    const updates = recordUpdates(s);
    const messages: string[] = [];
    s.on('message', (m) => {
      if (m.executorId === 'echo' && m.agentId === 'agent-1') messages.push(new TextDecoder().decode(m.data));
    });
    const [a] = await s.launch(await offerFrom(s, 'agent-1'), [{ name: 'a', command: 'sleep 60', resources: 'cpus:0.1;mem:32', executor: ECHO }], { refuseSeconds: 0.1 });
    await until(() => statesOf(updates, a!.taskId).includes(TaskState.RUNNING), 'task a RUNNING', 40_000, () => c.logs());
    const first = await executorOf(c, 'echo');
    expect(first).toMatchObject({ kind: 'custom', phase: 'subscribed', taskIds: [a!.taskId] });

    // A second task, in another ACCEPT, goes to the same process.
    const [b] = await s.launch(await offerFrom(s, 'agent-1'), [{ name: 'b', command: 'echo hello from b', resources: 'cpus:0.1;mem:32', executor: ECHO }], { refuseSeconds: 0.1 });
    await until(() => terminalOf(updates, b!.taskId) !== undefined, 'task b to end', 40_000, () => c.logs());
    expect(statesOf(updates, b!.taskId)).toEqual([TaskState.STARTING, TaskState.RUNNING, TaskState.FINISHED]);
    expect(updates.filter((u) => u.taskId === b!.taskId).every((u) => u.executorId === 'echo')).toBe(true);
    expect((await executorOf(c, 'echo'))?.pid).toBe(first?.pid);
    const sandbox = join(c.dir, 'agent-1', 'agents', 'agent-1', 'frameworks', s.frameworkId, 'executors', 'echo', 'runs', 'latest');
    expect(readFileSync(join(sandbox, 'tasks', b!.taskId, 'stdout'), 'utf8')).toBe('hello from b\n');

    // framework → executor → framework
    await s.message('agent-1', 'echo', new TextEncoder().encode('ping'));
    await until(() => messages.includes('echo: ping'), 'the echo of the message', 15_000, () => c.logs());

    await s.kill(a!.taskId, { gracePeriodMs: 500 });
    await until(() => terminalOf(updates, a!.taskId) !== undefined, 'task a to end', 15_000, () => c.logs());
    expect(statesOf(updates, a!.taskId)).toEqual([TaskState.STARTING, TaskState.RUNNING, TaskState.KILLING, TaskState.KILLED]);
    // the executor outlives its tasks until its framework goes: then SHUTDOWN, and it exits
    expect((await executorOf(c, 'echo'))?.pid).toBe(first?.pid);
    await s.teardown();
    await until(() => !isAlive(first!.pid!), 'the executor to exit after teardown', 30_000, () => c.logs());
  }, 120_000);

  it('reconnects after a SIGKILL of its agent; its task finishes with every update delivered', async () => {
    const { c, s } = await setUp('custom-recovery');
    const updates = recordUpdates(s);
    const release = join(c.dir, 'release');
    const [t] = await s.launch(await offerFrom(s, 'agent-1'), [{ name: 'waits', command: waitFor(release), resources: 'cpus:0.1;mem:32', executor: ECHO }], { refuseSeconds: 0.1 });
    await until(() => statesOf(updates, t!.taskId).includes(TaskState.RUNNING), 'the task RUNNING', 40_000, () => c.logs());
    const pid = (await executorOf(c, 'echo'))?.pid;
    expect(pid).toBeGreaterThan(0);

    const agent = c.agents[0]!;
    process.kill(agent.pid, 'SIGKILL');
    await agent.exited;
    expect(isAlive(pid!)).toBe(true);
    c.startAgent('agent-1');
    // the agent takes it back from its checkpoint, sends RECONNECT, and the SDK subscribes again
    const back = await eventually(async () => {
      const state = await agentState(c, 'agent-1');
      const e = state.executors.find((x) => x.executorId === 'echo');
      return e?.phase === 'subscribed' ? { state, e } : undefined;
    }, 'the executor to subscribe again', c);
    expect(back.state.recovery).toMatchObject({ mode: 'reconnect', executors: 1, reattached: 1, gone: 0 });
    expect(back.e).toMatchObject({ kind: 'custom', pid });
    expect(terminalOf(updates, t!.taskId)).toBeUndefined();

    writeFileSync(release, '');
    await until(() => terminalOf(updates, t!.taskId) !== undefined, 'the task to end', 40_000, () => c.logs());
    expect(statesOf(updates, t!.taskId)).toEqual([TaskState.STARTING, TaskState.RUNNING, TaskState.FINISHED]);
    expect(terminalOf(updates, t!.taskId)?.executorId).toBe('echo');
  }, 120_000);
});
