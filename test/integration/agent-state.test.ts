// The agent's own state over NATS (GET_STATE on its state subject): the isolator, each
// executor's container usage (cpu time, memory, limits), and the drain state as
// the operator's DRAIN_AGENT and REACTIVATE_AGENT (through the master) change it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from '../../actors/runtime/request.js';
import type { Scheduler } from '../../actors/scheduler/index.js';
import { OperatorApiReply, type OperatorApiCall } from '../../protocol/operator-api.js';
import { Resources } from '../../protocol/resources.js';
import { Subjects } from '../../protocol/subjects.js';
import { TaskReason, TaskState } from '../../protocol/task-state.js';
import { agentState, asMaster, connectFramework, offerFrom, recordUpdates, statesOf, terminalOf, until } from '../helpers/agent-tests.js';
import { TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;
let sched: Scheduler;
const MiB = 1024 * 1024;

beforeAll(async () => {
  cluster = await TestCluster.start({ agents: 1 });
  sched = await connectFramework(cluster, 'agent-state');
});

/** An operator API call to the leading master over NATS. */
async function operator(call: OperatorApiCall): Promise<OperatorApiReply> {
  const nc = await cluster.connect();
  return request(nc, new Subjects(cluster.name).operatorCall('ops'), call, OperatorApiReply, { timeoutMs: 5000, attempts: 5 });
}

afterAll(async () => {
  await sched?.close();
  await cluster?.stop();
});

describe('agent state', () => {
  it('shows the isolator, and per executor its container\'s cpu time and memory against its limits', async () => {
    const updates = recordUpdates(sched);
    const offer = await offerFrom(sched, 'agent-1');
    const launchedAt = Date.now();
    const [task] = await sched.launch(offer, [{ name: 'busy', command: 'while :; do :; done', resources: 'cpus:0.2;mem:48' }], { refuseSeconds: 0.1 });
    const id = task!.taskId;
    await until(() => statesOf(updates, id).includes(TaskState.RUNNING), 'RUNNING');
    await new Promise((r) => setTimeout(r, 1200));
    const state = await agentState(cluster, 'agent-1');
    expect(state).toMatchObject({ id: 'agent-1', registered: true, drain: { state: 'active' } });
    expect(['cgroups-v1', 'cgroups-v2', 'posix']).toContain(state.isolation.isolator);
    const ex = state.executors.find((e) => e.executorId === id);
    expect(ex).toMatchObject({ kind: 'command', phase: 'subscribed', taskIds: [id] });
    expect(ex?.pid).toBeGreaterThan(0);
    expect(ex?.usage).toMatchObject({ memLimitBytes: 48 * MiB, cpusLimit: 0.2 });
    // a busy loop for over a second: some cpu time; held to 0.2 cpus where cgroups enforce it
    // (bounded by the time it has existed, however slow this machine is today)
    const cpu = (ex?.usage?.cpuUserSeconds ?? 0) + (ex?.usage?.cpuSystemSeconds ?? 0);
    expect(cpu).toBeGreaterThan(0.05);
    const livedSeconds = (Date.now() - launchedAt) / 1000;
    if (state.isolation.isolator !== 'posix') expect(cpu).toBeLessThan(livedSeconds * 0.2 * 1.5 + 0.2);
    expect(ex?.usage?.processes).toBeGreaterThanOrEqual(1);
    // The Node executor itself is outside the container; its own memory is shown apart.
    expect(ex?.executorMemBytes).toBeGreaterThan(20 * MiB);
    expect(state.tasks.find((t) => t.taskId === id)).toMatchObject({ state: TaskState.RUNNING, frameworkId: sched.frameworkId });

    // the same through the master's HTTP: JSON, and Prometheus text for scrapers
    const url = await cluster.httpUrl(cluster.master!);
    const viaMaster = (await (await fetch(`${url}/agents/agent-1/state`)).json()) as typeof state;
    expect(viaMaster.executors.find((e) => e.executorId === id)).toMatchObject({ kind: 'command', usage: { memLimitBytes: 48 * MiB } });
    const metrics = await (await fetch(`${url}/agents/agent-1/metrics`)).text();
    expect(metrics).toContain(`nesos_agent_executor_memory_limit_bytes{executor="${id}",framework="${sched.frameworkId}",agent="agent-1"} ${48 * MiB}`);
    expect(metrics).toMatch(new RegExp(`nesos_agent_executor_cpu_seconds_total\\{executor="${id}",framework="[^"]+",mode="user",agent="agent-1"\\} [0-9.e-]+`));
    expect(metrics).toContain('nesos_agent_tasks{state="TASK_RUNNING",agent="agent-1"} 1');
    await sched.kill(id, { agentId: 'agent-1', gracePeriodMs: 0 });
    await until(() => terminalOf(updates, id) !== undefined, 'the kill');
  });

  it('drains: kills the tasks with a capped grace period, refuses new ones, is DRAINED, and takes tasks again once reactivated', async () => {
    const updates = recordUpdates(sched);
    const offer = await offerFrom(sched, 'agent-1');
    const [task] = await sched.launch(offer, [{ name: 'long', command: 'trap "" TERM; sleep 60', resources: 'cpus:0.1;mem:32', killPolicy: { gracePeriodMs: 60_000 } }], { refuseSeconds: 0.1 });
    const id = task!.taskId;
    await until(() => statesOf(updates, id).includes(TaskState.RUNNING), 'RUNNING');
    // the operator API, as `nesos drain` calls it: the master deactivates the agent and tells it to drain
    expect(await operator({ type: 'DRAIN_AGENT', agentId: 'agent-1', maxGracePeriodMs: 300 })).toMatchObject({ type: 'OK' });
    await until(() => terminalOf(updates, id) !== undefined, 'the drained task to end', 10_000, () => cluster.logs());
    expect(terminalOf(updates, id)?.state).toBe(TaskState.KILLED);
    let drained = false;
    for (let i = 0; i < 50 && !drained; i++) {
      drained = (await agentState(cluster, 'agent-1')).drain.state === 'drained';
      if (!drained) await new Promise((r) => setTimeout(r, 100));
    }
    expect(drained).toBe(true);

    // the master offers nothing of a draining agent; a task that reaches it anyway (sent as
    // a master would) is dropped by the agent itself
    await expect(offerFrom(sched, 'agent-1', 1500)).rejects.toThrow(/no offer from agent-1/);
    const stray = { taskId: 'stray', name: 'stray', agentId: 'agent-1', resources: Resources.parse('cpus:0.1;mem:32').toWire(), command: { value: 'true', environment: {} } };
    await asMaster(cluster, 'agent-1', { type: 'RUN_TASK', frameworkId: sched.frameworkId, framework: { id: sched.frameworkId, name: 'agent-state', principal: sched.frameworkId, roles: ['*'], capabilities: [], failoverTimeoutSeconds: 0 }, task: stray });
    await until(() => terminalOf(updates, 'stray') !== undefined, 'the refusal', 10_000, () => cluster.logs());
    expect(terminalOf(updates, 'stray')).toMatchObject({ state: TaskState.DROPPED, reason: TaskReason.AGENT_DRAINING });

    expect(await operator({ type: 'REACTIVATE_AGENT', agentId: 'agent-1' })).toMatchObject({ type: 'OK' });
    const again = await offerFrom(sched, 'agent-1');
    const [ok] = await sched.launch(again, [{ name: 'welcome-back', command: 'true', resources: 'cpus:0.1;mem:32' }], { refuseSeconds: 0.1 });
    await until(() => terminalOf(updates, ok!.taskId) !== undefined, 'the task after reactivation');
    expect(terminalOf(updates, ok!.taskId)?.state).toBe(TaskState.FINISHED);
    expect((await agentState(cluster, 'agent-1')).drain.state).toBe('active');
  });
});
