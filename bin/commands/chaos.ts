/**
 * `nesos chaos`: starts a cluster of its own, runs the chaos workload framework on it,
 * injects faults from a seeded schedule, then checks invariants and prints a report (a
 * human summary, then one JSON line). Exits 1 on any violation, naming the seed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { Command } from 'commander';
import type { LevelWithSilent } from 'pino';
import { createRootLogger } from '../../actors/runtime/logger.js';
import { ChaosRun, frameworkBuilt } from '../chaos/run.js';
import { formatReport } from '../chaos/report.js';
import { MissingProgramError, UsageError } from '../errors.js';
import { intFlag } from '../options.js';

interface ChaosFlags {
  duration: number;
  seed?: number;
  natsCluster: boolean;
  agents: number;
  agentResources: string;
  convergeTimeout: number;
  drainTimeout: number;
  dataDir?: string;
  keep: boolean;
  logLevel: string;
  clusterLogLevel: string;
  json: boolean;
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** The `chaos` command. */
export function chaosCommand(): Command {
  return new Command('chaos')
    .description('start a cluster, run a workload framework on it, inject faults from a seeded schedule (SIGKILL/SIGSTOP of masters, agents, executors, the framework, nats-servers), then check invariants and report; exits 1 on any violation')
    .option('--duration <s>', 'seconds of faults (the run takes about 30 s more: start, convergence, drain)', intFlag('--duration', 15, 3600), 120)
    .option('--seed <n>', 'seed of the fault schedule and the workload (default: drawn, and printed)', intFlag('--seed', 0, 2 ** 32 - 1))
    .option('--nats-cluster', 'run three nats-servers in a JetStream cluster (replicas 3) and SIGKILL them too', false)
    .option('--agents <n>', 'number of agents', intFlag('--agents', 1, 16), 3)
    .option('--agent-resources <resources>', 'resources of each agent, Mesos syntax', 'cpus:2;mem:1024;disk:1024;ports:[31000-31100]')
    .option('--converge-timeout <s>', 'the cluster must converge within this many seconds of the last fault', intFlag('--converge-timeout', 1, 600), 30)
    .option('--drain-timeout <s>', 'the workload must settle within this many seconds once asked to stop', intFlag('--drain-timeout', 1, 600), 45)
    .option('--data-dir <dir>', 'where logs, the journal, history.json and report.json go (default: a temp dir, removed when every invariant held)')
    .option('--keep', 'keep the temp dir even when every invariant held', false)
    .option('--log-level <level>', "the chaos run's own log level (stderr)", process.env.NESOS_LOG_LEVEL ?? 'info')
    .option('--cluster-log-level <level>', "log level of the cluster's processes (their logs are files in the data dir)", 'info')
    .option('--json', 'print only the JSON line on stdout', false)
    .action(async (flags: ChaosFlags) => {
      for (const [flag, level] of [['--log-level', flags.logLevel], ['--cluster-log-level', flags.clusterLogLevel]] as const) {
        if (!LEVELS.includes(level)) throw new UsageError(`${flag} "${level}" is unknown: use one of ${LEVELS.join(', ')}`);
      }
      try {
        execFileSync('nats-server', ['--version'], { stdio: 'ignore' });
      } catch {
        throw new MissingProgramError('nats-server', 'Run `npm run setup` (installs Debian\'s nats-server as root) or `sudo apt-get install -y nats-server`.');
      }
      if (flags.dataDir !== undefined && existsSync(flags.dataDir) && readdirSync(flags.dataDir).length > 0) {
        throw new UsageError(`--data-dir ${flags.dataDir} is not empty: give a new or empty directory (a run's journal must start empty)`);
      }
      if (!frameworkBuilt()) throw new UsageError('the chaos framework is not built: run `npm run build` first (or `npm run chaos -- …`, which builds)');
      const seed = flags.seed ?? Math.floor(Math.random() * 2 ** 31);
      const command = `npm run chaos -- --duration ${flags.duration} --seed ${seed}${flags.natsCluster ? ' --nats-cluster' : ''}${flags.agents !== 3 ? ` --agents ${flags.agents}` : ''}`;
      const log = createRootLogger({ level: flags.logLevel as LevelWithSilent });
      log.info({ seed, durationS: flags.duration, natsCluster: flags.natsCluster }, 'chaos run starting');
      const run = new ChaosRun({
        seed,
        durationMs: flags.duration * 1000,
        natsCluster: flags.natsCluster,
        masters: 3,
        agents: flags.agents,
        agentResources: flags.agentResources,
        convergeBoundMs: flags.convergeTimeout * 1000,
        drainTimeoutMs: flags.drainTimeout * 1000,
        ...(flags.dataDir !== undefined && { dataDir: flags.dataDir }),
        keep: flags.keep,
        logLevel: flags.clusterLogLevel,
        command,
      }, log);
      const interrupt = (signal: string) => {
        log.warn({ signal }, 'interrupted: stopping every process of the run');
        void run.abort().finally(() => process.exit(130));
      };
      process.once('SIGINT', () => interrupt('SIGINT'));
      process.once('SIGTERM', () => interrupt('SIGTERM'));
      const report = await run.run();
      if (!flags.json) process.stdout.write(formatReport(report) + '\n');
      process.stdout.write(JSON.stringify(report) + '\n');
      log.flush();
      if (!report.ok) {
        process.stderr.write(`nesos chaos: ${report.violations.length} invariant violation(s); reproduce with: ${command}\n`);
        process.exitCode = 1;
      }
    });
}
