/**
 * `npm run bench:launch`: how close one agent comes to the rate at which this machine can
 * spawn processes. In one run it measures
 *
 *   (a) the raw rate of spawning `/bin/true` with execa, one at a time and 8 at a time;
 *   (b) the rate at which one agent takes tasks running `/bin/true` from ACCEPT to
 *       TASK_FINISHED, with the command executor (one executor process per task) and with
 *       task groups (one default executor per group), keeping a window of tasks in flight,
 *       and the p50/p99 latency from ACCEPT to TASK_RUNNING (and to TASK_FINISHED);
 *
 * and reports (b)/(a), against the better of the two raw rates. Also the resident memory
 * of one idle executor process (the overhead outside each container). One JSON line per
 * measurement on stdout. Not a timed test: figures go to docs/performance.md.
 *
 *     node dist/bench/launch.js [--quick] [--tasks 1000] [--group-size 25] [--groups-in-flight 2]
 *                               [--command-tasks 60] [--command-in-flight 8] [--isolation auto]
 *                               [--spare-executors 1]
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { execa } from 'execa';
import { request } from '../actors/runtime/request.js';
import { connectNats } from '../actors/runtime/nats.js';
import { silentLogger } from '../actors/runtime/logger.js';
import { Resources, Scheduler, buildTaskInfo, offerResources, type Offer, type OfferOperation, type TaskSpec, type TaskStatus } from '../actors/scheduler/index.js';
import { waitForState } from '../bin/readiness.js';
import { AgentStateReplies } from '../protocol/agent-state.js';
import { Subjects } from '../protocol/subjects.js';
import { TaskState, isTerminal } from '../protocol/task-state.js';
import { BenchCluster } from './sim/cluster.js';
import { NESOS_BIN } from '../bin/paths.js';
import { CLOCK_TICKS, readProcStat } from '../actors/agent/isolation/proc.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    tasks: { type: 'string' },
    'group-size': { type: 'string', default: '25' },
    'groups-in-flight': { type: 'string', default: '2' },
    'command-tasks': { type: 'string' },
    'command-in-flight': { type: 'string', default: '8' },
    isolation: { type: 'string', default: 'auto' },
    /** The agent's --spare-executors (0: every default executor starts a Node process of its own). */
    'spare-executors': { type: 'string', default: '1' },
    /** Write CPU profiles of the master and the agent there (node --cpu-prof). */
    'profile-dir': { type: 'string' },
  },
});
const QUICK = args.quick === true;
const GROUP_TASKS = Number(args.tasks ?? (QUICK ? 200 : 1000));
const GROUP_SIZE = Number(args['group-size']);
const GROUPS_IN_FLIGHT = Number(args['groups-in-flight']);
const COMMAND_TASKS = Number(args['command-tasks'] ?? (QUICK ? 24 : 60));
const COMMAND_IN_FLIGHT = Number(args['command-in-flight']);
const TASK_RESOURCES = 'cpus:0.1;mem:16';

function emit(line: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify({ bench: 'launch', ...line }) + '\n');
}

/** CPU time (user + system) a process has used, ms; 0 when it is gone. */
function cpuMs(pid: number): number {
  const stat = readProcStat(pid);
  return stat === undefined ? 0 : ((stat.utime + stat.stime) * 1000) / CLOCK_TICKS;
}

/** Write system calls a process has made so far (/proc/<pid>/io syscw: sockets and files); 0 when it is gone. */
function writeCalls(pid: number): number {
  try {
    const m = /^syscw: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return m === null ? 0 : Number(m[1]);
  } catch {
    return 0;
  }
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** (a) spawns of /bin/true with execa: `width` at a time, `count` in all; returns spawns per second. */
async function rawRate(count: number, width: number): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) {
        next++;
        await execa('/bin/true');
      }
    }),
  );
  return count / ((performance.now() - t0) / 1000);
}

interface Timing {
  acceptedAt: number;
  /** Date.now() at the ACCEPT call (to compare with the executor's timestamps: same machine clock). */
  acceptedWall: number;
  /** The executor's timestamps (ms) of STARTING (it had the task) and RUNNING (its process spawned). */
  startingStamp?: number;
  runningStamp?: number;
  /** Date.now() when the framework got STARTING and RUNNING. */
  startingSeenWall?: number;
  runningSeenWall?: number;
  runningAt?: number;
  finishedAt?: number;
  state?: string;
}

/**
 * (b) Runs `total` tasks of /bin/true on the agent, `perLaunch` per ACCEPT (as one task group
 * when `group`), at most `inFlight` tasks not yet finished, offers kept until needed.
 */
async function agentRate(sched: Scheduler, label: string, total: number, perLaunch: number, inFlight: number, group: boolean) {
  const timings = new Map<string, Timing>();
  const groupExecutorId = `bench-${randomUUID().slice(0, 8)}`;
  const held: Offer[] = [];
  let launched = 0;
  let done = 0;
  let active = 0;
  let failed = 0;
  const failures: string[] = [];
  let pumping = false;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });

  const pump = async (): Promise<void> => {
    if (pumping) return;
    pumping = true;
    try {
      for (;;) {
        const n = Math.min(perLaunch, total - launched);
        const needed = Resources.parse(TASK_RESOURCES);
        let want = Resources.empty();
        for (let i = 0; i < n; i++) want = want.add(needed);
        const offered = held.reduce((sum, o) => sum.add(offerResources(o)), Resources.empty());
        if (n === 0 || active + n > inFlight || !offered.contains(want)) break;
        // Every offer held (all of the one agent) goes into the ACCEPT: freed resources come back in pieces.
        const offers = held.splice(0);
        const specs: TaskSpec[] = Array.from({ length: n }, (_, i) => ({ name: `${label}-${launched + i}`, command: '/bin/true', resources: TASK_RESOURCES }));
        const tasks = specs.map((spec) => buildTaskInfo(offers[0]!, spec));
        launched += n;
        active += n;
        const at = performance.now();
        const wall = Date.now();
        for (const t of tasks) timings.set(t.taskId, { acceptedAt: at, acceptedWall: wall });
        // Every group names the same default executor: while it runs, it takes them all (one Node process).
        const operation: OfferOperation = group ? { type: 'LAUNCH_GROUP', executorId: groupExecutorId, tasks } : { type: 'LAUNCH', tasks };
        await sched.accept(
          offers.map((o) => o.id),
          [operation],
          { refuseSeconds: 0 },
        );
      }
    } finally {
      pumping = false;
    }
  };

  const offOffers = sched.on('offers', (offers) => {
    held.push(...offers);
    void pump();
  });
  const offUpdates = sched.on('update', (status: TaskStatus) => {
    const t = timings.get(status.taskId);
    if (t === undefined) return;
    const now = performance.now();
    const stamp = status.timestamp === undefined ? undefined : status.timestamp * 1000;
    if (status.state === TaskState.STARTING && t.startingSeenWall === undefined) {
      t.startingSeenWall = Date.now();
      t.startingStamp = stamp;
    }
    if (status.state === TaskState.RUNNING && t.runningAt === undefined) {
      t.runningAt = now;
      t.runningSeenWall = Date.now();
      t.runningStamp = stamp;
    }
    if (isTerminal(status.state) && t.finishedAt === undefined) {
      t.finishedAt = now;
      t.state = status.state;
      if (status.state !== TaskState.FINISHED) {
        failed++;
        if (failures.length < 3) failures.push(`${status.state} ${status.reason ?? ''} ${status.message ?? ''}`.trim());
      }
      done++;
      active--;
      if (done === total) finish();
      else void pump();
    }
  });
  const t0 = performance.now();
  void pump();
  await finished;
  offOffers();
  offUpdates();
  if (held.length > 0) await sched.decline(held.map((o) => o.id), { refuseSeconds: 0 }).catch(() => undefined);
  const all = [...timings.values()];
  const first = Math.min(...all.map((t) => t.acceptedAt));
  const last = Math.max(...all.map((t) => t.finishedAt ?? 0));
  const toRunning = all.flatMap((t) => (t.runningAt === undefined ? [] : [t.runningAt - t.acceptedAt])).sort((a, b) => a - b);
  const toFinished = all.flatMap((t) => (t.finishedAt === undefined ? [] : [t.finishedAt - t.acceptedAt])).sort((a, b) => a - b);
  const stat = (f: (t: Timing) => number | undefined) => {
    const xs = all.flatMap((t) => {
      const v = f(t);
      return v === undefined || Number.isNaN(v) ? [] : [v];
    }).sort((a, b) => a - b);
    return { p50: round(percentile(xs, 50)), p90: round(percentile(xs, 90)), p99: round(percentile(xs, 99)) };
  };
  const diff = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined ? undefined : a - b);
  /**
   * Where ACCEPT→RUNNING goes (ms; the executor stamps its updates with the machine's clock):
   * ACCEPT → the executor has the task (its STARTING made), → its process spawned (RUNNING
   * made), → the framework has RUNNING (agent, stream, consumer, SDK); and STARTING's own trip.
   */
  const breakdownMs = {
    acceptToExecutor: stat((t) => diff(t.startingStamp, t.acceptedWall)),
    executorToSpawned: stat((t) => diff(t.runningStamp, t.startingStamp)),
    runningMadeToFramework: stat((t) => diff(t.runningSeenWall, t.runningStamp)),
    startingMadeToFramework: stat((t) => diff(t.startingSeenWall, t.startingStamp)),
  };
  // Accepted once the executor was up (it had made a STARTING before): no cold start in them.
  const up = Math.min(...all.flatMap((t) => (t.startingStamp === undefined ? [] : [t.startingStamp])));
  const warm = all.flatMap((t) => (t.runningAt === undefined || t.acceptedWall < up ? [] : [t.runningAt - t.acceptedAt])).sort((a, b) => a - b);
  // Accepted before it was up (the first groups): they wait for the executor to start (or for a spare to be bound).
  const cold = all.filter((t) => t.acceptedWall < up);
  const coldStat = (f: (t: Timing) => number | undefined) => {
    const xs = cold.flatMap((t) => {
      const v = f(t);
      return v === undefined || Number.isNaN(v) ? [] : [v];
    }).sort((a, b) => a - b);
    return { p50: round(percentile(xs, 50)), max: round(xs.at(-1) ?? NaN) };
  };
  return {
    tasks: total,
    failed,
    ...(failures.length > 0 && { failures }),
    seconds: round((last - first) / 1000, 2),
    wallSeconds: round((performance.now() - t0) / 1000, 2),
    rate: round(total / ((last - first) / 1000)),
    acceptToRunningMs: { p50: round(percentile(toRunning, 50)), p90: round(percentile(toRunning, 90)), p99: round(percentile(toRunning, 99)), max: round(toRunning.at(-1) ?? NaN) },
    /** The same for the tasks accepted once the executor was up (for task groups: without its cold start). */
    acceptToRunningWarmMs: { tasks: warm.length, p50: round(percentile(warm, 50)), p90: round(percentile(warm, 90)), p99: round(percentile(warm, 99)) },
    /** The tasks accepted before the executor was up: ACCEPT→RUNNING, and its parts as in `breakdownMs`. */
    acceptToRunningColdMs: {
      tasks: cold.length,
      ...coldStat((t) => diff(t.runningAt, t.acceptedAt)),
      acceptToExecutor: coldStat((t) => diff(t.startingStamp, t.acceptedWall)),
      executorToSpawned: coldStat((t) => diff(t.runningStamp, t.startingStamp)),
      runningMadeToFramework: coldStat((t) => diff(t.runningSeenWall, t.runningStamp)),
    },
    acceptToFinishedMs: { p50: round(percentile(toFinished, 50)), p99: round(percentile(toFinished, 99)) },
    breakdownMs,
  };
}

async function main(): Promise<void> {
  // (a) the machine's raw spawn rate, measured first and last (the figure used is their best)
  const serial = await rawRate(QUICK ? 100 : 300, 1);
  const wide = await rawRate(QUICK ? 200 : 600, 8);
  emit({ case: 'raw-execa', mode: 'serial', spawnsPerSecond: round(serial) });
  emit({ case: 'raw-execa', mode: '8-wide', spawnsPerSecond: round(wide) });

  const cluster = await BenchCluster.start();
  let sched: Scheduler | undefined;
  try {
    const profile = args['profile-dir'];
    const masterArgs = ['--allocation-interval', '50'];
    const agentArgs = ['--isolation', args.isolation ?? 'auto', '--spare-executors', args['spare-executors'] ?? '1'];
    const agentResources = 'cpus:64;mem:262144;disk:1024;ports:[31000-32000]';
    if (profile === undefined) {
      cluster.startMaster('m1', masterArgs);
      cluster.startAgent('a1', agentResources, agentArgs);
    } else {
      const prof = ['--cpu-prof', '--cpu-prof-dir', profile];
      cluster.masters.set('m1', cluster.supervisor.start('m1', process.execPath, [...prof, NESOS_BIN, 'master', '--id', 'm1', ...cluster.common, ...masterArgs], join(cluster.dir, 'm1.log')));
      cluster.agents.push(
        cluster.supervisor.start('a1', process.execPath, [...prof, NESOS_BIN, 'agent', '--id', 'a1', '--work-dir', join(cluster.dir, 'a1'), '--resources', agentResources, ...cluster.common, ...agentArgs], join(cluster.dir, 'a1.log')),
      );
    }
    const nc = await connectNats({ servers: [cluster.natsUrl], name: 'bench-launch' });
    await waitForState(nc, cluster.name, (s) => s.agents.some((a) => a.status === 'active'), 20_000, 'bench');
    const agentState = await request(nc, new Subjects(cluster.name).agentState('a1', 'bench'), { type: 'GET_STATE' }, AgentStateReplies, { timeoutMs: 5000 });
    const isolator = agentState.type === 'AGENT_STATE' ? agentState.state.isolation.isolator : 'unknown';
    sched = await Scheduler.connect({ servers: cluster.natsUrl, cluster: cluster.name, framework: { name: 'bench-launch' }, logger: silentLogger() });

    // The executor's own memory, outside every container: one idle command executor.
    const offer = await sched.waitForOffer('cpus:0.1;mem:16', { timeoutMs: 10_000 });
    const [idle] = await sched.launch(offer, [{ name: 'idle', command: 'sleep 3', resources: TASK_RESOURCES }], { refuseSeconds: 0 });
    await new Promise((r) => setTimeout(r, 1500));
    const seen = await request(nc, new Subjects(cluster.name).agentState('a1', 'bench'), { type: 'GET_STATE' }, AgentStateReplies, { timeoutMs: 5000 });
    const ex = seen.type === 'AGENT_STATE' ? seen.state.executors.find((e) => e.executorId === idle?.taskId) : undefined;
    emit({ case: 'executor-memory', isolator, executorRssMiB: ex?.executorMemBytes === undefined ? null : round(ex.executorMemBytes / 1024 / 1024) });
    await new Promise((r) => setTimeout(r, 2000));

    const reference = Math.max(serial, wide);
    // CPU time per task, by process (load-independent, unlike the rates on a shared machine).
    const pids = { master: cluster.masters.get('m1')?.process.pid, agent: cluster.agents[0]?.process.pid, bench: process.pid };
    const cpuOf = (): Record<string, number> => Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, pid === undefined ? 0 : cpuMs(pid)]));
    // Write system calls per task, by process: each is a wake-up of a reader (nats-server) on a loaded machine.
    const writesOf = (): Record<string, number> => Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, pid === undefined ? 0 : writeCalls(pid)]));
    let before = cpuOf();
    let writesBefore = writesOf();
    const perTask = (tasks: number): Record<string, number> => {
      const after = cpuOf();
      const out = Object.fromEntries(Object.keys(after).map((k) => [k, round(((after[k] ?? 0) - (before[k] ?? 0)) / tasks, 2)]));
      before = after;
      return out;
    };
    const writesPerTask = (tasks: number): Record<string, number> => {
      const after = writesOf();
      const out = Object.fromEntries(Object.keys(after).map((k) => [k, round(((after[k] ?? 0) - (writesBefore[k] ?? 0)) / tasks, 1)]));
      writesBefore = after;
      return out;
    };
    const command = await agentRate(sched, 'cmd', COMMAND_TASKS, COMMAND_IN_FLIGHT, COMMAND_IN_FLIGHT, false);
    emit({ case: 'command-executor', isolator, inFlight: COMMAND_IN_FLIGHT, ...command, rawSpawnsPerSecond: round(reference), ratio: round(command.rate / reference, 3), cpuMsPerTask: perTask(COMMAND_TASKS), writesPerTask: writesPerTask(COMMAND_TASKS) });
    const groups = await agentRate(sched, 'grp', GROUP_TASKS, GROUP_SIZE, GROUP_SIZE * GROUPS_IN_FLIGHT, true);
    // The default executor that ran every group lingers a moment after the last one: its CPU time too.
    const after = await request(nc, new Subjects(cluster.name).agentState('a1', 'bench'), { type: 'GET_STATE' }, AgentStateReplies, { timeoutMs: 5000 });
    const groupExecutor = after.type === 'AGENT_STATE' ? after.state.executors.find((e) => e.kind === 'default' && e.pid !== undefined) : undefined;
    const groupCpu = { ...perTask(GROUP_TASKS), ...(groupExecutor?.pid !== undefined && { executor: round(cpuMs(groupExecutor.pid) / GROUP_TASKS, 2) }) };
    const groupWrites = { ...writesPerTask(GROUP_TASKS), ...(groupExecutor?.pid !== undefined && { executor: round(writeCalls(groupExecutor.pid) / GROUP_TASKS, 1) }) };
    emit({ case: 'task-groups', isolator, groupSize: GROUP_SIZE, groupsInFlight: GROUPS_IN_FLIGHT, ...groups, rawSpawnsPerSecond: round(reference), ratio: round(groups.rate / reference, 3), cpuMsPerTask: groupCpu, writesPerTask: groupWrites });
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
    emit({ case: 'machine', cpus: cpus().length, loadAverage: load });
    await nc.close();
  } finally {
    await sched?.close().catch(() => undefined);
    await cluster.stop();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench:launch failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
