// Resource isolation on real processes: one agent with the isolator this host allows
// (`auto`: cgroups v1 on the test machines, v2 elsewhere), one with posix forced. A task
// over its memory limit ends TASK_FAILED with REASON_CONTAINER_LIMITATION_MEMORY on both;
// a task within its limits finishes; a task runs inside its container's cgroup, which is
// removed when its executor ends.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCgroupMounts, parseProcCgroup, cgroupDir } from '../../actors/agent/isolation/cgroupfs.js';
import type { Scheduler } from '../../actors/scheduler/index.js';
import { TaskReason, TaskState } from '../../protocol/task-state.js';
import { connectFramework, offerFrom, recordUpdates, terminalOf, until } from '../helpers/agent-tests.js';
import { TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;
let sched: Scheduler;

// 200 MB in one string, then a pause: over a 64 MB limit whichever way memory is watched.
const HOG = `perl -e '$x = "x" x (200 * 1024 * 1024); sleep 20'`;

beforeAll(async () => {
  cluster = await TestCluster.start({ agents: 1 });
  cluster.startAgent('agent-posix', 'cpus:2;mem:1024;disk:1024;ports:[31000-31100]', ['--isolation', 'posix']);
  await cluster.waitForAgents(2);
  sched = await connectFramework(cluster, 'isolation');
});

afterAll(async () => {
  await sched?.close();
  await cluster?.stop();
});

/** The isolator an agent logged at start. */
function isolatorOf(agent: string): string | undefined {
  const line = cluster.processes.find((p) => p.name === agent)?.output().split('\n').find((l) => l.includes('agent started'));
  return line === undefined ? undefined : (JSON.parse(line) as { isolation: { isolator: string } }).isolation.isolator;
}

/** This process's memory cgroup directory (the agents run in the same one). */
function ownMemoryCgroup(): string | undefined {
  const mount = parseCgroupMounts(readFileSync('/proc/self/mountinfo', 'utf8')).find((m) => m.version === 1 && m.controllers.includes('memory'));
  const own = parseProcCgroup(readFileSync('/proc/self/cgroup', 'utf8')).get('memory');
  return mount === undefined || own === undefined ? undefined : cgroupDir(mount, own);
}

/** Runs one task on `agentId` and returns its terminal update (and its task id). */
async function runOn(agentId: string, command: string, resources = 'cpus:0.2;mem:64') {
  const updates = recordUpdates(sched);
  const offer = await offerFrom(sched, agentId);
  const [task] = await sched.launch(offer, [{ name: 'iso', command, resources }], { refuseSeconds: 0.1 });
  const taskId = task!.taskId;
  await until(() => terminalOf(updates, taskId) !== undefined, `the end of ${taskId}`, 30_000, () => cluster.logs());
  return { taskId, status: terminalOf(updates, taskId)!, updates };
}

describe('isolation', () => {
  it('shows the isolator each agent chose: the best this host allows, and posix when forced', () => {
    expect(['cgroups-v1', 'cgroups-v2']).toContain(isolatorOf('agent-1'));
    expect(isolatorOf('agent-posix')).toBe('posix');
  });

  it('a task over its memory limit ends TASK_FAILED with REASON_CONTAINER_LIMITATION_MEMORY (cgroups)', async () => {
    const { status } = await runOn('agent-1', HOG);
    expect(status.state).toBe(TaskState.FAILED);
    expect(status.reason).toBe(TaskReason.MEMORY_LIMIT);
    expect(status.message).toMatch(/^Memory limit exceeded: requested 64 MB/);
  });

  it('a task over its memory limit ends TASK_FAILED with REASON_CONTAINER_LIMITATION_MEMORY (posix forced)', async () => {
    const { status } = await runOn('agent-posix', HOG);
    expect(status.state).toBe(TaskState.FAILED);
    expect(status.reason).toBe(TaskReason.MEMORY_LIMIT);
    expect(status.message).toMatch(/^Memory limit exceeded: requested 64 MB, maximum used \d+ MB \(posix/);
  });

  it('a task within its limits finishes, inside its own cgroup, which is removed when its executor ends', async () => {
    const { taskId, status } = await runOn('agent-1', 'cat /proc/self/cgroup; echo done', 'cpus:0.2;mem:32');
    expect(status.state).toBe(TaskState.FINISHED);
    if (isolatorOf('agent-1') !== 'cgroups-v1') return; // the layout checked below is v1's
    const stdout = readFileSync(join(cluster.dir, 'agent-1', 'agents', 'agent-1', 'frameworks', sched.frameworkId, 'executors', taskId, 'runs', 'latest', 'stdout'), 'utf8');
    expect(stdout).toMatch(new RegExp(`:memory:.*/nesos/agent-1/${taskId}\\n`));
    expect(stdout).toMatch(new RegExp(`:cpu[,a-z]*:.*/nesos/agent-1/${taskId}\\n`));
    const memory = ownMemoryCgroup();
    expect(memory).toBeDefined();
    await until(() => !existsSync(join(memory!, 'nesos', 'agent-1', taskId)), 'the container\'s cgroup to be removed', 10_000);
  });
});
