/**
 * `npm run bench:scale`: a real master with many simulated agents (a `nesos simulate`
 * process) and many frameworks written with the SDK (in this process), at each size given.
 *
 * Per size, in order: (1) the frameworks subscribe and suppress; (2) the agents register
 * (registration time); (3) every framework sends REVIVE (offer latency: REVIVE → first
 * offer); (4) each framework launches `--quiet-launches` tasks one at a time (launch
 * overhead: ACCEPT → TASK_RUNNING seen by the framework, on a quiet cluster); (5) for
 * `--duration` seconds every framework launches into the offers it holds, up to
 * `--tasks-per-offer` tasks into each, while fewer than `--max-staging` of its tasks are
 * launched and not yet running (placements per second, tasks seen running per second, and
 * launch latency under that load). The master's CPU (cores used on average)
 * and memory come from /proc for each phase. One JSON line per measurement on stdout, each
 * with the configuration and a baseline measured in the same run on the same server: a
 * plain NATS request round trip (latencies) and plain NATS requests per second (rates);
 * for tasks seen running per second, the most tasks per second the updates stream lets
 * through on this server (sim/jetstream-baseline.ts: two messages per task).
 *
 *     node dist/bench/scale.js [--agents 1000,10000,50000] [--frameworks 100] [--quick]
 *         [--duration 20] [--task-duration 2000] [--setup-timeout 180] [--seed 1] [--lease-ms 60000]
 *         [--max-staging 200|none] [--tasks-per-offer 20]
 */
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { connectNats, type NatsConnection } from '../actors/runtime/nats.js';
import { silentLogger } from '../actors/runtime/logger.js';
import { waitForState } from '../bin/readiness.js';
import { NESOS_BIN } from '../bin/paths.js';
import { BenchFramework } from './sim/bench-framework.js';
import { BenchCluster, nodeFlags } from './sim/cluster.js';
import { jetStreamBaseline } from './sim/jetstream-baseline.js';
import { natsBaseline, type NatsBaseline } from './sim/nats-baseline.js';
import { CpuWindow, memoryMiB } from './sim/proc.js';
import { percentile, round2 } from './sim/stats.js';

const { values: args } = parseArgs({
  options: {
    agents: { type: 'string' },
    frameworks: { type: 'string' },
    quick: { type: 'boolean', default: false },
    /** Seconds of the throughput phase. */
    duration: { type: 'string' },
    /** How long each simulated task runs (ms). */
    'task-duration': { type: 'string', default: '2000' },
    /** Tasks a framework may have launched and not yet seen running in the placements phase ("none": no limit). */
    'max-staging': { type: 'string', default: String(200) },
    /** Most tasks a framework launches into one offer in the placements phase. */
    'tasks-per-offer': { type: 'string', default: '20' },
    /** Tasks each framework launches one at a time. */
    'quiet-launches': { type: 'string' },
    /** Seconds the agents may take to register; past it the size is reported as not done. */
    'setup-timeout': { type: 'string', default: '180' },
    seed: { type: 'string', default: '1' },
    /** The master's leader lease (ms). Long by default: see LEASE_MS. */
    'lease-ms': { type: 'string', default: '60000' },
  },
});

const QUICK = args.quick;
const SIZES = (args.agents ?? (QUICK ? '1000' : '1000,10000,50000')).split(',').map(Number);
const FRAMEWORKS = Number(args.frameworks ?? (QUICK ? '10' : '100'));
const DURATION_S = Number(args.duration ?? (QUICK ? '5' : '20'));
const TASK_MS = Number(args['task-duration']);
/**
 * The placements phase's back-pressure: each framework keeps at most this many tasks
 * launched and not yet seen running, as a real framework paces itself on what runs. Without
 * it (`--max-staging none`) the frameworks launch far faster than tasks can start, and the
 * phase measures a growing queue (hundreds of thousands of STAGING tasks, launch latency
 * under load of seconds) instead of a sustained rate.
 */
const MAX_STAGING = args['max-staging'] === 'none' ? Number.POSITIVE_INFINITY : Number(args['max-staging']);
const QUIET_LAUNCHES = Number(args['quiet-launches'] ?? (QUICK ? '3' : '5'));
const SETUP_TIMEOUT_MS = Number(args['setup-timeout']) * 1000;
/**
 * The master's leader lease. Long by default, as in bench:state: this benchmark measures
 * throughput, not failover, and on a 2-core machine shared with load averages of 20–70 any
 * process can be starved for longer than a lease. (With a 2 s lease the leader used to step
 * down again and again while 10,000 agents registered, its event loop held for up to 1.7 s;
 * since the mailbox works in slices and runs visit only the agents that changed, it keeps its
 * term at 10,000 agents: `--lease-ms 2000` shows it, see docs/performance.md.)
 */
const LEASE_MS = Number(args['lease-ms']);
const TASK_RESOURCES = 'cpus:0.1;mem:32';
const TASKS_PER_OFFER = Number(args['tasks-per-offer']);
/** The offers after REVIVE have settled once no framework got any for this long (ms). */
const OFFERS_QUIET_MS = 1000;
for (const [flag, v] of [['--agents', Math.min(...SIZES)], ['--frameworks', FRAMEWORKS], ['--duration', DURATION_S], ['--task-duration', TASK_MS], ['--setup-timeout', SETUP_TIMEOUT_MS], ['--lease-ms', LEASE_MS], ['--max-staging', Number.isFinite(MAX_STAGING) ? MAX_STAGING : 1], ['--tasks-per-offer', TASKS_PER_OFFER]] as const) {
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${flag} must be a positive number (e.g. --agents 1000,10000 --frameworks 100)`);
}

/** Agents heartbeat every agents/2 ms, between 1 s and 15 s (Mesos pings every 15 s): at most ~3,300 heartbeats/s. */
const heartbeatMs = (agents: number) => Math.min(15_000, Math.max(1000, Math.floor(agents / 2)));

const running = new Set<BenchCluster>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void Promise.all([...running].map((c) => c.stop())).finally(() => process.exit(130));
  });
}

function emit(line: object): void {
  process.stdout.write(`${JSON.stringify({ bench: 'scale', ...line })}\n`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits for the simulator's JSON line `event` in its log; undefined after `timeoutMs`. */
async function simulatorLine(logFile: string, event: string, timeoutMs: number): Promise<Record<string, number> | undefined> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const line = readFileSync(logFile, 'utf8').split('\n').find((l) => l.startsWith(`{"event":"${event}"`));
    if (line !== undefined) return JSON.parse(line) as Record<string, number>;
    await sleep(100);
  }
  return undefined;
}

/** Resolves once `done()` holds or at `timeoutMs`; returns whether it held. */
async function until(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

async function connectFrameworks(nc: NatsConnection, cluster: string, holdCap: number): Promise<{ frameworks: BenchFramework[]; subscribeMs: number[] }> {
  const frameworks: BenchFramework[] = [];
  const subscribeMs: number[] = [];
  for (let i = 0; i < FRAMEWORKS; i += 10) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(10, FRAMEWORKS - i) }, (_, j) =>
        BenchFramework.connect({ nc, cluster, logger: silentLogger(), name: `bench-${i + j}`, holdCap, taskResources: TASK_RESOURCES, tasksPerOffer: TASKS_PER_OFFER, maxStaging: MAX_STAGING }),
      ),
    );
    for (const b of batch) {
      frameworks.push(b.framework);
      subscribeMs.push(b.subscribeMs);
    }
  }
  return { frameworks, subscribeMs };
}

/** The quiet launches' two halves, p50 and p99 of each (ms): ACCEPT → the agent's RUNNING, and → the framework seeing it; and ACCEPT → its answer. */
function splitOf(frameworks: readonly BenchFramework[]): Record<string, { p50Ms: number; p99Ms: number }> {
  const of = (xs: number[]) => ({ p50Ms: round2(percentile(xs, 50)), p99Ms: round2(percentile(xs, 99)) });
  return {
    acceptToAgentRunning: of(frameworks.flatMap((f) => f.quietSplits.toAgent)),
    agentRunningToFramework: of(frameworks.flatMap((f) => f.quietSplits.agentToFramework)),
    acceptAnswered: of(frameworks.flatMap((f) => f.quietSplits.acceptAnswered)),
  };
}

/**
 * CPU time (ms) each process spent in the placements phase per task seen running in it,
 * from its CPU seconds over the window: what a task costs, which a starved shared machine
 * changes less than it changes the rates.
 */
function perTask(running: number, cpuSeconds: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  let total = 0;
  for (const [k, c] of Object.entries(cpuSeconds)) {
    const ms = running === 0 ? 0 : (c * 1000) / running;
    out[k] = Math.round(ms * 1000) / 1000;
    total += ms;
  }
  return { ...out, total: Math.round(total * 1000) / 1000 };
}

/** One size: every phase, one line per measurement. */
async function size(agents: number): Promise<void> {
  const config = { agents, frameworks: FRAMEWORKS, durationS: DURATION_S, taskDurationMs: TASK_MS, taskResources: TASK_RESOURCES, tasksPerOffer: TASKS_PER_OFFER, heartbeatMs: heartbeatMs(agents), leaseMs: LEASE_MS, maxStaging: Number.isFinite(MAX_STAGING) ? MAX_STAGING : 'none', quick: QUICK };
  const c = await BenchCluster.start();
  running.add(c);
  const frameworks: BenchFramework[] = [];
  let nc: NatsConnection | undefined;
  try {
    const master = c.startMaster('m1', [
      '--agent-heartbeat-interval', String(heartbeatMs(agents)), '--agent-reregister-timeout', '600000',
      '--lease-ms', String(LEASE_MS), '--renew-interval-ms', String(Math.floor(LEASE_MS / 10)),
    ]);
    const masterPid = master.process.pid!;
    // the frameworks make thousands of requests a second on this connection: no stack captured per request
    nc = await connectNats({ servers: c.natsUrl, name: 'bench-scale', asyncTraces: false });
    await waitForState(nc, c.name, () => true, 30_000, 'bench');
    const baseline: NatsBaseline = await natsBaseline(nc);
    const rtt = { name: 'nats-request-rtt', p50Ms: baseline.rttP50Ms, p99Ms: baseline.rttP99Ms };
    const rate = { name: 'nats-requests-per-second-32-in-flight', perSecond: baseline.requestsPerSecond };
    const stream = await jetStreamBaseline(nc);

    // (1) frameworks subscribe and suppress
    // each holds at most its share of the agents' offers and declines the rest, so that offers
    // spread over all of them (with twice its share, the frameworks whose REVIVE reached the
    // first allocation run kept every agent, and the others waited for the offer timeout)
    const connected = await connectFrameworks(nc, c.name, Math.max(1, Math.ceil(agents / FRAMEWORKS)));
    frameworks.push(...connected.frameworks);

    // (2) agents register
    const cpuReg = new CpuWindow(masterPid);
    const t0 = performance.now();
    const sim = c.supervisor.start('simulate', process.execPath, [
      ...nodeFlags(), NESOS_BIN, 'simulate', '--agents', String(agents), '--task-duration', `${TASK_MS}ms`, '--cpus', '8', '--mem', '32768',
      '--json', '--stats-interval', '0', '--seed', args.seed, ...c.common,
    ], `${c.dir}/simulate.log`);
    const registered = await simulatorLine(sim.logFile, 'registered', SETUP_TIMEOUT_MS);
    const regWall = performance.now() - t0;
    const regCpu = cpuReg.read();
    const simPid = sim.process.pid!;
    /** CPU of the simulator, nats-server and this process (the frameworks) over a phase. */
    const otherCpuWindows = () => {
      const simCpu = new CpuWindow(simPid);
      const natsCpu = new CpuWindow(c.supervisor.list().find((ch) => ch.name === 'nats-server')!.process.pid!);
      const benchCpu = process.cpuUsage();
      const t = performance.now();
      return {
        read: () => {
          const used = process.cpuUsage(benchCpu);
          const seconds = (used.user + used.system) / 1e6;
          return { simulator: simCpu.read(), natsServer: natsCpu.read(), frameworks: { cores: round2(seconds / ((performance.now() - t) / 1000)), cpuSeconds: round2(seconds) } };
        },
      };
    };
    if (registered === undefined) {
      emit({ measure: 'registration', ...config, error: `the agents did not all register within ${SETUP_TIMEOUT_MS / 1000} s`, masterCpu: regCpu, masterMemory: memoryMiB(masterPid) });
      return;
    }
    const plainMs = (agents / baseline.requestsPerSecond) * 1000;
    emit({
      measure: 'registration', ...config,
      allRegisteredMs: round2(registered.ms ?? regWall), sinceSpawnMs: round2(regWall), agentsPerSecond: Math.round(agents / ((registered.ms ?? regWall) / 1000)),
      masterCpu: regCpu, masterMemory: memoryMiB(masterPid),
      baseline: { ...rate, sameNumberOfRequestsMs: round2(plainMs) }, ratio: round2((registered.ms ?? regWall) / plainMs),
    });

    // (3) REVIVE → first offer
    await sleep(1000); // the registration burst settles
    const cpuRevive = new CpuWindow(masterPid);
    const reviveAt = performance.now();
    await Promise.all(frameworks.map((f) => f.revive()));
    await until(() => frameworks.every((f) => f.offerLatencyMs !== undefined), 30_000);
    const offerMs = frameworks.flatMap((f) => (f.offerLatencyMs === undefined ? [] : [f.offerLatencyMs]));
    // REVIVE → the last OFFERS event of the burst: the launches below start on a cluster that
    // has stopped offering (started at the first offer, at 50,000 agents each framework's
    // first ACCEPT waited ~1 s behind the master turning the other 49,000 decisions into offers)
    await until(() => frameworks.every((f) => f.lastOffersAt === undefined || performance.now() - f.lastOffersAt > OFFERS_QUIET_MS), 60_000);
    const lastOffersAt = Math.max(...frameworks.map((f) => f.lastOffersAt ?? 0));
    emit({
      measure: 'offer-latency', ...config, samples: offerMs.length, withoutOffer: frameworks.length - offerMs.length,
      p50Ms: percentile(offerMs, 50), p99Ms: percentile(offerMs, 99), subscribeP50Ms: percentile(connected.subscribeMs, 50), offersSettledMs: round2(lastOffersAt - reviveAt),
      masterCpu: cpuRevive.read(), baseline: rtt, ratioP50: round2(percentile(offerMs, 50) / rtt.p50Ms),
    });

    // (4) launch overhead on a quiet cluster: one task at a time per framework
    const cpuQuiet = new CpuWindow(masterPid);
    const otherQuiet = otherCpuWindows();
    const quietDeadline = performance.now() + 60_000;
    await Promise.all(frameworks.map((f) => f.launchOneByOne(QUIET_LAUNCHES, quietDeadline)));
    const quiet = frameworks.flatMap((f) => f.quietLatencies);
    emit({
      measure: 'launch-overhead', ...config, load: 'one task at a time per framework', samples: quiet.length, wanted: QUIET_LAUNCHES * FRAMEWORKS,
      p50Ms: percentile(quiet, 50), p99Ms: percentile(quiet, 99), targetP99Ms: 100,
      split: splitOf(frameworks),
      masterCpu: cpuQuiet.read(), otherCpu: otherQuiet.read(), loadAverage: os.loadavg().map(round2), baseline: rtt, ratioP50: round2(percentile(quiet, 50) / rtt.p50Ms), ratioP99: round2(percentile(quiet, 99) / rtt.p99Ms),
    });

    // (5) placements per second: every framework launches into the offers it holds, within its staging window
    const cpuLoad = new CpuWindow(masterPid);
    const otherLoad = otherCpuWindows();
    const tLoad = performance.now();
    for (const f of frameworks) f.startLaunching();
    await sleep(DURATION_S * 1000);
    await Promise.all(frameworks.map((f) => f.stopLaunching()));
    const window = (performance.now() - tLoad) / 1000;
    const launched = frameworks.reduce((n, f) => n + f.launchedUnderLoad, 0);
    const runningInWindow = frameworks.reduce((n, f) => n + f.loadedLatencies.length, 0);
    const loadCpu = cpuLoad.read();
    const otherCpu = otherLoad.read();
    const benchSeconds = otherCpu.frameworks.cpuSeconds;
    const updates: Record<string, number> = {};
    for (const f of frameworks) for (const [state, n] of f.updatesByState) updates[state] = (updates[state] ?? 0) + n;
    await until(() => frameworks.every((f) => f.awaitingRunning === 0), 15_000);
    const loaded = frameworks.flatMap((f) => f.loadedLatencies);
    const perSecond = round2(launched / window);
    emit({
      measure: 'placements', ...config, windowS: round2(window), launched, runningInWindow, perSecond, runningPerSecond: round2(runningInWindow / window),
      notRunning15sAfter: frameworks.reduce((n, f) => n + f.awaitingRunning, 0),
      stagingPeak: frameworks.reduce((n, f) => n + f.stagingPeak, 0), heldBackForStaging: frameworks.reduce((n, f) => n + f.heldBack, 0),
      offersDeclinedOverShare: frameworks.reduce((n, f) => n + f.declinedUnderLoad, 0), failedCalls: frameworks.reduce((n, f) => n + f.failedCalls, 0),
      lastFailure: frameworks.find((f) => f.lastFailure !== undefined)?.lastFailure, nomadC2M: 1500, target: 5000,
      updatesSeen: updates, masterCpu: loadCpu, otherCpu, cpuMsPerTaskRunning: perTask(runningInWindow, { master: loadCpu.cpuSeconds, simulator: otherCpu.simulator.cpuSeconds, natsServer: otherCpu.natsServer.cpuSeconds, frameworks: benchSeconds }), loadAverage: os.loadavg().map(round2), masterMemory: memoryMiB(masterPid),
      baseline: rate, ratio: round2(perSecond / rate.perSecond),
      jetStreamBaseline: stream, runningRatioToJetStream: round2(runningInWindow / window / stream.tasksPerSecond),
    });
    emit({
      measure: 'launch-latency-under-load', ...config, samples: loaded.length, p50Ms: percentile(loaded, 50), p99Ms: percentile(loaded, 99),
      baseline: rtt, ratioP50: round2(percentile(loaded, 50) / rtt.p50Ms),
    });
    // the simulator prints a "registered" line each time every agent has registered with a (new) leader
    const terms = readFileSync(sim.logFile, 'utf8').split('\n').filter((l) => l.startsWith('{"event":"registered"')).length;
    emit({ measure: 'master-memory', ...config, ...memoryMiB(masterPid), simulator: memoryMiB(simPid), leaderTermsSeenBySimulator: terms });
  } finally {
    await Promise.all(frameworks.map((f) => f.close()));
    await nc?.close().catch(() => undefined);
    await c.stop();
    running.delete(c);
  }
}

for (const agents of SIZES) {
  const started = performance.now();
  try {
    await size(agents);
  } catch (e) {
    emit({ measure: 'error', agents, frameworks: FRAMEWORKS, error: e instanceof Error ? e.message : String(e) });
  }
  process.stderr.write(`bench:scale: ${agents} agents took ${Math.round((performance.now() - started) / 1000)} s\n`);
}
process.exit(0);
