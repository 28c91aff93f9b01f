/**
 * A chaos run against a running cluster (`nesos chaos --attach`): reach it through NATS
 * and the operator API like the CLI does (NoClusterError when it does not answer), find
 * its masters and agents on this machine, settle the fault kinds (attach-faults.ts), then
 * run the same workload framework, monitor, schedule and invariant checks as a run on a
 * cluster of its own. It owns only its framework: the cluster's processes are paused and
 * resumed, or killed only when their `nesos up` restarts them; every pause is undone at
 * the end, on Ctrl-C, on errors and (by the guardian process) when the run itself is
 * killed. Every wait is bounded.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { connectNats, type NatsConnection } from '../../actors/runtime/nats.js';
import type { MasterSnapshot } from '../../protocol/operator.js';
import { NoClusterError } from '../errors.js';
import { getState } from '../readiness.js';
import { attachKinds, type LocalFacts } from './attach-faults.js';
import { findLocalProcesses, natsEndpoints, type LocalProcess } from './attach-procs.js';
import { AttachTargets, frameworkCwd } from './attach-targets.js';
import { ChaosCluster } from './cluster.js';
import { Injector } from './injector.js';
import { checkInvariants } from './invariants.js';
import { readJournal } from './journal.js';
import { Monitor } from './monitor.js';
import { awaitConvergence, pingMaster } from './probe.js';
import { sandboxRuns } from './procs.js';
import { buildReport, type AttachInfo, type ChaosReport } from './report.js';
import { ResumeGuard } from './resume-guard.js';
import { planFaults } from './schedule.js';
import type { ChaosHistory, FaultKind } from './types.js';
import { drainWorkload, startWorkload, waitSubscribed, writeRunFiles, type WorkloadFiles } from './workload-process.js';

const PRINCIPAL = 'nesos-chaos';

/**
 * The workload framework's failover timeout on an attached cluster, s: long enough for
 * every kill-framework and stop-framework fault, short enough that what a run killed
 * outright (SIGKILL: no teardown) leaves on someone's cluster is gone within a minute.
 */
export const ATTACH_FAILOVER_TIMEOUT_S = 60;

/** What an attached run is asked to do. */
export interface AttachOptions {
  /** NATS URL(s), comma-separated, as given to --nats. */
  nats: string;
  cluster: string;
  seed: number;
  /** Length of the fault phase, ms. */
  durationMs: number;
  /** `--faults`: every one must apply; absent: every kind that applies here. */
  kinds?: FaultKind[];
  convergeBoundMs: number;
  drainTimeoutMs: number;
  dataDir?: string;
  keep: boolean;
  /** Log level of the workload framework (its log is a file in the run's directory). */
  logLevel: string;
  /** The command that reproduces the run (for the report). */
  command: string;
}

/** True when this user may signal `pid`. */
function canSignal(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false; // EPERM (another user's), or gone
  }
}

/** An attached run in progress; `abort()` resumes what it paused and stops its framework. */
export class AttachRun {
  private readonly abortController = new AbortController();
  private readonly guard = new ResumeGuard();
  private own: ChaosCluster | undefined;
  private files: WorkloadFiles | undefined;

  constructor(
    private readonly o: AttachOptions,
    private readonly log: Logger,
  ) {}

  /** Ctrl-C: resumes every paused process at once, asks the framework to tear down (at most ~8 s), stops it. */
  async abort(): Promise<void> {
    this.abortController.abort();
    this.guard.resumeAll();
    const fw = this.own?.get('framework');
    if (this.files !== undefined && fw?.child !== undefined && this.own?.alive(fw) === true) {
      writeFileSync(this.files.drainFile, String(Date.now() + 5000));
      await Promise.race([fw.child.exited, sleep(8000)]);
    }
    await this.own?.stop();
    this.guard.close();
  }

  /** Runs it; resolves with the report. Throws NoClusterError, FaultNotApplicableError before touching anything. */
  async run(): Promise<ChaosReport> {
    const servers = this.o.nats.split(',').map((s) => s.trim());
    const nc = await connectNats({ servers, name: PRINCIPAL, connectTimeoutMs: 2000 }).catch((e: unknown) => {
      throw new NoClusterError(this.o.nats, this.o.cluster, { cause: e });
    });
    try {
      let state: MasterSnapshot;
      try {
        state = await getState(nc, this.o.cluster, PRINCIPAL, 3000);
      } catch (e) {
        throw new NoClusterError(this.o.nats, this.o.cluster, { cause: e });
      }
      const local = findLocalProcesses(this.o.cluster, natsEndpoints(this.o.nats));
      const facts = await this.facts(nc, local, state);
      const { kinds, dropped } = attachKinds(this.o.kinds, facts);
      for (const d of dropped) this.log.info({ kind: d.kind, reason: d.reason }, 'fault kind left out');
      const registered = new Set(facts.agents.filter((a) => a.registered && a.id !== undefined).map((a) => a.id as string));
      const info: AttachInfo = {
        nats: this.o.nats,
        cluster: this.o.cluster,
        local: local.map((p) => ({ role: p.role, ...(p.id !== undefined && { id: p.id }), pid: p.pid, ...(p.restartedBy !== undefined && { restartedBy: p.restartedBy }) })),
        kinds,
        dropped,
        resumedAtEnd: [],
      };
      return await this.attack(nc, servers, state, local, registered, info);
    } finally {
      await nc.close().catch(() => undefined);
    }
  }

  private async facts(nc: NatsConnection, local: readonly LocalProcess[], state: MasterSnapshot): Promise<LocalFacts> {
    const masters = local.filter((p) => p.role === 'master');
    const leading = await Promise.all(masters.map((m) => (m.id === undefined ? undefined : pingMaster(nc, this.o.cluster, m.id, 1000))));
    const active = new Set(state.agents.filter((a) => a.status === 'active').map((a) => a.id));
    return {
      masters: masters.map((m, i) => ({ id: m.id, pid: m.pid, leading: leading[i], signalable: canSignal(m.pid), restarted: m.restartedBy !== undefined })),
      agents: local.filter((p) => p.role === 'agent').map((a) => ({ id: a.id, pid: a.pid, registered: a.id !== undefined && active.has(a.id), signalable: canSignal(a.pid), restarted: a.restartedBy !== undefined })),
    };
  }

  private async attack(nc: NatsConnection, servers: string[], start: MasterSnapshot, local: readonly LocalProcess[], registered: ReadonlySet<string>, info: AttachInfo): Promise<ChaosReport> {
    const dir = this.o.dataDir !== undefined ? resolve(this.o.dataDir) : mkdtempSync(join(tmpdir(), 'nesos-chaos-attach-'));
    mkdirSync(dir, { recursive: true });
    const frameworkId = `chaos-${this.o.seed}-${randomBytes(3).toString('hex')}`;
    const own = new ChaosCluster({ dir, cluster: this.o.cluster, masters: 0, agents: 0, agentResources: '', natsCluster: false, logLevel: this.o.logLevel, logger: this.log });
    this.own = own;
    this.guard.start();
    const abort = this.abortController.signal;
    let history: ChaosHistory;
    try {
      this.files = startWorkload(own, { dir, servers, cluster: this.o.cluster, frameworkId, seed: this.o.seed, logLevel: this.o.logLevel, durationMs: this.o.durationMs, failoverTimeoutSeconds: ATTACH_FAILOVER_TIMEOUT_S });
      await waitSubscribed(this.files, 60_000, abort);

      const monitor = new Monitor(nc, this.o.cluster, frameworkId, frameworkCwd(frameworkId));
      const find = () => findLocalProcesses(this.o.cluster, natsEndpoints(this.o.nats));
      const injector = new Injector(new AttachTargets(nc, this.o.cluster, find, registered, own, frameworkId, this.guard), this.log);
      monitor.start();
      const schedule = planFaults({ seed: this.o.seed, durationMs: this.o.durationMs, kinds: info.kinds });
      const phaseStart = Date.now();
      this.log.info({ faults: schedule.length, kinds: info.kinds, durationMs: this.o.durationMs }, 'fault phase');
      await injector.run(schedule, phaseStart, abort);
      await injector.drain();
      info.resumedAtEnd = this.guard.resumeAll(); // nothing, unless a restore was cut short
      const lastFaultEndedAt = injector.lastFaultEndedAt > 0 ? injector.lastFaultEndedAt : Date.now();

      own.startRole('framework'); // if it exited by itself
      this.log.info('waiting for the cluster to converge');
      const activeAtStart = start.agents.filter((a) => a.status === 'active').map((a) => a.id);
      const localAgents = new Set(local.flatMap((p) => (p.role === 'agent' && p.id !== undefined ? [p.id] : [])));
      const alive = (role: LocalProcess['role']): Set<string> => new Set(find().flatMap((p) => (p.role === role && p.id !== undefined ? [p.id] : [])));
      const convergence = await awaitConvergence(nc, this.o.cluster, {
        // Local masters running now (a restarted one under its new pid), and every master seen leading (remote ones too).
        liveMasters: () => [...new Set([...alive('master'), start.masterId, ...monitor.masterSamples.map((s) => s.masterId)])],
        // Every agent active at the start, unless it is local and no process of it runs now.
        liveAgents: () => {
          const running = alive('agent');
          return activeAtStart.filter((id) => !localAgents.has(id) || running.has(id));
        },
      }, lastFaultEndedAt, this.o.convergeBoundMs, 10_000, [frameworkId]);
      await sleep(Math.max(0, phaseStart + this.o.durationMs - Date.now()), undefined, { signal: abort }).catch(() => undefined);

      this.log.info('draining the workload');
      await drainWorkload(own, this.files, this.o.drainTimeoutMs, abort);
      await monitor.stop();
      const workDirs = local.flatMap((p) => (p.role === 'agent' && p.workDir !== undefined && existsSync(p.workDir) ? [p.workDir] : []));
      const runs = sandboxRuns(workDirs, frameworkId);
      history = { faults: injector.injected, journal: readJournal(this.files.journal), masterSamples: monitor.masterSamples, processSamples: monitor.processSamples, sandboxRuns: runs, convergence };
    } finally {
      info.resumedAtEnd.push(...this.guard.resumeAll());
      await own.stop();
      this.guard.close();
    }
    const violations = checkInvariants(history);
    const report = buildReport({ seed: this.o.seed, durationMs: this.o.durationMs, natsCluster: false, masters: info.local.filter((p) => p.role === 'master').length, agents: start.agents.length, dir, command: this.o.command, attach: info }, history, violations);
    return writeRunFiles(dir, history, report, this.o);
  }
}
