// `nesos simulate` against a real cluster: nats-server and a master as processes, 200
// simulated agents in one `nesos simulate` process, a framework written with the SDK that
// launches tasks onto them and sees each go TASK_RUNNING then TASK_FINISHED through the
// updates stream, and the simulator stopping cleanly on SIGTERM.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scheduler, TaskState, type TaskInfo, type TaskStatus } from '../../actors/scheduler/index.js';
import { silentLogger } from '../../actors/runtime/logger.js';
import { TestCluster } from '../helpers/cluster.js';
import { signalGroup, type TestProcess } from '../helpers/processes.js';

const AGENTS = 200;
const PER_AGENT = 2;
const LAUNCHES = 20;

let cluster: TestCluster;
let sim: TestProcess;

beforeAll(async () => {
  cluster = await TestCluster.start({ agents: 0 });
  sim = cluster.startNesos('simulate', [
    'simulate',
    '--agents', String(AGENTS),
    '--tasks-per-agent', String(PER_AGENT),
    '--task-duration', '500ms',
    '--cpus', '2',
    '--mem', '1024',
    '--json',
    '--stats-interval', '0',
    ...cluster.commonArgs,
  ]);
});

afterAll(async () => {
  await cluster?.stop();
});

/** Resolves once `done()` holds, polling every 50 ms; rejects with `what` and the logs after `timeoutMs`. */
async function until(done: () => boolean, what: string, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${cluster.logs()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The simulator's JSON progress lines. */
function progress(): Array<Record<string, unknown>> {
  return sim
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{"event"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('nesos simulate', () => {
  it('registers every simulated agent, with the tasks each starts with', async () => {
    const state = await cluster.waitFor((s) => s.agents.filter((a) => a.status === 'active').length === AGENTS && s.tasks.length === AGENTS * PER_AGENT, 45_000);
    expect(new Set(state.agents.map((a) => a.id))).toEqual(new Set(Array.from({ length: AGENTS }, (_, i) => `sim-${i}`)));
    expect(state.agents.every((a) => a.resources.includes('cpus:2'))).toBe(true);
    expect(state.tasks.every((t) => t.state === TaskState.RUNNING && t.frameworkId === 'sim-framework')).toBe(true);
    await until(() => progress().some((p) => p.event === 'registered'), 'the "registered" progress line');
    expect(progress().find((p) => p.event === 'registered')).toMatchObject({ agents: AGENTS, registered: AGENTS, running: AGENTS * PER_AGENT });
  });

  it('runs tasks a framework launches: each reaches TASK_RUNNING, then TASK_FINISHED, in order', async () => {
    const sched = await Scheduler.connect({ servers: cluster.natsUrl, cluster: cluster.name, framework: { name: 'sim-user' }, logger: silentLogger() });
    const updates: TaskStatus[] = [];
    const launched: TaskInfo[] = [];
    let planned = 0; // counted before the launch is sent, so that offer events handled together launch no more than LAUNCHES
    sched.on('update', (status) => {
      updates.push(status);
    });
    sched.on('offers', async (offers) => {
      for (const offer of offers) {
        if (planned >= LAUNCHES) {
          await sched.decline([offer.id], { refuseSeconds: 60 });
          continue;
        }
        planned += 1;
        launched.push(...(await sched.launch(offer, [{ name: 'sim-task', command: 'sleep 1', resources: 'cpus:0.5;mem:64' }], { refuseSeconds: 0 })));
      }
    });
    try {
      const finished = () => updates.filter((u) => u.state === TaskState.FINISHED).length;
      await until(() => finished() >= LAUNCHES, `${LAUNCHES} tasks to finish (${finished()} so far)`);
      expect(launched).toHaveLength(LAUNCHES);
      for (const task of launched) {
        expect(task.agentId).toMatch(/^sim-\d+$/);
        const states = updates.filter((u) => u.taskId === task.taskId).map((u) => u.state);
        expect(states).toEqual([TaskState.RUNNING, TaskState.FINISHED]);
        const finishedUpdate = updates.find((u) => u.taskId === task.taskId && u.state === TaskState.FINISHED);
        expect(finishedUpdate).toMatchObject({ agentId: task.agentId, source: 'SOURCE_EXECUTOR', exitCode: 0 });
      }
      // The master applied the same updates: the tasks are among its completed ones.
      const state = await cluster.waitFor((s) => launched.every((t) => s.completedTasks.some((c) => c.taskId === t.taskId && c.state === TaskState.FINISHED)));
      expect(state.tasks.filter((t) => t.frameworkId === sched.frameworkId)).toEqual([]);
    } finally {
      await sched.teardown().catch(() => undefined);
      await sched.close();
    }
  });

  it('stops cleanly on SIGTERM', async () => {
    signalGroup(sim, 'SIGTERM');
    const exit = await sim.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(sim.output()).toContain('"msg":"stopping"');
  });
});
