/**
 * One chaos run, end to end: start the cluster, start the workload framework, sample the
 * cluster while the seeded schedule injects faults, wait until every process is restored
 * and the cluster converged, drain the workload, stop everything, then check the
 * invariants over what was recorded and build the report. Every wait is bounded; the
 * cluster is stopped in a `finally`, and `abort()` (Ctrl-C) stops it at once.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { connectNats, type NatsConnection } from '../../actors/runtime/nats.js';
import { waitForPort, waitForState } from '../readiness.js';
import { ChaosCluster } from './cluster.js';
import { ClusterTargets } from './cluster-targets.js';
import { ClusterStartError } from './errors.js';
import { Injector } from './injector.js';
import { checkInvariants } from './invariants.js';
import { readJournal } from './journal.js';
import { Monitor } from './monitor.js';
import { awaitConvergence } from './probe.js';
import { isUnder, sandboxRuns } from './procs.js';
import { buildReport, type ChaosReport } from './report.js';
import { faultKinds, planFaults } from './schedule.js';
import { FAULT_KINDS, type ChaosHistory, type FaultKind } from './types.js';
import { drainWorkload, startWorkload, waitSubscribed, writeRunFiles } from './workload-process.js';

/** What a run is asked to do. */
export interface ChaosOptions {
  seed: number;
  /** Length of the fault phase, ms. */
  durationMs: number;
  natsCluster: boolean;
  masters: number;
  agents: number;
  agentResources: string;
  /** The cluster must converge within this after the last fault, ms. */
  convergeBoundMs: number;
  /** The workload must settle within this once asked to drain, ms. */
  drainTimeoutMs: number;
  /** Where to put logs, journals and sandboxes (default a fresh temp dir). */
  dataDir?: string;
  /** Keep the directory even when every invariant held. */
  keep: boolean;
  /** Log level of the cluster's processes. */
  logLevel: string;
  /** The command that reproduces the run (for the report). */
  command: string;
  /** The fault kinds (`--faults`; default every kind, `kill-nats` only with `natsCluster`). */
  kinds?: FaultKind[];
}

/** A run in progress; `abort()` stops it and its processes. */
export class ChaosRun {
  private readonly abortController = new AbortController();
  private cluster: ChaosCluster | undefined;

  constructor(
    private readonly o: ChaosOptions,
    private readonly log: Logger,
  ) {}

  /** Stops the run's processes at once (Ctrl-C). */
  async abort(): Promise<void> {
    this.abortController.abort();
    await this.cluster?.stop();
  }

  /** Runs it; resolves with the report. */
  async run(): Promise<ChaosReport> {
    const dir = this.o.dataDir !== undefined ? resolve(this.o.dataDir) : mkdtempSync(join(tmpdir(), 'nesos-chaos-'));
    mkdirSync(dir, { recursive: true });
    const name = `chaos${randomBytes(4).toString('hex')}`;
    const frameworkId = `chaos-${this.o.seed}-${randomBytes(3).toString('hex')}`;
    const cluster = new ChaosCluster({ dir, cluster: name, masters: this.o.masters, agents: this.o.agents, agentResources: this.o.agentResources, natsCluster: this.o.natsCluster, logLevel: this.o.logLevel, logger: this.log });
    this.cluster = cluster;
    let nc: NatsConnection | undefined;
    let history: ChaosHistory;
    try {
      nc = await this.startCluster(cluster, dir);
      const files = startWorkload(cluster, { dir, servers: cluster.servers, cluster: name, frameworkId, seed: this.o.seed, logLevel: this.o.logLevel, durationMs: this.o.durationMs });
      await waitSubscribed(files, 60_000, this.abortController.signal);

      const inDir = (cwd: string): boolean => isUnder(cwd, dir);
      const monitor = new Monitor(nc, name, frameworkId, inDir);
      const injector = new Injector(new ClusterTargets(cluster, nc, frameworkId, inDir), this.log);
      monitor.start();
      const schedule = planFaults({ seed: this.o.seed, durationMs: this.o.durationMs, kinds: this.o.kinds ?? faultKinds(this.o.natsCluster, FAULT_KINDS) });
      const phaseStart = Date.now();
      this.log.info({ faults: schedule.length, durationMs: this.o.durationMs }, 'fault phase');
      await injector.run(schedule, phaseStart, this.abortController.signal);
      await injector.drain();
      const lastFaultEndedAt = injector.lastFaultEndedAt > 0 ? injector.lastFaultEndedAt : Date.now();

      // Convergence is probed from the moment every process is back; the workload goes on.
      cluster.startRole('framework'); // if it exited by itself
      this.log.info('waiting for the cluster to converge');
      const convergence = await awaitConvergence(nc, name, {
        liveMasters: () => cluster.byRole('master').filter((p) => cluster.alive(p)).map((p) => p.name),
        liveAgents: () => cluster.byRole('agent').filter((p) => cluster.alive(p)).map((p) => p.name),
      }, lastFaultEndedAt, this.o.convergeBoundMs);
      await sleep(Math.max(0, phaseStart + this.o.durationMs - Date.now()), undefined, { signal: this.abortController.signal }).catch(() => undefined);

      this.log.info('draining the workload');
      await drainWorkload(cluster, files, this.o.drainTimeoutMs, this.abortController.signal);
      await monitor.stop();
      const runs = sandboxRuns(cluster.byRole('agent').map((_, i) => cluster.agentDir(i + 1)), frameworkId);
      history = { faults: injector.injected, journal: readJournal(files.journal), masterSamples: monitor.masterSamples, processSamples: monitor.processSamples, sandboxRuns: runs, convergence };
    } finally {
      await nc?.close().catch(() => undefined);
      await cluster.stop();
    }
    const violations = checkInvariants(history);
    const report = buildReport({ seed: this.o.seed, durationMs: this.o.durationMs, natsCluster: this.o.natsCluster, masters: this.o.masters, agents: this.o.agents, dir, command: this.o.command }, history, violations);
    return writeRunFiles(dir, history, report, this.o);
  }

  private async startCluster(cluster: ChaosCluster, dir: string): Promise<NatsConnection> {
    await cluster.start();
    try {
      for (const node of cluster.natsNodes) await waitForPort('127.0.0.1', node.clientPort, 15_000);
    } catch (cause) {
      throw new ClusterStartError('nats-server did not listen', dir, { cause });
    }
    const nc = await connectNats({ servers: cluster.servers, name: 'nesos-chaos' });
    cluster.startRole('master');
    cluster.startRole('agent');
    try {
      await waitForState(nc, cluster.o.cluster, (s) => s.agents.filter((a) => a.status === 'active').length >= this.o.agents, 60_000, 'nesos-chaos');
    } catch (cause) {
      await nc.close().catch(() => undefined);
      throw new ClusterStartError(`${this.o.agents} agents did not register within 60 s`, dir, { cause });
    }
    return nc;
  }
}

export { FRAMEWORK_SCRIPT, frameworkBuilt } from './workload-process.js';
