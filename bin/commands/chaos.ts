/**
 * `nesos chaos`: starts a cluster of its own (or, with `--attach`, uses a running one),
 * runs the chaos workload framework on it, injects faults from a seeded schedule, then
 * checks invariants and prints a report (a human summary, then one JSON line). Exits 1 on
 * any violation, naming the seed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { Command } from 'commander';
import type { LevelWithSilent } from 'pino';
import { createRootLogger } from '../../actors/runtime/logger.js';
import { NOT_WITH_ATTACH } from '../chaos/attach-faults.js';
import { AttachRun } from '../chaos/attach-run.js';
import { FaultNotApplicableError } from '../chaos/errors.js';
import { formatReport, type ChaosReport } from '../chaos/report.js';
import { ChaosRun } from '../chaos/run.js';
import { FAULT_KINDS, type FaultKind } from '../chaos/types.js';
import { frameworkBuilt } from '../chaos/workload-process.js';
import { MissingProgramError, UsageError } from '../errors.js';
import { checkClusterOptions, intFlag, withClusterOptions, type ClusterOptions } from '../options.js';

interface ChaosFlags extends ClusterOptions {
  attach: boolean;
  faults?: FaultKind[];
  duration: number;
  seed?: number;
  natsCluster: boolean;
  agents: number;
  agentResources: string;
  convergeTimeout: number;
  drainTimeout: number;
  dataDir?: string;
  keep: boolean;
  clusterLogLevel: string;
  json: boolean;
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** Parses `--faults`: comma-separated kinds, each one of FAULT_KINDS. */
function faultsFlag(value: string): FaultKind[] {
  const kinds = value.split(',').map((k) => k.trim()).filter((k) => k !== '');
  const unknown = kinds.filter((k) => !(FAULT_KINDS as readonly string[]).includes(k));
  if (kinds.length === 0 || unknown.length > 0) {
    throw new UsageError(`--faults "${value}" ${kinds.length === 0 ? 'names no kind' : `has unknown kind(s) ${unknown.join(', ')}`}: give a comma-separated list of ${FAULT_KINDS.join(', ')}`);
  }
  return [...new Set(kinds)] as FaultKind[];
}

/** The `chaos` command. */
export function chaosCommand(): Command {
  const cmd = withClusterOptions(new Command('chaos'));
  return cmd
    .description('start a cluster (or, with --attach, use the running one at --nats/--cluster), run a workload framework on it, inject faults from a seeded schedule (SIGKILL/SIGSTOP of masters, agents, executors, the framework, nats-servers; with --attach, kills of the cluster\'s own processes only when a `nesos up` restarts them, else pauses), then check invariants and report; exits 1 on any violation')
    .option('--attach', 'use the running cluster at --nats and --cluster instead of starting one: its masters and agents on this machine are paused and resumed, and SIGKILLed only when a `nesos up` of the cluster restarts them (docs/reliability.md)', false)
    .option('--faults <kinds>', `comma-separated fault kinds to inject (default: every kind that applies): ${FAULT_KINDS.join(', ')}`, faultsFlag)
    .option('--duration <s>', 'seconds of faults (the run takes about 30 s more: start, convergence, drain)', intFlag('--duration', 15, 3600), 120)
    .option('--seed <n>', 'seed of the fault schedule and the workload (default: drawn, and printed)', intFlag('--seed', 0, 2 ** 32 - 1))
    .option('--nats-cluster', 'run three nats-servers in a JetStream cluster (replicas 3) and SIGKILL them too (not with --attach)', false)
    .option('--agents <n>', 'number of agents (not with --attach)', intFlag('--agents', 1, 16), 3)
    .option('--agent-resources <resources>', 'resources of each agent, Mesos syntax (not with --attach)', 'cpus:2;mem:1024;disk:1024;ports:[31000-31100]')
    .option('--converge-timeout <s>', 'the cluster must converge within this many seconds of the last fault', intFlag('--converge-timeout', 1, 600), 30)
    .option('--drain-timeout <s>', 'the workload must settle within this many seconds once asked to stop', intFlag('--drain-timeout', 1, 600), 45)
    .option('--data-dir <dir>', 'where logs, the journal, history.json and report.json go (default: a temp dir, removed when every invariant held)')
    .option('--keep', 'keep the temp dir even when every invariant held', false)
    .option('--cluster-log-level <level>', "log level of the processes the run starts (the cluster's and the framework's; their logs are files in the data dir)", 'info')
    .option('--json', 'print only the JSON line on stdout', false)
    .action(async (flags: ChaosFlags) => {
      checkClusterOptions(flags);
      if (!LEVELS.includes(flags.clusterLogLevel)) throw new UsageError(`--cluster-log-level "${flags.clusterLogLevel}" is unknown: use one of ${LEVELS.join(', ')}`);
      const given = (key: string): boolean => cmd.getOptionValueSource(key) === 'cli';
      if (flags.attach) {
        for (const [key, flag] of [['natsCluster', '--nats-cluster'], ['agents', '--agents'], ['agentResources', '--agent-resources']] as const) {
          if (given(key)) throw new UsageError(`${flag} is not used with --attach: the cluster at --nats/--cluster is yours as it is; leave ${flag} out`);
        }
        for (const kind of flags.faults ?? []) {
          const never = NOT_WITH_ATTACH[kind];
          if (never !== undefined) throw new FaultNotApplicableError(kind, never.reason, never.fix);
        }
      } else {
        for (const [key, flag] of [['nats', '--nats'], ['cluster', '--cluster']] as const) {
          if (given(key)) throw new UsageError(`${flag} is only used with --attach: without it, nesos chaos starts a cluster of its own; add --attach to use the cluster at ${flag}`);
        }
        if (flags.faults?.includes('kill-nats') === true && !flags.natsCluster) {
          throw new FaultNotApplicableError('kill-nats', 'the run has a single nats-server, which the cluster cannot lose', 'Add --nats-cluster (three nats-servers), or leave kill-nats out.');
        }
        try {
          execFileSync('nats-server', ['--version'], { stdio: 'ignore' });
        } catch {
          throw new MissingProgramError('nats-server', 'Run `npm run setup` (installs Debian\'s nats-server as root) or `sudo apt-get install -y nats-server`.');
        }
      }
      if (flags.dataDir !== undefined && existsSync(flags.dataDir) && readdirSync(flags.dataDir).length > 0) {
        throw new UsageError(`--data-dir ${flags.dataDir} is not empty: give a new or empty directory (a run's journal must start empty)`);
      }
      if (!frameworkBuilt()) throw new UsageError('the chaos framework is not built: run `npm run build` first (or `npm run chaos -- …`, which builds)');
      const seed = flags.seed ?? Math.floor(Math.random() * 2 ** 31);
      const faults = flags.faults !== undefined ? ` --faults ${flags.faults.join(',')}` : '';
      const command = flags.attach
        ? `nesos chaos --attach --nats ${flags.nats} --cluster ${flags.cluster} --duration ${flags.duration} --seed ${seed}${faults}`
        : `npm run chaos -- --duration ${flags.duration} --seed ${seed}${flags.natsCluster ? ' --nats-cluster' : ''}${flags.agents !== 3 ? ` --agents ${flags.agents}` : ''}${faults}`;
      const log = createRootLogger({ level: flags.logLevel as LevelWithSilent });
      const common = {
        seed,
        durationMs: flags.duration * 1000,
        convergeBoundMs: flags.convergeTimeout * 1000,
        drainTimeoutMs: flags.drainTimeout * 1000,
        ...(flags.dataDir !== undefined && { dataDir: flags.dataDir }),
        ...(flags.faults !== undefined && { kinds: flags.faults }),
        keep: flags.keep,
        logLevel: flags.clusterLogLevel,
        command,
      };
      const run = flags.attach
        ? new AttachRun({ ...common, nats: flags.nats, cluster: flags.cluster }, log)
        : new ChaosRun({ ...common, natsCluster: flags.natsCluster, masters: 3, agents: flags.agents, agentResources: flags.agentResources }, log);
      log.info({ seed, durationS: flags.duration, attach: flags.attach, ...(flags.attach ? { nats: flags.nats, cluster: flags.cluster } : { natsCluster: flags.natsCluster }) }, 'chaos run starting');
      const interrupt = (signal: string) => {
        log.warn({ signal }, flags.attach ? 'interrupted: resuming every paused process and stopping the framework' : 'interrupted: stopping every process of the run');
        void run.abort().finally(() => process.exit(130));
      };
      process.once('SIGINT', () => interrupt('SIGINT'));
      process.once('SIGTERM', () => interrupt('SIGTERM'));
      const report: ChaosReport = await run.run();
      if (!flags.json) process.stdout.write(formatReport(report) + '\n');
      process.stdout.write(JSON.stringify(report) + '\n');
      log.flush();
      if (!report.ok) {
        process.stderr.write(`nesos chaos: ${report.violations.length} invariant violation(s); reproduce with: ${command}\n`);
        process.exitCode = 1;
      }
    });
}
