// Kill policies and health checks on real processes: SIGTERM then SIGKILL after the grace
// period (the task's kill policy, or the KILL call's), and COMMAND, HTTP and TCP health
// checks whose results reach the framework; an unhealthy task is killed with its reason.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Resources, type Scheduler, type TaskSpec } from '../../actors/scheduler/index.js';
import { TaskReason, TaskState } from '../../protocol/task-state.js';
import { connectFramework, offerFrom, recordUpdates, statesOf, terminalOf, until } from '../helpers/agent-tests.js';
import { TestCluster } from '../helpers/cluster.js';
import { freePort } from '../helpers/ports.js';

let cluster: TestCluster;
let sched: Scheduler;

beforeAll(async () => {
  cluster = await TestCluster.start({ agents: 1 });
  sched = await connectFramework(cluster, 'kill-health');
});

afterAll(async () => {
  await sched?.close();
  await cluster?.stop();
});

/** Launches `specs` on agent-1 and returns the task ids (in order) and the update log. */
async function launch(specs: TaskSpec[]) {
  const updates = recordUpdates(sched);
  const needs = specs.reduce((sum, t) => sum.add(typeof t.resources === 'string' ? Resources.parse(t.resources) : Resources.empty()), Resources.empty());
  const offer = await offerFrom(sched, 'agent-1', 15_000, needs.toString());
  const tasks = await sched.launch(offer, specs, { refuseSeconds: 0.1 });
  return { ids: tasks.map((t) => t.taskId), updates };
}

// Each prints `ready` once its trap is set: a SIGTERM that came before would end it unhandled.
const IGNORES_TERM = 'trap "" TERM; echo ready; sleep 60 & wait; sleep 60';
const HANDLES_TERM = 'trap "echo got TERM; exit 0" TERM; echo ready; sleep 60 & wait';

/** Waits until task `id` (its own executor on agent-1) has printed `ready`. */
async function ready(id: string): Promise<void> {
  const stdout = join(cluster.dir, 'agent-1', 'agents', 'agent-1', 'frameworks', sched.frameworkId, 'executors', id, 'runs', 'latest', 'stdout');
  await until(() => existsSync(stdout) && readFileSync(stdout, 'utf8').includes('ready'), `${id} to set its trap`);
}

describe('kill policy', () => {
  it('SIGTERM first; a task that ignores it gets SIGKILL once its kill policy\'s grace period is over', async () => {
    const { ids, updates } = await launch([{ name: 'stubborn', command: IGNORES_TERM, resources: 'cpus:0.1;mem:32', killPolicy: { gracePeriodMs: 600 } }]);
    const [id] = ids as [string];
    await until(() => statesOf(updates, id).includes(TaskState.RUNNING), 'RUNNING');
    await ready(id);
    const asked = Date.now();
    await sched.kill(id, { agentId: 'agent-1' });
    // within 10 s: the 600 ms grace period, not the 3 s default, decides (the wait is a bound, not a measurement)
    await until(() => terminalOf(updates, id) !== undefined, 'the end', 10_000, () => cluster.logs());
    expect(statesOf(updates, id).slice(-2)).toEqual([TaskState.KILLING, TaskState.KILLED]);
    expect(terminalOf(updates, id)?.signal).toBe('SIGKILL');
    // SIGKILL came no sooner than the grace period allows
    expect(Date.now() - asked).toBeGreaterThanOrEqual(600);
  });

  it('the KILL call\'s grace period overrides the task\'s; a task that handles SIGTERM ends on it', async () => {
    const { ids, updates } = await launch([
      { name: 'stubborn', command: IGNORES_TERM, resources: 'cpus:0.1;mem:32', killPolicy: { gracePeriodMs: 60_000 } },
      { name: 'polite', command: HANDLES_TERM, resources: 'cpus:0.1;mem:32', killPolicy: { gracePeriodMs: 60_000 } },
    ]);
    const [stubborn, polite] = ids as [string, string];
    await until(() => statesOf(updates, stubborn).includes(TaskState.RUNNING) && statesOf(updates, polite).includes(TaskState.RUNNING), 'RUNNING');
    await ready(stubborn);
    await ready(polite);
    await sched.kill(stubborn, { agentId: 'agent-1', gracePeriodMs: 300 });
    await sched.kill(polite, { agentId: 'agent-1', gracePeriodMs: 30_000 });
    // both end within 10 s: the KILL's 300 ms overrides stubborn's 60 s policy; polite ends on SIGTERM
    await until(() => terminalOf(updates, stubborn) !== undefined && terminalOf(updates, polite) !== undefined, 'both ends', 10_000, () => cluster.logs());
    expect(terminalOf(updates, stubborn)).toMatchObject({ state: TaskState.KILLED, signal: 'SIGKILL' });
    // As Mesos's command executor: a killed task is TASK_KILLED whatever its exit status.
    expect(terminalOf(updates, polite)).toMatchObject({ state: TaskState.KILLED, exitCode: 0 });
  });
});

const FAST = { delaySeconds: 0.2, intervalSeconds: 0.2, timeoutSeconds: 1, gracePeriodSeconds: 0, consecutiveFailures: 2 };

describe('health checks', () => {
  it('COMMAND: healthy, then unhealthy; after consecutive failures the task is killed and ends with the health reason', async () => {
    const { ids, updates } = await launch([
      {
        name: 'flaky',
        command: 'touch ok; sleep 1.5; rm ok; sleep 60',
        resources: 'cpus:0.1;mem:32',
        killPolicy: { gracePeriodMs: 200 },
        healthCheck: { type: 'COMMAND', command: { value: 'test -f ok' }, ...FAST },
      },
    ]);
    const [id] = ids as [string];
    await until(() => terminalOf(updates, id) !== undefined, 'the end', 20_000, () => cluster.logs());
    const mine = updates.filter((u) => u.taskId === id);
    const health = mine.filter((u) => u.state === TaskState.RUNNING && u.healthy !== undefined).map((u) => [u.healthy, u.reason]);
    expect(health).toEqual([
      [true, TaskReason.HEALTH_CHECK],
      [false, TaskReason.HEALTH_CHECK],
    ]);
    const end = terminalOf(updates, id);
    expect(end).toMatchObject({ state: TaskState.KILLED, healthy: false, reason: TaskReason.HEALTH_CHECK });
    expect(end?.message).toMatch(/^Task killed after 2 consecutive failed health checks \(last: command exited 1\)/);
  });

  it('HTTP and TCP: a task that serves is healthy; a port nobody listens on makes its task unhealthy and killed', async () => {
    const port = await freePort();
    const deadPort = await freePort();
    // A tiny HTTP server in perl (present on the test hosts).
    const serve = `perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => ${port}, Listen => 5, ReuseAddr => 1) or die "$!"; while (my $c = $s->accept) { print $c "HTTP/1.0 200 OK\\r\\n\\r\\nok"; close $c }'`;
    const { ids, updates } = await launch([
      { name: 'web', command: serve, resources: 'cpus:0.1;mem:32', healthCheck: { type: 'HTTP', http: { port, path: '/health' }, ...FAST, gracePeriodSeconds: 5 } },
      { name: 'tcp-dead', command: 'sleep 60', resources: 'cpus:0.1;mem:32', killPolicy: { gracePeriodMs: 100 }, healthCheck: { type: 'TCP', tcp: { port: deadPort }, ...FAST } },
    ]);
    const [web, dead] = ids as [string, string];
    await until(() => updates.some((u) => u.taskId === web && u.healthy === true), 'the web task healthy', 15_000, () => cluster.logs());
    await until(() => terminalOf(updates, dead) !== undefined, 'the unhealthy task killed', 15_000, () => cluster.logs());
    expect(terminalOf(updates, dead)).toMatchObject({ state: TaskState.KILLED, healthy: false, reason: TaskReason.HEALTH_CHECK });
    expect(terminalOf(updates, dead)?.message).toMatch(/TCP connect to 127\.0\.0\.1:\d+: connect ECONNREFUSED/);
    expect(terminalOf(updates, web)).toBeUndefined();
    await sched.kill(web, { agentId: 'agent-1', gracePeriodMs: 0 });
    await until(() => terminalOf(updates, web) !== undefined, 'the web task killed');
  });
});
