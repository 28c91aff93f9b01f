/**
 * Simulated agents: many lightweight agents in one process, against a real cluster (the
 * `nesos simulate` command, and the benchmarks). Each has its own id, resources,
 * registration and heartbeats; it takes RUN_TASK from the master and its tasks report
 * TASK_RUNNING then TASK_FINISHED through the updates stream, as real agents' tasks do.
 *
 *     const sim = await startSimulator({ nc, cluster: 'local', logger, agents: 1000 });
 *     await sim.allRegisteredWith(1);
 *     …
 *     await sim.stop();
 */
import type { Logger } from 'pino';
import { Resources } from '../../protocol/resources.js';
import type { FrameworkInfo } from '../../protocol/schema.js';
import { isValidToken } from '../../protocol/subjects.js';
import type { NatsConnection } from '../runtime/nats.js';
import { createRng } from '../runtime/rng.js';
import type { SimulatorConfig, SimulatorStats } from './core.js';
import { SimulatorConfigError } from './errors.js';
import { SimulatorShell } from './shell.js';

export { SimulatorCore, type SimulatorConfig, type SimulatorEffect, type SimulatorStats, type RegisterMessage } from './core.js';
export { SimulatorShell, type SimulatorShellOptions } from './shell.js';
export { SimulatorConfigError, isSimulatorConfigError } from './errors.js';
export { TimerQueue } from './timers.js';
export { Limiter } from './limiter.js';

/** Resources of every simulated agent unless told otherwise. */
export const DEFAULT_SIM_RESOURCES = 'cpus:8;mem:32768;disk:65536;ports:[31000-32000]';
/** Resources of each task an agent starts with. */
export const DEFAULT_SIM_TASK_RESOURCES = 'cpus:0.01;mem:1';

/** Options of `startSimulator`; the flags of `nesos simulate` map onto them. */
export interface SimulatorOptions {
  /** The connection to use (the caller owns it and closes it after `stop`). */
  nc: NatsConnection;
  cluster: string;
  logger: Logger;
  /** How many agents (1 – 200,000). */
  agents: number;
  /** Tasks each agent already runs when it starts, reported when it registers (default 0). */
  tasksPerAgent?: number;
  /** How long a launched task runs before TASK_FINISHED (ms; default 30 s; Infinity: until killed). */
  taskDurationMs?: number;
  /** Resources of every agent, Mesos text (default DEFAULT_SIM_RESOURCES). */
  resources?: string;
  /** Resources of each task the agents start with, Mesos text (default DEFAULT_SIM_TASK_RESOURCES). */
  taskResources?: string;
  /** Agent ids are `<idPrefix>-<n>` (default `sim`); two swarms on one cluster need two prefixes. */
  idPrefix?: string;
  /** The framework the agents' initial tasks belong to (default `<idPrefix>-framework`, failover timeout 1 h). */
  framework?: FrameworkInfo;
  /** Seed of the randomness (registration jitter, heartbeat phases; default 1). */
  seed?: number;
  /** Longest random pause before an agent registers (ms; default min(5000, agents / 10)). */
  jitterMs?: number;
  /** Longest random pause before an agent registers again with a new leader (ms; default 250, as a real agent's `reregisterJitterMs`). */
  reregisterJitterMs?: number;
  /** Requests to the master in flight at most (default 512). */
  maxRequestsInFlight?: number;
  /** Status update publishes in flight at most (default 512). */
  maxPublishesInFlight?: number;
}

/** A running swarm. */
export interface SimulatorHandle {
  /** The agents' ids. */
  readonly agentIds: string[];
  /** Counters (registered, running, launched, finished, …). */
  stats(): SimulatorStats;
  /** How many agents are registered with a master of at least `epoch`. */
  registeredWith(epoch: number): number;
  /** The oldest term any agent is registered with; 0 while some agent is not registered. */
  lowestRegisteredEpoch(): number;
  /** Resolves once every agent has registered with a master of at least `epoch` (≥ 1). */
  allRegisteredWith(epoch: number): Promise<void>;
  /** Stops the swarm (the agents vanish; the master marks them unreachable after their heartbeat timeout). */
  stop(): Promise<void>;
}

/** Checks the options and turns them into the core's configuration; throws SimulatorConfigError naming the flag. */
export function simulatorConfig(o: Omit<SimulatorOptions, 'nc' | 'cluster' | 'logger'>): SimulatorConfig {
  const whole = (flag: string, v: number, min: number, max: number) => {
    if (!Number.isInteger(v) || v < min || v > max) throw new SimulatorConfigError(flag, `${flag} ${v} must be a whole number from ${min} to ${max}`);
    return v;
  };
  const agents = whole('--agents', o.agents, 1, 200_000);
  const tasksPerAgent = whole('--tasks-per-agent', o.tasksPerAgent ?? 0, 0, 10_000);
  const idPrefix = o.idPrefix ?? 'sim';
  if (!isValidToken(`${idPrefix}-${agents}`)) throw new SimulatorConfigError('--id-prefix', `--id-prefix "${idPrefix}" makes invalid agent ids: use letters, digits, "-" or "_" (e.g. --id-prefix sim)`);
  const taskDurationMs = o.taskDurationMs ?? 30_000;
  if (!(taskDurationMs >= 0)) throw new SimulatorConfigError('--task-duration', `--task-duration must be 0 or more (e.g. --task-duration 30s)`);
  const parse = (flag: string, text: string) => {
    const r = Resources.tryParse(text);
    if (!r.ok) throw new SimulatorConfigError(flag, `${flag} "${text}" is not valid resource text: ${r.error.message} (e.g. ${flag} "${DEFAULT_SIM_RESOURCES}")`, { cause: r.error });
    return r.value.toWire();
  };
  return {
    agents,
    idPrefix,
    resources: parse('--resources', o.resources ?? DEFAULT_SIM_RESOURCES),
    attributes: { sim: 'true' },
    tasksPerAgent,
    framework: o.framework ?? { id: `${idPrefix}-framework`, name: `${idPrefix}-framework`, principal: `${idPrefix}-framework`, roles: ['*'], capabilities: [], failoverTimeoutSeconds: 3600 },
    taskResources: parse('--task-resources', o.taskResources ?? DEFAULT_SIM_TASK_RESOURCES),
    taskDurationMs,
    jitterMs: whole('--jitter', o.jitterMs ?? Math.min(5000, Math.floor(agents / 10)), 0, 600_000),
    reregisterJitterMs: whole('--reregister-jitter', o.reregisterJitterMs ?? 250, 0, 600_000),
    registrationRetryMs: 100,
    updatePublishRetryMs: 2000,
  };
}

/** Starts a swarm of simulated agents against the cluster: they register (retrying until a master answers) and run tasks. */
export async function startSimulator(options: SimulatorOptions): Promise<SimulatorHandle> {
  const config = simulatorConfig(options);
  const shell = new SimulatorShell({
    nc: options.nc,
    cluster: options.cluster,
    logger: options.logger,
    config,
    random: createRng(options.seed ?? 1),
    maxRequestsInFlight: options.maxRequestsInFlight ?? 512,
    maxPublishesInFlight: options.maxPublishesInFlight ?? 512,
    registerTimeoutMs: 5000,
    requestTimeoutMs: 2000,
    tickMs: 20,
  });
  await shell.start();
  return {
    agentIds: shell.agentIds,
    stats: () => shell.stats(),
    registeredWith: (epoch) => shell.registeredWith(epoch),
    lowestRegisteredEpoch: () => shell.lowestRegisteredEpoch(),
    allRegisteredWith: (epoch) => shell.allRegisteredWith(epoch),
    stop: () => shell.stop(),
  };
}
