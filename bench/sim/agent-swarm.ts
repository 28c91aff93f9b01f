/**
 * Simulated agents: many agents served by one process over one NATS connection, each with
 * its own id, resources, heartbeats and running tasks (reported when it registers, as a
 * real agent does). They follow the leader like real agents (one shared watch of the
 * leader key) and register again, spread over a jitter window, when a new term starts.
 * Used by the failover benchmark and by scale runs; no executors, no processes.
 */
import type { Logger } from 'pino';
import { MasterReplyToAgent, type TaskOnAgent } from '../../protocol/agent.js';
import type { AgentInfo, FrameworkInfo } from '../../protocol/schema.js';
import { Subjects } from '../../protocol/subjects.js';
import { TaskState } from '../../protocol/task-state.js';
import { followLeader, type LeaderFollower } from '../../actors/runtime/leader-follower.js';
import type { NatsConnection } from '../../actors/runtime/nats.js';
import { request } from '../../actors/runtime/request.js';
import type { Rng } from '../../actors/runtime/rng.js';

/** Options of a swarm. */
export interface SwarmOptions {
  nc: NatsConnection;
  cluster: string;
  logger: Logger;
  /** How many agents. */
  agents: number;
  /** Running tasks per agent, all of `framework`. */
  tasksPerAgent: number;
  /** The framework the tasks belong to. */
  framework: FrameworkInfo;
  /** Resources of every agent (wire form). */
  resources: AgentInfo['resources'];
  /** Longest random pause before an agent registers again with a new leader (ms). */
  jitterMs: number;
  /** Requests in flight at most (registrations and heartbeats together). */
  maxInFlight: number;
  /** Randomness for the jitter. */
  random: Rng;
  /** Prefix of agent ids (`<prefix>-<n>`). */
  idPrefix?: string;
}

interface SimAgent {
  info: AgentInfo;
  tasks: TaskOnAgent[];
  /** Epoch of the master it registered with last; 0 when not registered. */
  registeredEpoch: number;
  registering: boolean;
  heartbeatMs: number;
  nextHeartbeatAt: number;
}

/** A running swarm of simulated agents. */
export class AgentSwarm {
  private readonly agents: SimAgent[];
  private readonly subjects: Subjects;
  private readonly options: SwarmOptions;
  private follower: LeaderFollower | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private inFlight = 0;
  private readonly queue: Array<() => Promise<void>> = [];
  private newestEpoch = 0;
  private readonly waiters: Array<{ epoch: number; resolve: () => void }> = [];
  /** How many agents are registered with each epoch (0: not registered). */
  private readonly byEpoch = new Map<number, number>();

  constructor(options: SwarmOptions) {
    this.options = options;
    this.subjects = new Subjects(options.cluster);
    const prefix = options.idPrefix ?? 'sim';
    this.agents = Array.from({ length: options.agents }, (_, i) => {
      const id = `${prefix}-${i}`;
      const info: AgentInfo = { id, hostname: `${id}.sim`, resources: options.resources, attributes: { sim: 'true' } };
      const tasks: TaskOnAgent[] = Array.from({ length: options.tasksPerAgent }, (_, t) => ({
        frameworkId: options.framework.id,
        framework: options.framework,
        state: TaskState.RUNNING,
        task: { taskId: `${id}-t${t}`, name: 'sim', agentId: id, resources: [{ name: 'cpus', scalar: 0.01 }, { name: 'mem', scalar: 1 }], command: { value: 'true', environment: {} } },
      }));
      return { info, tasks, registeredEpoch: 0, registering: false, heartbeatMs: 1000, nextHeartbeatAt: 0 };
    });
    this.byEpoch.set(0, this.agents.length);
  }

  /** Registers every agent (spread over the jitter window) and starts heartbeating and following the leader. */
  start(): void {
    this.follower = followLeader({
      nc: this.options.nc,
      cluster: this.options.cluster,
      logger: this.options.logger,
      onTerm: (term) => this.onTerm(term.epoch),
    });
    for (const a of this.agents) this.registerLater(a);
    this.timer = setInterval(() => this.heartbeats(), 50);
  }

  /** How many agents are registered with a master of at least `epoch`. */
  registeredWith(epoch: number): number {
    let n = 0;
    for (const [e, count] of this.byEpoch) if (e >= epoch && e > 0) n += count;
    return n;
  }

  /** Resolves once every agent has registered with a master of at least `epoch`. */
  allRegisteredWith(epoch: number): Promise<void> {
    if (this.registeredWith(epoch) === this.agents.length) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ epoch, resolve }));
  }

  /** Stops heartbeating and following. */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.follower?.stop();
  }

  private onTerm(epoch: number): void {
    if (epoch <= this.newestEpoch) return;
    this.newestEpoch = epoch;
    for (const a of this.agents) if (a.registeredEpoch < epoch) this.registerLater(a);
  }

  private registerLater(a: SimAgent): void {
    setTimeout(() => this.enqueue(() => this.register(a)), Math.floor(this.options.random() * this.options.jitterMs));
  }

  private async register(a: SimAgent): Promise<void> {
    if (a.registering) return;
    a.registering = true;
    try {
      const reply = await request(this.options.nc, this.subjects.agentToMaster(a.info.id), { type: 'REGISTER_AGENT', agent: a.info, tasks: a.tasks }, MasterReplyToAgent, { timeoutMs: 5000 });
      if (reply.type === 'AGENT_REGISTERED' && reply.epoch >= a.registeredEpoch) {
        this.byEpoch.set(a.registeredEpoch, (this.byEpoch.get(a.registeredEpoch) ?? 1) - 1);
        this.byEpoch.set(reply.epoch, (this.byEpoch.get(reply.epoch) ?? 0) + 1);
        a.registeredEpoch = reply.epoch;
        a.heartbeatMs = reply.heartbeatIntervalMs;
        a.nextHeartbeatAt = Date.now() + reply.heartbeatIntervalMs * this.options.random();
        this.settleWaiters();
        return;
      }
    } catch {
      // no leader yet, or busy: try again below
    } finally {
      a.registering = false;
    }
    setTimeout(() => this.enqueue(() => this.register(a)), 100 + Math.floor(this.options.random() * 200));
  }

  private heartbeats(): void {
    const now = Date.now();
    for (const a of this.agents) {
      if (a.registeredEpoch === 0 || a.registering || now < a.nextHeartbeatAt) continue;
      a.nextHeartbeatAt = now + a.heartbeatMs;
      this.enqueue(async () => {
        try {
          const reply = await request(this.options.nc, this.subjects.agentToMaster(a.info.id), { type: 'HEARTBEAT', agentId: a.info.id }, MasterReplyToAgent, { timeoutMs: 2000 });
          if (reply.type === 'REJECTED' && reply.code === 'UNKNOWN_AGENT') await this.register(a);
        } catch {
          // missed: the next one will tell
        }
      });
    }
  }

  private enqueue(job: () => Promise<void>): void {
    this.queue.push(job);
    this.pump();
  }

  private pump(): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.inFlight += 1;
      void job().finally(() => {
        this.inFlight -= 1;
        this.pump();
      });
    }
  }

  private settleWaiters(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      if (this.registeredWith(w.epoch) === this.agents.length) {
        this.waiters.splice(i, 1);
        w.resolve();
      }
    }
  }
}
