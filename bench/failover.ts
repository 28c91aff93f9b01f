/**
 * `npm run bench:failover`: how fast a cluster serves again after its leading master dies
 * (SIGKILL) or hangs (SIGSTOP), with real agents and with simulated ones.
 *
 * For each case it measures (a) the time from the fault until a new leader answers calls
 * (a scheduler call answered with a newer epoch) and (b) until every agent has registered
 * with it. The same run measures baselines: the plain-lease failover (standbys may take over
 * only when the lease runs out: `--takeover-after-no-responders 0`), and, for (b), the time
 * the same agents took to register the first time. One JSON line per case on stdout.
 *
 *     node dist/bench/failover.js [--quick] [--lease-ms 2000] [--only real|simulated] [--agents 10000] [--fault SIGKILL|SIGSTOP]
 */
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { leaderOf, openLeaderBucket, openRegistryBucket } from '../actors/runtime/kv.js';
import { connectNats, type NatsConnection } from '../actors/runtime/nats.js';
import { silentLogger } from '../actors/runtime/logger.js';
import { startSimulator } from '../actors/simulator/index.js';
import { request } from '../actors/runtime/request.js';
import { waitForState } from '../bin/readiness.js';
import { LEADER_KEY } from '../protocol/buckets.js';
import { Reply } from '../protocol/replies.js';
import { Subjects } from '../protocol/subjects.js';
import { BenchCluster } from './sim/cluster.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'lease-ms': { type: 'string', default: '2000' },
    /** Run only the real-agents or only the simulated-agents cases. */
    only: { type: 'string' },
    /** Simulated cases with this many agents only (e.g. 10000). */
    agents: { type: 'string' },
    /** Only this fault (SIGKILL or SIGSTOP). */
    fault: { type: 'string' },
  },
});
const LEASE_MS = Number(args['lease-ms']);

/** One result line. */
interface Result {
  bench: 'failover';
  case: string;
  fault: 'SIGKILL' | 'SIGSTOP';
  agents: number;
  tasks: number;
  leaseMs: number;
  newLeaderMs: number;
  allReregisteredMs: number;
  baseline: { name: string; ms: number };
  ratio: number;
  /** Simulated cases: how long scheduler calls made while the agents registered again waited for their answers (ms; one every 50 ms). */
  callsDuringReregistration?: { count: number; p50Ms: number; maxMs: number };
}

function emit(r: Result): void {
  process.stdout.write(JSON.stringify(r) + '\n');
}

/**
 * Asks the leader something cheap (a RECONCILE) every few ms until one with an epoch above
 * `oldEpoch` answers; returns ms since `t0` at which that answer arrived. Each probe waits
 * up to `PROBE_TIMEOUT_MS` for its answer while the next ones go out, as a framework's call
 * would: a probe that had to be answered within one probe interval (50 ms, until
 * 2026-11-30) was given up whenever this process — which also runs 10,000 simulated agents —
 * read the answer later than that, so after a SIGSTOP it succeeded only once every agent had
 * registered. The probes use a connection of their own (as a framework has).
 */
async function timeToNewLeader(nc: NatsConnection, cluster: string, oldEpoch: number, t0: number): Promise<{ ms: number; epoch: number }> {
  const subject = new Subjects(cluster).schedulerCall('bench-probe');
  let found: { ms: number; epoch: number } | undefined;
  while (found === undefined) {
    void request(nc, subject, { type: 'RECONCILE', frameworkId: 'fw-bench-probe', tasks: [] }, Reply, { timeoutMs: PROBE_TIMEOUT_MS }).then(
      (reply) => {
        if (found === undefined && reply.epoch !== undefined && reply.epoch > oldEpoch) found = { ms: performance.now() - t0, epoch: reply.epoch };
      },
      () => undefined, // no leader, or the old one hangs
    );
    await new Promise((r) => setTimeout(r, PROBE_INTERVAL_MS));
  }
  return found;
}

/**
 * Makes a scheduler call (RECONCILE) every 50 ms until `done` settles, and returns how long
 * the calls answered by term `epoch` waited for their answers: the latency a framework sees
 * while the new leader takes back its agents.
 */
async function callsWhile(nc: NatsConnection, cluster: string, epoch: number, done: Promise<void>): Promise<NonNullable<Result['callsDuringReregistration']>> {
  const subject = new Subjects(cluster).schedulerCall('bench-probe');
  const waits: Array<Promise<number | undefined>> = [];
  let finished = false;
  void done.then(() => (finished = true));
  while (!finished) {
    const sent = performance.now();
    waits.push(request(nc, subject, { type: 'RECONCILE', frameworkId: 'fw-bench-probe', tasks: [] }, Reply, { timeoutMs: PROBE_TIMEOUT_MS }).then(
      (reply) => (reply.epoch === epoch ? performance.now() - sent : undefined),
      () => undefined,
    ));
    await new Promise((r) => setTimeout(r, 50));
  }
  const ms = (await Promise.all(waits)).filter((w): w is number => w !== undefined).sort((a, b) => a - b);
  return { count: ms.length, p50Ms: round(ms[Math.floor(ms.length / 2)] ?? 0), maxMs: round(ms.at(-1) ?? 0) };
}

/** A new probe goes out this often (ms). */
const PROBE_INTERVAL_MS = 10;
/** How long a probe waits for its answer (ms). */
const PROBE_TIMEOUT_MS = 5000;

/** Kills (or stops) the leader named in the leader key; returns the fault's time and the old epoch. */
async function fault(c: BenchCluster, nc: NatsConnection, how: 'SIGKILL' | 'SIGSTOP'): Promise<{ t0: number; oldEpoch: number }> {
  const current = leaderOf(await (await openLeaderBucket(nc, c.name)).get(LEADER_KEY));
  if (current === undefined) throw new Error('no leader to fail');
  const leader = c.masters.get(current.record.masterId);
  if (leader?.process.pid === undefined) throw new Error(`leader ${current.record.masterId} is not one of the bench's masters`);
  const t0 = performance.now();
  process.kill(leader.process.pid, how);
  return { t0, oldEpoch: current.epoch };
}

async function masters(c: BenchCluster, extra: string[]): Promise<void> {
  const flags = ['--lease-ms', String(LEASE_MS), '--renew-interval-ms', String(Math.floor(LEASE_MS / 20)), '--agent-heartbeat-interval', '5000', ...extra];
  for (const id of ['m1', 'm2', 'm3']) c.startMaster(id, flags);
}

/** Real agents (processes) with running tasks launched by a framework. */
async function realAgents(how: 'SIGKILL' | 'SIGSTOP', plainLease: boolean): Promise<{ newLeaderMs: number; allReregisteredMs: number }> {
  const c = await BenchCluster.start();
  try {
    await masters(c, plainLease ? ['--takeover-after-no-responders', '0'] : []);
    for (let i = 1; i <= 3; i++) c.startAgent(`agent-${i}`, 'cpus:4;mem:4096;disk:1024;ports:[31000-31100]');
    const nc = await connectNats({ servers: c.natsUrl, name: 'bench' });
    try {
      await waitForState(nc, c.name, (s) => s.agents.filter((a) => a.status === 'active').length === 3, 30_000, 'bench');
      const { t0, oldEpoch } = await fault(c, nc, how);
      const leader = await timeToNewLeader(nc, c.name, oldEpoch, t0);
      await waitForState(nc, c.name, (s) => s.epoch === leader.epoch && s.agents.filter((a) => a.status === 'active').length === 3, 30_000, 'bench');
      return { newLeaderMs: leader.ms, allReregisteredMs: performance.now() - t0 };
    } finally {
      await nc.close();
    }
  } finally {
    await c.stop();
  }
}

/** Simulated agents in this process, each reporting `tasksPerAgent` running tasks. */
async function simulated(
  agents: number,
  tasksPerAgent: number,
  how: 'SIGKILL' | 'SIGSTOP',
): Promise<{ newLeaderMs: number; allReregisteredMs: number; firstRegistrationMs: number; callsDuringReregistration: NonNullable<Result['callsDuringReregistration']> }> {
  const c = await BenchCluster.start();
  try {
    await masters(c, ['--agent-reregister-timeout', '60000']);
    const nc = await connectNats({ servers: c.natsUrl, name: 'bench-swarm' });
    try {
      await waitForState(nc, c.name, () => true, 30_000, 'bench');
      const t1 = performance.now();
      const swarm = await startSimulator({
        nc,
        cluster: c.name,
        logger: silentLogger(),
        agents,
        tasksPerAgent,
        framework: { id: 'fw-sim', name: 'sim', principal: 'sim', roles: ['*'], capabilities: [], failoverTimeoutSeconds: 3600 },
        resources: 'cpus:8;mem:16384',
        jitterMs: Math.floor(Math.min(1000, agents / 10)),
        maxRequestsInFlight: 512,
        seed: 7,
      });
      try {
        await swarm.allRegisteredWith(1);
        const firstRegistrationMs = performance.now() - t1;
        // The registry holds every agent before the leader dies.
        const registry = await openRegistryBucket(nc, c.name);
        const stored = () => registry.status().then((st) => st.values, () => 0); // a busy server may time out: ask again
        while ((await stored()) < agents) await new Promise((r) => setTimeout(r, 200));
        const probes = await connectNats({ servers: c.natsUrl, name: 'bench-probe' });
        try {
          const { t0, oldEpoch } = await fault(c, nc, how);
          const trace = process.env.NESOS_BENCH_TRACE === '1' ? setInterval(() => process.stderr.write(`trace t=${Math.round(performance.now() - t0)} registeredWithNewest=${JSON.stringify(swarm.stats())}\n`), 100) : undefined;
          const leader = await timeToNewLeader(probes, c.name, oldEpoch, t0);
          if (trace !== undefined) process.stderr.write(`trace t=${Math.round(leader.ms)} new leader answers, epoch ${leader.epoch}\n`);
          const calls = callsWhile(probes, c.name, leader.epoch, swarm.allRegisteredWith(leader.epoch));
          await swarm.allRegisteredWith(leader.epoch);
          const allReregisteredMs = performance.now() - t0;
          clearInterval(trace);
          return { newLeaderMs: leader.ms, allReregisteredMs, firstRegistrationMs, callsDuringReregistration: await calls };
        } finally {
          await probes.close();
        }
      } finally {
        await swarm.stop();
      }
    } finally {
      await nc.close();
    }
  } finally {
    await c.stop();
  }
}

const round = (ms: number) => Math.round(ms * 10) / 10;

for (const how of args.only === 'simulated' ? [] : (['SIGKILL', 'SIGSTOP'] as const).filter((f) => args.fault === undefined || f === args.fault)) {
  const ours = await realAgents(how, false);
  const plain = await realAgents(how, true);
  emit({
    bench: 'failover',
    case: 'real-agents',
    fault: how,
    agents: 3,
    tasks: 0,
    leaseMs: LEASE_MS,
    newLeaderMs: round(ours.newLeaderMs),
    allReregisteredMs: round(ours.allReregisteredMs),
    baseline: { name: 'plain-lease-new-leader', ms: round(plain.newLeaderMs) },
    ratio: round(ours.newLeaderMs / plain.newLeaderMs * 100) / 100,
  });
}

const faults = (['SIGKILL', 'SIGSTOP'] as const).filter((f) => args.fault === undefined || f === args.fault);
const sizes = (args.only === 'real' ? [] : args.quick ? [[1000, 10]] : [[1000, 10], [10_000, 10]]).filter(([n]) => args.agents === undefined || n === Number(args.agents));
for (const [agents, perAgent] of sizes) {
  for (const how of faults) {
    const r = await simulated(agents!, perAgent!, how);
    emit({
      bench: 'failover',
      case: 'simulated-agents',
      fault: how,
      agents: agents!,
      tasks: agents! * perAgent!,
      leaseMs: LEASE_MS,
      newLeaderMs: round(r.newLeaderMs),
      allReregisteredMs: round(r.allReregisteredMs),
      baseline: { name: 'first-registration-of-all-agents', ms: round(r.firstRegistrationMs) },
      ratio: round(r.allReregisteredMs / r.firstRegistrationMs * 100) / 100,
      callsDuringReregistration: r.callsDuringReregistration,
    });
  }
}
process.exit(0);
