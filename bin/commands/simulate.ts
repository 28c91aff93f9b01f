/**
 * `nesos simulate`: many lightweight simulated agents in this process, against an existing
 * cluster (see actors/simulator). Each registers with its own id and resources, heartbeats,
 * takes launches from the master, and reports its tasks TASK_RUNNING then TASK_FINISHED
 * after `--task-duration` through the updates stream. Progress goes to stdout (one line, or
 * one JSON object with `--json`, when every agent has registered, then every
 * `--stats-interval` seconds). Runs until SIGINT or SIGTERM.
 */
import { Command, Option } from 'commander';
import type { Logger } from 'pino';
import type { NatsConnection } from '../../actors/runtime/nats.js';
import { DEFAULT_SIM_RESOURCES, isSimulatorConfigError, simulatorConfig, startSimulator, type SimulatorHandle, type SimulatorOptions } from '../../actors/simulator/index.js';
import { UsageError } from '../errors.js';
import { checkClusterOptions, intFlag, numberFlag, withClusterOptions, type ClusterOptions } from '../options.js';
import { runProcess } from '../process.js';

interface SimulateFlags extends ClusterOptions {
  agents: number;
  tasksPerAgent: number;
  taskDuration: number;
  cpus?: number;
  mem?: number;
  resources?: string;
  idPrefix: string;
  seed: number;
  maxInFlight: number;
  statsInterval: number;
  json: boolean;
}

/** Parses `--task-duration`: 500ms, 30s, 5m, 1h, or `never`. Throws UsageError naming the flag. */
export function parseTaskDuration(value: string): number {
  if (value === 'never') return Number.POSITIVE_INFINITY;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value);
  if (m === null) throw new UsageError(`--task-duration "${value}" is not a duration: use 500ms, 30s, 5m, 1h or never`);
  return Math.round(Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h']);
}

/** The agents' resources from `--resources`, or `--cpus`/`--mem` over the defaults. Throws UsageError when both are given. */
export function simulatedResources(flags: { cpus?: number; mem?: number; resources?: string }): string {
  if (flags.resources !== undefined) {
    if (flags.cpus !== undefined || flags.mem !== undefined) throw new UsageError('give either --resources or --cpus/--mem, not both (e.g. --cpus 8 --mem 32768)');
    return flags.resources;
  }
  const kinds = DEFAULT_SIM_RESOURCES.split(';').filter((k) => !(flags.cpus !== undefined && k.startsWith('cpus:')) && !(flags.mem !== undefined && k.startsWith('mem:')));
  return [...(flags.cpus !== undefined ? [`cpus:${flags.cpus}`] : []), ...(flags.mem !== undefined ? [`mem:${flags.mem}`] : []), ...kinds].join(';');
}

/** The `simulate` command. */
export function simulateCommand(): Command {
  return withClusterOptions(new Command('simulate'))
    .description('run many simulated agents in this process against a running cluster (for scale tests)')
    .requiredOption('--agents <n>', 'how many agents (1-200000)', intFlag('--agents', 1, 200_000))
    .option('--tasks-per-agent <n>', 'tasks each agent already runs when it registers (they run until killed)', intFlag('--tasks-per-agent', 0, 10_000), 0)
    .addOption(new Option('--task-duration <duration>', 'how long a launched task runs before TASK_FINISHED: 500ms, 30s, 5m, 1h or never').argParser(parseTaskDuration).default(30_000, '30s'))
    .option('--cpus <n>', 'cpus of each agent (default 8)', numberFlag('--cpus', 0.001))
    .option('--mem <MB>', 'memory of each agent, in MB (default 32768)', numberFlag('--mem', 1))
    .option('--resources <resources>', `resources of each agent in Mesos syntax, instead of --cpus/--mem (default "${DEFAULT_SIM_RESOURCES}")`)
    .option('--id-prefix <prefix>', 'agent ids are <prefix>-0, <prefix>-1, …; two simulators on one cluster need two prefixes', 'sim')
    .option('--seed <n>', 'seed of the registration jitter and heartbeat phases', intFlag('--seed', 0, 2 ** 32 - 1), 1)
    .option('--max-in-flight <n>', 'requests to the master, and status update publishes, in flight at most (each)', intFlag('--max-in-flight', 1, 100_000), 512)
    .option('--stats-interval <s>', 'print counters every this many seconds; 0: only when every agent has registered', intFlag('--stats-interval', 0, 86_400), 10)
    .option('--json', 'progress as JSON lines on stdout', false)
    .action(async (flags: SimulateFlags) => {
      const o = checkClusterOptions(flags);
      const options: Omit<SimulatorOptions, 'nc' | 'logger'> = {
        cluster: o.cluster,
        agents: flags.agents,
        tasksPerAgent: flags.tasksPerAgent,
        taskDurationMs: flags.taskDuration,
        resources: simulatedResources(flags),
        idPrefix: flags.idPrefix,
        seed: flags.seed,
        maxRequestsInFlight: flags.maxInFlight,
        maxPublishesInFlight: flags.maxInFlight,
      };
      try {
        simulatorConfig(options); // flags are checked before anything connects
      } catch (e) {
        if (isSimulatorConfigError(e)) throw new UsageError(e.message, { cause: e });
        throw e;
      }
      // thousands of heartbeats and publishes a second: no stack captured per request
      await runProcess('nesos-simulate', o, (nc, logger) => simulate(nc, logger, options, flags), { asyncTraces: false });
    });
}

async function simulate(nc: NatsConnection, logger: Logger, options: Omit<SimulatorOptions, 'nc' | 'logger'>, flags: SimulateFlags): Promise<{ stop(): Promise<void> }> {
  const started = Date.now();
  const sim = await startSimulator({ ...options, nc, logger });
  const print = (event: string, text: string) => {
    const s = sim.stats();
    if (flags.json) process.stdout.write(`${JSON.stringify({ event, ms: Date.now() - started, ...s })}\n`);
    else process.stdout.write(`${text} (running ${s.running}, launched ${s.launched}, finished ${s.finished}, killed ${s.killed})\n`);
  };
  let stopped = false;
  void watchRegistration(sim, () => stopped, (epoch) => print('registered', `all ${sim.agentIds.length} agents registered with the master of epoch ${epoch} after ${((Date.now() - started) / 1000).toFixed(1)} s`));
  const timer = flags.statsInterval > 0 ? setInterval(() => print('stats', `${sim.stats().registered}/${sim.agentIds.length} agents registered`), flags.statsInterval * 1000) : undefined;
  return {
    stop: async () => {
      stopped = true;
      if (timer !== undefined) clearInterval(timer);
      await sim.stop();
    },
  };
}

/** Calls `onAll(epoch)` each time every agent has registered with a newer term, until `stopped()`. */
async function watchRegistration(sim: SimulatorHandle, stopped: () => boolean, onAll: (epoch: number) => void): Promise<void> {
  let epoch = 1;
  while (!stopped()) {
    await sim.allRegisteredWith(epoch);
    if (stopped()) return;
    const lowest = Math.max(epoch, sim.lowestRegisteredEpoch());
    onAll(lowest);
    epoch = lowest + 1;
  }
}
