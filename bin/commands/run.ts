/**
 * `nesos run`: runs one command on the cluster, as mesos-execute does. It subscribes a
 * framework, waits for an offer that fits, launches the task, prints each state change
 * (stderr) and the task's output (stdout/stderr, followed live through the agent's files
 * API), and exits with the task's exit code.
 */
import { Command } from 'commander';
import type { Logger } from 'pino';
import { createRootLogger } from '../../actors/runtime/logger.js';
import { Scheduler, isNoMaster, type TaskStatus } from '../../actors/scheduler/index.js';
import { NatsUnreachableError } from '../../actors/scheduler/errors.js';
import { TaskState, isTerminal } from '../../protocol/task-state.js';
import { NoClusterError, UsageError } from '../errors.js';
import { checkClusterOptions, intFlag, natsServers, numberFlag, withClusterOptions, type ClusterOptions } from '../options.js';
import { SandboxTail } from '../sandbox-tail.js';

interface RunFlags extends ClusterOptions {
  cpus: number;
  mem: number;
  disk?: number;
  name: string;
  env: string[];
  principal: string;
  offerTimeout: number;
  gracePeriod: number;
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };

/** The `run` command. */
export function runCommand(): Command {
  return withClusterOptions(new Command('run'))
    .description('run a command on the cluster and print its states and output (like mesos-execute)')
    .usage('[options] -- <command...>')
    .argument('<command...>', 'the command, run with sh -c on an agent')
    .option('--cpus <n>', 'cpus the task needs', numberFlag('--cpus', 0.001), 0.1)
    .option('--mem <MB>', 'memory the task needs, in MB', numberFlag('--mem', 1), 32)
    .option('--disk <MB>', 'disk the task needs, in MB', numberFlag('--disk', 0))
    .option('--name <name>', 'task name', 'nesos-run')
    .option('--env <KEY=VALUE>', 'environment variable for the task (repeatable)', (v: string, all: string[]) => [...all, v], [])
    .option('--principal <principal>', 'principal the framework calls as', 'nesos-run')
    .option('--offer-timeout <ms>', 'give up when no offer fits within this long', intFlag('--offer-timeout', 1), 30_000)
    .option('--grace-period <ms>', 'on Ctrl-C, time between SIGTERM and SIGKILL for the task', intFlag('--grace-period', 0), 3000)
    .action(async (command: string[], flags: RunFlags) => {
      const o = checkClusterOptions(flags);
      process.exitCode = await run(command.join(' '), o, flags);
    });
}

function parseEnv(pairs: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const i = pair.indexOf('=');
    if (i <= 0) throw new UsageError(`--env "${pair}" must look like KEY=VALUE (e.g. --env GREETING=hello)`);
    env[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return env;
}

/** The exit code for a terminal status: the task's own code where it has one. */
export function exitCodeOf(status: TaskStatus): number {
  if (status.state === TaskState.FINISHED) return 0;
  if (status.exitCode !== undefined) return status.exitCode;
  if (status.signal !== undefined) return 128 + (SIGNALS[status.signal] ?? 0);
  return status.state === TaskState.KILLED ? 137 : 1;
}

async function run(command: string, o: ClusterOptions, flags: RunFlags): Promise<number> {
  const env = parseEnv(flags.env);
  const logger: Logger = createRootLogger({ level: o.logLevel === 'info' ? 'error' : (o.logLevel as 'debug') });
  const needs = `cpus:${flags.cpus};mem:${flags.mem}${flags.disk ? `;disk:${flags.disk}` : ''}`;
  const say = (line: string) => process.stderr.write(`${line}\n`);

  let sched: Scheduler;
  try {
    sched = await Scheduler.connect({ servers: natsServers(o), cluster: o.cluster, logger, framework: { name: 'nesos-run', principal: flags.principal } });
  } catch (e) {
    if (isNoMaster(e) || e instanceof NatsUnreachableError) throw new NoClusterError(o.nats, o.cluster, { cause: e });
    throw e;
  }
  say(`subscribed as framework ${sched.frameworkId}`);
  const updates = sched.updates();
  try {
    const offer = await sched.waitForOffer(needs, { timeoutMs: flags.offerTimeout });
    const [task] = await sched.launch(offer, [{ name: flags.name, command: { value: command, environment: env }, resources: needs }]);
    if (task === undefined) throw new Error('no task was launched');
    say(`launched task ${task.taskId} on agent ${offer.agentId} (${offer.hostname}) with ${needs}`);

    const file = (path: string) => ({ cluster: o.cluster, agentId: offer.agentId, frameworkId: sched.frameworkId, executorId: task.taskId, path });
    const out = new SandboxTail(sched.nc, file('stdout'), flags.principal);
    const err = new SandboxTail(sched.nc, file('stderr'), flags.principal);
    const pump = async () => {
      process.stdout.write(await out.readNew().catch(() => new Uint8Array()));
      process.stderr.write(await err.readNew().catch(() => new Uint8Array()));
    };

    let killing = false;
    const onSigint = () => {
      if (killing) return;
      killing = true;
      say(`killing task ${task.taskId}…`);
      void sched.kill(task.taskId, { agentId: offer.agentId, gracePeriodMs: flags.gracePeriod }).catch(() => undefined);
    };
    process.on('SIGINT', onSigint);
    const ticker = setInterval(() => void pump(), 250);
    try {
      for await (const status of updates) {
        if (status.taskId !== task.taskId) continue;
        say(`${status.state}${status.message ? `: ${status.message}` : ''}`);
        if (isTerminal(status.state)) {
          clearInterval(ticker);
          await pump();
          return exitCodeOf(status);
        }
      }
      return 1;
    } finally {
      clearInterval(ticker);
      process.off('SIGINT', onSigint);
    }
  } finally {
    await sched.teardown().catch(() => undefined);
    await sched.close();
  }
}
