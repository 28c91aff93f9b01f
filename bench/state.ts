/**
 * `npm run bench:state`: how long `GET /state` takes, and how large it is, with 1k, 10k and
 * 40k agents (`--quick`: 1k and 10k), each running `--tasks-per-agent` tasks (default 2).
 * Mesos v1 takes about 5.7 s at 40k agents; the target is under 1 s.
 *
 * Two cases per size, one JSON line each on stdout:
 *
 * - `state-master`: a real cluster (nats-server and one master, processes from dist/) and the
 *   simulator (`actors/simulator`) in this process that registers every agent with its tasks and keeps
 *   heartbeating while the master's HTTP URL is measured. When the swarm cannot register
 *   within `--setup-timeout` seconds, the line says so (`error`, `registered`, and the
 *   master's allocation runs) instead of timing a partial state.
 * - `state-in-process`: the same master code without the bus: the master's pure core
 *   (`MasterCore`) is fed the same REGISTER_AGENT messages (encoded and decoded as on the
 *   wire), and the HTTP module (`startOperatorHttp`) serves its `snapshot()` on a loopback
 *   port, measured from this process. It isolates the cost of the /state code from the load
 *   of a live master, and reaches sizes a live master cannot register in time.
 *
 * Each: repeated GETs one at a time, each timed to the last byte of the body (median, p99 by
 * nearest rank). Baselines in the same run: `GET /health` on the same server (interleaved
 * with the /state requests, so under the same load), and the least any JSON /state costs:
 * `JSON.stringify` of the same payload in this process; `ratio` is /state's median over it.
 * The real master is measured again while one client reads the event stream, as an open web
 * UI does (`withEventStream`).
 *
 * Then, when Chromium is installed (skip with `--no-ui`), `ui-overview`: the web UI's overview
 * on a real master with 10,000 tasks (5,000 simulated agents × 2), loaded several times, from
 * navigation start until the frame after the overview first shows all 10,000 running tasks;
 * the baseline is the page's first contentful paint in the same loads.
 *
 *     node dist/bench/state.js [--quick] [--agents 1000,10000,40000] [--tasks-per-agent 2]
 *                              [--only master|in-process] [--setup-timeout 300] [--no-ui]
 */
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { DEFAULT_MASTER_CONFIG } from '../actors/master/context.js';
import { MasterCore } from '../actors/master/core.js';
import { snapshot } from '../actors/master/snapshot.js';
import { startOperatorHttp, type OperatorSource } from '../actors/http/index.js';
import { connectNats } from '../actors/runtime/nats.js';
import { silentLogger } from '../actors/runtime/logger.js';
import { freePort } from '../bin/ports.js';
import { AgentToMaster } from '../protocol/agent.js';
import { decode, encode } from '../protocol/codec.js';
import type { AgentInfo, FrameworkInfo } from '../protocol/schema.js';
import { TaskState } from '../protocol/task-state.js';
import { median } from './measure.js';
import { startSimulator } from '../actors/simulator/index.js';
import { chromiumPath, launchChromium } from './sim/chromium.js';
import { BenchCluster } from './sim/cluster.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    /** Only these sizes, comma-separated. */
    agents: { type: 'string' },
    'tasks-per-agent': { type: 'string', default: '2' },
    /** Only the real master's case, or only the in-process one. */
    only: { type: 'string' },
    /** Seconds the swarm may take to register every agent with the real master. */
    'setup-timeout': { type: 'string', default: '300' },
    'no-ui': { type: 'boolean', default: false },
  },
});
const TASKS_PER_AGENT = Number(args['tasks-per-agent']);
const SETUP_TIMEOUT_MS = Number(args['setup-timeout']) * 1000;
/** The target for /state at 40k agents and for the overview's first paint at 10k tasks. */
const TARGET_MS = 1000;
/**
 * The real master's leader lease. Long: while 10k+ agents register, the master's event loop
 * stays busy for seconds at a time (allocation runs, one per registration), and with the
 * default 2 s lease the leader steps down again and again. This benchmark measures /state.
 */
const LEASE_MS = 60_000;
const FRAMEWORK: FrameworkInfo = { id: 'fw-sim', name: 'sim', principal: 'sim', roles: ['*'], capabilities: [], failoverTimeoutSeconds: 3600 };
const RESOURCES: AgentInfo['resources'] = [{ name: 'cpus', scalar: 8 }, { name: 'mem', scalar: 16384 }];

/** What one /state case measured. */
interface StateFigures {
  samples: number;
  /** Agents and tasks in the /state measured (fewer than set up when the master dropped some). */
  inState: { agents: number; tasks: number };
  bytes: number;
  medianMs: number;
  p99Ms: number;
  health: { medianMs: number; p99Ms: number };
  /** Client-side JSON.parse of the body, for scale. */
  parseMs: number;
  baseline: { name: string; ms: number };
  ratio: number;
}

/** One /state result line. */
interface StateResult extends Partial<StateFigures> {
  bench: 'state';
  case: 'state-master' | 'state-in-process';
  agents: number;
  tasks: number;
  targetMs: number;
  /** Real master: its lease, and how long the swarm took to register every agent. */
  leaseMs?: number;
  registrationMs?: number;
  /** In-process: how long the core took to take every registration. */
  coreRegistrationMs?: number;
  /** Real master: the same GETs while one client reads the event stream (as an open web UI does). */
  withEventStream?: { medianMs: number; p99Ms: number; health: { medianMs: number; p99Ms: number } };
  /** Set when the case could not be measured. */
  error?: string;
  registered?: number;
  allocationRuns?: number;
  allocationSeconds?: number;
}

/** One UI result line. */
interface UiResult {
  bench: 'state';
  case: 'ui-overview';
  agents: number;
  tasks: number;
  loads: number;
  /** The first load (nothing cached). */
  firstLoadMs: number;
  medianMs: number;
  maxMs: number;
  baseline: { name: string; ms: number };
  ratio: number;
  targetMs: number;
}

function emit(r: StateResult | UiResult): void {
  process.stdout.write(JSON.stringify(r) + '\n');
}

const round = (ms: number) => Math.round(ms * 10) / 10;
const ratioOf = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : 0);

/** The p-th percentile by nearest rank. */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

/** GETs `url` and reads the whole body; returns the time to the last byte and the body. */
async function timedGet(url: string, timeoutMs = 120_000): Promise<{ ms: number; body: Buffer }> {
  const t0 = performance.now();
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const body = Buffer.from(await res.arrayBuffer());
  const ms = performance.now() - t0;
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${body.toString('utf8').slice(0, 300)}`);
  return { ms, body };
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Clusters running now, stopped on Ctrl-C so that no nats-server is left behind. */
const running = new Set<BenchCluster>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void Promise.all([...running].map((c) => c.stop())).finally(() => process.exit(130));
  });
}

/** The REGISTER_AGENT an agent `sim-<i>` sends (as the simulator's agents do), decoded as the master decodes it. */
function registration(i: number, tasksPerAgent: number): AgentToMaster {
  const id = `sim-${i}`;
  const msg = {
    type: 'REGISTER_AGENT',
    agent: { id, hostname: `${id}.sim`, resources: RESOURCES, attributes: { sim: 'true' } },
    tasks: Array.from({ length: tasksPerAgent }, (_, t) => ({
      frameworkId: FRAMEWORK.id,
      framework: FRAMEWORK,
      state: TaskState.RUNNING,
      task: { taskId: `${id}-t${t}`, name: 'sim', agentId: id, resources: [{ name: 'cpus', scalar: 0.01 }, { name: 'mem', scalar: 1 }], command: { value: 'true', environment: {} } },
    })),
  };
  const decoded = decode(AgentToMaster, encode(msg));
  if (!decoded.ok) throw decoded.error;
  return decoded.value;
}

/** GET /health then GET /state, `samples` times. */
async function sample(url: string, samples: number): Promise<{ stateMs: number[]; healthMs: number[]; body: Buffer }> {
  const stateMs: number[] = [];
  const healthMs: number[] = [];
  let body: Buffer = Buffer.alloc(0);
  for (let i = 0; i < samples; i++) {
    healthMs.push((await timedGet(`${url}/health`)).ms);
    const r = await timedGet(`${url}/state`);
    stateMs.push(r.ms);
    body = r.body;
  }
  return { stateMs, healthMs, body };
}

/**
 * The same GETs while one client (as the web UI) reads the event stream: the master then
 * derives events from a snapshot every 250 ms (`SnapshotEventFeed`), which loads it.
 */
async function sampleWithEventStream(url: string, samples: number): Promise<NonNullable<StateResult['withEventStream']>> {
  const controller = new AbortController();
  const res = await fetch(`${url}/api/v1/events`, { signal: controller.signal });
  if (!res.ok || res.body === null) throw new Error(`GET /api/v1/events: ${res.status}`);
  const reader = res.body.getReader();
  let bytes = 0;
  const reading = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      bytes += value.byteLength;
    }
  })().catch(() => undefined);
  try {
    while (bytes === 0) await sleep(50); // SUBSCRIBED has arrived: the feed runs
    await sleep(1000);
    const { stateMs, healthMs } = await sample(url, samples);
    return { medianMs: round(median(stateMs)), p99Ms: round(percentile(stateMs, 99)), health: { medianMs: round(median(healthMs)), p99Ms: round(percentile(healthMs, 99)) } };
  } finally {
    controller.abort();
    await reading;
  }
}

/** GET /state (interleaved with GET /health) `samples` times after a warm-up, and the in-process baselines. */
async function measureGets(url: string, samples: number): Promise<StateFigures & { epochs: number[] }> {
  const epochOf = (body: Buffer) => (JSON.parse(body.toString('utf8')) as { epoch: number }).epoch;
  let body: Buffer = (await timedGet(`${url}/state`)).body;
  for (let i = 0; i < 2; i++) body = (await timedGet(`${url}/state`)).body;
  const epochs = [epochOf(body)];
  const sampled = await sample(url, samples);
  const { stateMs, healthMs } = sampled;
  body = sampled.body;
  epochs.push(epochOf(body));
  // The baselines, on the last body: parse it, then stringify the object.
  const text = body.toString('utf8');
  const parseMs: number[] = [];
  const stringifyMs: number[] = [];
  let shown = { agents: 0, tasks: 0 };
  for (let i = 0; i < 5; i++) {
    let t0 = performance.now();
    const parsed = JSON.parse(text) as { agents: unknown[]; tasks: unknown[] };
    shown = { agents: parsed.agents.length, tasks: parsed.tasks.length };
    parseMs.push(performance.now() - t0);
    t0 = performance.now();
    if (JSON.stringify(parsed).length === 0) throw new Error('unreachable');
    stringifyMs.push(performance.now() - t0);
  }
  return {
    samples,
    inState: shown,
    bytes: body.length,
    medianMs: round(median(stateMs)),
    p99Ms: round(percentile(stateMs, 99)),
    health: { medianMs: round(median(healthMs)), p99Ms: round(percentile(healthMs, 99)) },
    parseMs: round(median(parseMs)),
    baseline: { name: 'JSON.stringify of the same payload in-process', ms: round(median(stringifyMs)) },
    ratio: ratioOf(median(stateMs), median(stringifyMs)),
    epochs,
  };
}

/** The master's allocation counters, or undefined when it does not answer in time. */
async function allocationCounters(url: string): Promise<{ runs: number; seconds: number } | undefined> {
  try {
    const text = (await timedGet(`${url}/metrics`, 5000)).body.toString('utf8');
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    return { runs: value('nesos_allocation_runs_total'), seconds: round(value('nesos_allocation_seconds_total')) };
  } catch {
    return undefined;
  }
}

/**
 * A cluster with one master (HTTP on a known port) and `agents` simulated agents with
 * `tasksPerAgent` running tasks each. Runs `fn` with the master's URL once every agent has
 * registered and /state shows them all, or `onSetupTimeout` when they did not in time; then
 * stops everything.
 */
async function withSwarm<T>(
  agents: number,
  tasksPerAgent: number,
  fn: (url: string, registrationMs: number) => Promise<T>,
  onSetupTimeout: (url: string, registered: number) => Promise<T>,
): Promise<T> {
  const c = await BenchCluster.start();
  running.add(c);
  try {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    // Heartbeats every 15 s, as Mesos's default ping: 40k agents still send ~2.7k/s while measured.
    c.startMaster('m1', [
      '--http-port', String(port),
      '--agent-heartbeat-interval', '15000',
      '--agent-reregister-timeout', String(Math.max(SETUP_TIMEOUT_MS, 60_000)),
      '--lease-ms', String(LEASE_MS),
      '--renew-interval-ms', String(LEASE_MS / 10),
    ]);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const health = await timedGet(`${url}/health`, 2000).catch(() => undefined);
      if (health !== undefined && (JSON.parse(health.body.toString('utf8')) as { leading?: boolean }).leading === true) break;
      if (Date.now() > deadline) throw new Error(`the master at ${url} did not lead within 30 s (logs in ${c.dir}; NESOS_KEEP_BENCH_DIRS=1 keeps them)`);
      await sleep(50);
    }
    const nc = await connectNats({ servers: c.natsUrl, name: 'bench-state' });
    const t0 = performance.now();
    try {
      const swarm = await startSimulator({
        nc,
        cluster: c.name,
        logger: silentLogger(),
        agents,
        tasksPerAgent,
        framework: FRAMEWORK,
        resources: 'cpus:8;mem:16384',
        jitterMs: Math.floor(Math.min(2000, agents / 10)),
        maxRequestsInFlight: 512,
        seed: 7,
      });
      try {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const registered = await Promise.race([swarm.allRegisteredWith(1).then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), SETUP_TIMEOUT_MS)))]);
        clearTimeout(timer);
        if (!registered) return await onSetupTimeout(url, swarm.registeredWith(1));
        const registrationMs = performance.now() - t0;
        // Everything is in the state before anything is measured (or, after a minute, what the
        // master shows: the line's `inState` says what that was).
        const shown = Date.now() + 60_000;
        for (;;) {
          const state = JSON.parse((await timedGet(`${url}/state`)).body.toString('utf8')) as { agents: unknown[]; tasks: unknown[] };
          if (state.agents.length === agents && state.tasks.length === agents * tasksPerAgent) break;
          if (Date.now() > shown) {
            process.stderr.write(`bench:state: /state shows ${state.agents.length} agents and ${state.tasks.length} tasks, not ${agents} and ${agents * tasksPerAgent}; measuring that\n`);
            break;
          }
          await sleep(500);
        }
        return await fn(url, registrationMs);
      } finally {
        await swarm.stop();
      }
    } finally {
      await nc.close().catch(() => undefined);
    }
  } finally {
    await c.stop();
    running.delete(c);
  }
}

/** `state-master`: the real master's /state. */
async function measureMaster(agents: number, samples: number): Promise<StateResult> {
  const line = { bench: 'state', case: 'state-master', agents, tasks: agents * TASKS_PER_AGENT, targetMs: TARGET_MS, leaseMs: LEASE_MS } as const;
  return withSwarm<StateResult>(
    agents,
    TASKS_PER_AGENT,
    async (url, registrationMs) => {
      const { epochs, ...figures } = await measureGets(url, samples);
      if (epochs[0] !== epochs[1]) process.stderr.write(`bench:state: the leader changed while /state was measured at ${agents} agents (epoch ${epochs[0]} → ${epochs[1]})\n`);
      const withEventStream = await sampleWithEventStream(url, samples);
      return { ...line, ...figures, withEventStream, registrationMs: Math.round(registrationMs) };
    },
    async (url, registered) => {
      const counters = await allocationCounters(url);
      return {
        ...line,
        error: `the swarm registered ${registered} of ${agents} agents within ${SETUP_TIMEOUT_MS / 1000} s`,
        registered,
        ...(counters !== undefined && { allocationRuns: counters.runs, allocationSeconds: counters.seconds }),
      };
    },
  );
}

/** `state-in-process`: the master's core and HTTP module in this process, no bus. */
async function measureInProcess(agents: number, samples: number): Promise<StateResult> {
  let ids = 0;
  const core = new MasterCore({ ...DEFAULT_MASTER_CONFIG, masterId: 'bench', epoch: 1 }, (prefix) => `${prefix}-${ids++}`);
  const t0 = performance.now();
  const now = Date.now();
  for (let i = 0; i < agents; i++) {
    const { reply } = core.onAgentMessage(registration(i, TASKS_PER_AGENT), `sim-${i}`, now);
    if (reply.type !== 'AGENT_REGISTERED') throw new Error(`the core answered ${reply.type} to agent sim-${i}`);
  }
  const coreRegistrationMs = performance.now() - t0;
  const source: OperatorSource = {
    role: () => ({ masterId: 'bench', leading: true }),
    // As MasterShell.clusterState does, less the allocator's shares and role views.
    snapshot: () => Promise.resolve(snapshot(core.state, { masterId: 'bench', epoch: 1, cluster: 'bench', startedAt: now, shareOf: () => 0 })),
    call: () => Promise.resolve({ type: 'REJECTED', code: 'UNKNOWN_TYPE', reason: 'not served by the benchmark' }),
    subscribeEvents: () => () => undefined,
    readFile: () => Promise.reject(new Error('no sandboxes in the benchmark')),
  };
  const server = await startOperatorHttp({ source, port: 0, uiDir: null, processMetrics: false });
  try {
    const { epochs: _epochs, ...figures } = await measureGets(server.url, samples);
    return { bench: 'state', case: 'state-in-process', agents, tasks: agents * TASKS_PER_AGENT, ...figures, targetMs: TARGET_MS, coreRegistrationMs: Math.round(coreRegistrationMs) };
  } finally {
    await server.close();
  }
}

/** Runs in the page before its scripts: records when a frame first shows `tasks` running tasks on the overview. */
function overviewProbe(tasks: number): string {
  return `(() => {
    const tick = () => {
      const el = document.querySelector('[data-testid=task-count-TASK_RUNNING]');
      if (el !== null && el.getAttribute('data-count') === '${tasks}') {
        requestAnimationFrame(() => { globalThis.__nesosOverviewMs = performance.now(); });
        return;
      }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  })();`;
}

/** `ui-overview`: loads the overview `loads` times in Chromium with `agents × 2` tasks in the cluster. */
async function measureUi(executablePath: string, agents: number, loads: number): Promise<UiResult> {
  const tasks = agents * 2;
  return withSwarm(
    agents,
    2,
    async (url) => {
      const browser = await launchChromium(executablePath);
      try {
        const readyMs: number[] = [];
        const fcpMs: number[] = [];
        for (let i = 0; i < loads; i++) {
          const page = await browser.context.newPage();
          try {
            await page.addInitScript({ content: overviewProbe(tasks) });
            await page.goto(`${url}/`, { timeout: 60_000 });
            await page.waitForFunction('globalThis.__nesosOverviewMs !== undefined', undefined, { timeout: 60_000 });
            readyMs.push(Number(await page.evaluate('globalThis.__nesosOverviewMs')));
            fcpMs.push(Number(await page.evaluate("performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN")));
          } finally {
            await page.close();
          }
        }
        const fcp = median(fcpMs.filter((x) => Number.isFinite(x)));
        return {
          bench: 'state',
          case: 'ui-overview',
          agents,
          tasks,
          loads,
          firstLoadMs: round(readyMs[0] ?? 0),
          medianMs: round(median(readyMs)),
          maxMs: round(Math.max(...readyMs)),
          baseline: { name: 'first-contentful-paint of the same loads', ms: round(fcp) },
          ratio: ratioOf(median(readyMs), fcp),
          targetMs: TARGET_MS,
        };
      } finally {
        await browser.close();
      }
    },
    (_url, registered) => Promise.reject(new Error(`ui-overview: the swarm registered ${registered} of ${agents} agents within ${SETUP_TIMEOUT_MS / 1000} s`)),
  );
}

const SAMPLES: Record<number, number> = { 1000: 60, 10_000: 30, 40_000: 15 };
const sizes = args.agents !== undefined ? args.agents.split(',').map(Number) : args.quick ? [1000, 10_000] : [1000, 10_000, 40_000];
for (const agents of sizes) {
  const samples = (SAMPLES[agents] ?? 20) / (args.quick ? 2 : 1);
  if (args.only !== 'master') emit(await measureInProcess(agents, samples));
  if (args.only !== 'in-process') emit(await measureMaster(agents, samples));
}

if (!args['no-ui']) {
  const chromium = chromiumPath();
  if (chromium === undefined) process.stderr.write('bench:state: Chromium is not installed: the UI case is skipped (`sudo apt-get install -y chromium`, or NESOS_CHROMIUM=<binary>)\n');
  else emit(await measureUi(chromium, 5000, args.quick ? 3 : 7));
}
process.exit(0);
