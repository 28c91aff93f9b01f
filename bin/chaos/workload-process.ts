/**
 * The workload framework as a process of the run (both kinds of run): its configuration
 * and start, waiting until it subscribed, asking it to drain and waiting (bounded) until it
 * did, restarting it when it is down; and the run's files at the end (history.json,
 * report.json, the directory removed when every invariant held).
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PACKAGE_ROOT } from '../paths.js';
import type { ChaosCluster } from './cluster.js';
import { FrameworkStartError } from './errors.js';
import type { FrameworkConfig } from './framework-main.js';
import { readJournal } from './journal.js';
import type { ChaosReport } from './report.js';
import type { ChaosHistory } from './types.js';

/** The compiled workload framework. */
export const FRAMEWORK_SCRIPT = join(PACKAGE_ROOT, 'dist', 'bin', 'chaos', 'framework-main.js');

/** True when the compiled framework exists (the CLI checks before starting a run). */
export function frameworkBuilt(): boolean {
  return existsSync(FRAMEWORK_SCRIPT);
}

/** Where the framework's journal and drain file are. */
export interface WorkloadFiles {
  journal: string;
  drainFile: string;
}

/** What the framework is started with. */
export interface WorkloadOptions {
  dir: string;
  servers: string[];
  cluster: string;
  frameworkId: string;
  seed: number;
  logLevel: string;
  /** Length of the fault phase, ms (the framework's own bound is 10 min more). */
  durationMs: number;
  /** How long the master keeps the framework's tasks once it is gone, s (default 600). */
  failoverTimeoutSeconds?: number;
}

/** Writes the framework's configuration and starts it as `cluster`'s `framework` process. */
export function startWorkload(cluster: ChaosCluster, o: WorkloadOptions): WorkloadFiles {
  mkdirSync(join(o.dir, 'framework'), { recursive: true });
  const files = { journal: join(o.dir, 'framework', 'journal.jsonl'), drainFile: join(o.dir, 'framework', 'drain') };
  const config: FrameworkConfig = {
    servers: o.servers,
    cluster: o.cluster,
    frameworkId: o.frameworkId,
    journal: files.journal,
    drainFile: files.drainFile,
    seed: o.seed,
    logLevel: o.logLevel,
    maxInFlight: 12,
    launchesPerSecond: 3,
    maxRunMs: o.durationMs + 600_000,
    ...(o.failoverTimeoutSeconds !== undefined && { failoverTimeoutSeconds: o.failoverTimeoutSeconds }),
  };
  const path = join(o.dir, 'framework', 'config.json');
  writeFileSync(path, JSON.stringify(config, null, 2));
  cluster.addFramework(path, FRAMEWORK_SCRIPT);
  return files;
}

/** Waits until the framework journaled its subscription; FrameworkStartError after `timeoutMs` or on abort. */
export async function waitSubscribed(files: WorkloadFiles, timeoutMs: number, abort: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!readJournal(files.journal).some((e) => e.t === 'subscribed')) {
    if (Date.now() > deadline || abort.aborted) throw new FrameworkStartError(1);
    await sleep(100);
  }
}

/** Asks the framework to drain and waits (bounded) until it did; starts it again if it is down. */
export async function drainWorkload(cluster: ChaosCluster, files: WorkloadFiles, drainTimeoutMs: number, abort: AbortSignal): Promise<void> {
  const deadline = Date.now() + drainTimeoutMs;
  writeFileSync(files.drainFile, String(deadline));
  const drained = (): boolean => readJournal(files.journal).some((e) => e.t === 'drained');
  for (let i = 0; i < 1000 && !drained() && Date.now() < deadline + 10_000 && !abort.aborted; i++) {
    const fw = cluster.get('framework');
    if (fw !== undefined && !cluster.alive(fw) && !drained()) fw.start();
    await sleep(250);
  }
  const fw = cluster.get('framework');
  if (fw?.child !== undefined) await Promise.race([fw.child.exited, sleep(5000)]);
}

/** Writes history.json and report.json into `dir`; removes `dir` when every invariant held, it is a temp dir and `keep` is off. */
export function writeRunFiles(dir: string, history: ChaosHistory, report: ChaosReport, o: { keep: boolean; dataDir?: string }): ChaosReport {
  writeFileSync(join(dir, 'history.json'), JSON.stringify(history));
  writeFileSync(join(dir, 'report.json'), JSON.stringify(report, null, 2));
  if (report.ok && !o.keep && o.dataDir === undefined) {
    rmSync(dir, { recursive: true, force: true });
    report.dir = '(removed: every invariant held; --keep keeps it)';
  }
  return report;
}
