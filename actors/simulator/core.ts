/**
 * The simulator's pure core: many agents in one state, each with its own id, resources,
 * registration, heartbeats and tasks. It answers the master as a real agent does (the
 * same messages, the same status update path), but its tasks are timers, not processes:
 * a launched task reports TASK_RUNNING at once and TASK_FINISHED `taskDurationMs` later;
 * a killed one reports TASK_KILLED. Each agent may also start with `tasksPerAgent` tasks
 * already running (of `config.framework`), reported when it registers, as after a failover.
 *
 * No clock, no randomness, no I/O of its own: callers pass `now` (ms), an `Rng` and an id
 * maker, feed replies and PubAcks back, and perform the effects returned.
 */
import type { MasterReplyToAgent, MasterToAgent, TaskOnAgent } from '../../protocol/agent.js';
import { canTransition } from '../../protocol/task-lifecycle.js';
import type { AgentInfo, FrameworkInfo, TaskInfo } from '../../protocol/schema.js';
import { TaskSource, TaskState, isTerminal } from '../../protocol/task-state.js';
import type { StoredStatus } from '../../protocol/updates.js';
import type { Rng } from '../runtime/rng.js';
import { StatusUpdateQueue } from '../agent/status-updates.js';
import { TimerQueue } from './timers.js';

/** What a swarm of simulated agents is. */
export interface SimulatorConfig {
  /** How many agents. */
  agents: number;
  /** Agent ids are `<idPrefix>-<n>`, n from 0. */
  idPrefix: string;
  /** Resources of every agent (wire form). */
  resources: AgentInfo['resources'];
  /** Attributes of every agent. */
  attributes: Record<string, string>;
  /** Tasks each agent already runs when it starts (of `framework`); they run until killed. */
  tasksPerAgent: number;
  /** The framework those tasks belong to. */
  framework: FrameworkInfo;
  /** Resources of each of those tasks (wire form). */
  taskResources: AgentInfo['resources'];
  /** A launched task finishes this long after it started (ms); Infinity: never. */
  taskDurationMs: number;
  /** Longest random pause before an agent's first registration, ms. */
  jitterMs: number;
  /** Longest random pause before an agent registers again with a new leader, ms (a real agent's `reregisterJitterMs`). */
  reregisterJitterMs: number;
  /** Pause before registering again after a failed attempt: this plus up to twice this, at random (ms). */
  registrationRetryMs: number;
  /** Longest pause between attempts to publish a status update (ms). */
  updatePublishRetryMs: number;
}

/** REGISTER_AGENT as the core builds it. */
export interface RegisterMessage {
  type: 'REGISTER_AGENT';
  agent: AgentInfo;
  tasks: TaskOnAgent[];
}

/** What the shell must do. */
export type SimulatorEffect =
  /** Send REGISTER_AGENT as `agentId` (a request); feed the reply, or undefined on failure, to `onRegisterReply`. */
  | { kind: 'register'; agentId: string; message: RegisterMessage }
  /** Send HEARTBEAT as `agentId` (a request) unless `heartbeatCurrent(agentId, gen)` no longer holds when it is sent; feed the reply, or undefined, to `onHeartbeatReply`. */
  | { kind: 'heartbeat'; agentId: string; gen: number }
  /** Publish the update to the updates stream; feed the PubAck to `onPublished`, a failure to `onPublishFailed`. */
  | { kind: 'publish-update'; agentId: string; frameworkId: string; status: StoredStatus }
  /** Log a line. */
  | { kind: 'log'; level: 'debug' | 'info' | 'warn'; msg: string; data?: Record<string, unknown> };

/** Counters of a swarm. */
export interface SimulatorStats {
  agents: number;
  /** Agents registered with the newest term known (or with any, before one is known). */
  registered: number;
  /** The newest master epoch known (0: none yet). */
  epoch: number;
  /** Tasks running now (those the agents started with included). */
  running: number;
  /** Tasks launched by the master so far. */
  launched: number;
  finished: number;
  killed: number;
  /** Updates the stream acknowledged. */
  published: number;
  /** Publishes that failed (and were retried). */
  publishFailures: number;
}

interface SimTask {
  frameworkId: string;
  info: TaskInfo;
  state: TaskState;
}

interface SimAgent {
  info: AgentInfo;
  /** Newest master epoch this agent has seen. */
  epoch: number;
  /** Epoch of the master it registered with last; 0 when not registered. */
  registeredEpoch: number;
  /** A registration is scheduled or under way. */
  registerWanted: boolean;
  heartbeatMs: number;
  /** Bumped at each registration, so that heartbeats of an earlier one stop. */
  heartbeatGen: number;
  tasks: Map<string, SimTask>;
  /** Created at the first update. */
  updates: StatusUpdateQueue | undefined;
}

type Due =
  | { kind: 'register'; agent: SimAgent }
  | { kind: 'heartbeat'; agent: SimAgent; gen: number }
  | { kind: 'finish'; agent: SimAgent; taskId: string }
  | { kind: 'publish-retry'; agent: SimAgent };

/** Most timers handled per tick, so that a burst does not block the event loop. */
const MAX_DUE_PER_TICK = 5000;

/** Many simulated agents, as data. */
export class SimulatorCore {
  private readonly agents: SimAgent[];
  private readonly byId = new Map<string, SimAgent>();
  private readonly timers = new TimerQueue<Due>();
  /** How many agents are registered with each epoch (0: not registered). */
  private readonly byEpoch = new Map<number, number>();
  private newestTerm = 0;
  private readonly counts = { running: 0, launched: 0, finished: 0, killed: 0, published: 0, publishFailures: 0 };

  constructor(
    private readonly config: SimulatorConfig,
    private readonly random: Rng,
    private readonly uuid: () => string,
  ) {
    const command = { value: 'true', environment: {} };
    this.agents = Array.from({ length: config.agents }, (_, i) => {
      const id = `${config.idPrefix}-${i}`;
      const agent: SimAgent = {
        info: { id, hostname: `${id}.sim`, resources: config.resources, attributes: config.attributes },
        epoch: 0,
        registeredEpoch: 0,
        registerWanted: false,
        heartbeatMs: 1000,
        heartbeatGen: 0,
        tasks: new Map(),
        updates: undefined,
      };
      for (let t = 0; t < config.tasksPerAgent; t++) {
        const info: TaskInfo = { taskId: `${id}-t${t}`, name: 'sim', agentId: id, resources: config.taskResources, command };
        agent.tasks.set(info.taskId, { frameworkId: config.framework.id, info, state: TaskState.RUNNING });
      }
      this.byId.set(id, agent);
      return agent;
    });
    this.counts.running = config.agents * config.tasksPerAgent;
    this.byEpoch.set(0, this.agents.length);
  }

  /** The agents' ids, in order. */
  get agentIds(): string[] {
    return this.agents.map((a) => a.info.id);
  }

  /** Schedules every agent's first registration, spread over the jitter window. */
  start(now: number): SimulatorEffect[] {
    for (const a of this.agents) this.scheduleRegister(a, now + Math.floor(this.random() * this.config.jitterMs));
    return [{ kind: 'log', level: 'info', msg: 'simulated agents starting', data: { agents: this.agents.length, tasksPerAgent: this.config.tasksPerAgent } }];
  }

  /**
   * The leader key names a newer term: agents not registered with it register again (after
   * a random pause of up to `reregisterJitterMs`) and, as a real agent does, stop
   * heartbeating until they have.
   */
  onTerm(epoch: number, now: number): SimulatorEffect[] {
    if (epoch <= this.newestTerm) return [];
    this.newestTerm = epoch;
    for (const a of this.agents) {
      if (epoch > a.epoch) a.epoch = epoch;
      if (a.registeredEpoch < epoch) {
        a.heartbeatGen += 1;
        this.scheduleRegister(a, now + Math.floor(this.random() * this.config.reregisterJitterMs));
      }
    }
    return [{ kind: 'log', level: 'info', msg: 'a new leader: registering again', data: { epoch } }];
  }

  /** Everything due by `now`: registrations, heartbeats, tasks that finish, publishes to retry. */
  tick(now: number): SimulatorEffect[] {
    const effects: SimulatorEffect[] = [];
    for (const due of this.timers.popDue(now, MAX_DUE_PER_TICK)) {
      const a = due.agent;
      switch (due.kind) {
        case 'register':
          if (a.registeredEpoch > 0 && a.registeredEpoch >= a.epoch) a.registerWanted = false;
          else effects.push({ kind: 'register', agentId: a.info.id, message: this.registration(a) });
          break;
        case 'heartbeat':
          if (due.gen !== a.heartbeatGen || a.registeredEpoch === 0) break;
          effects.push({ kind: 'heartbeat', agentId: a.info.id, gen: due.gen });
          this.timers.push(now + a.heartbeatMs, due);
          break;
        case 'finish': {
          const task = a.tasks.get(due.taskId);
          if (task !== undefined && task.state === TaskState.RUNNING) effects.push(...this.end(a, task, TaskState.FINISHED, now, 'simulated task finished'));
          break;
        }
        case 'publish-retry':
          for (const u of a.updates?.due(now) ?? []) effects.push({ kind: 'publish-update', agentId: a.info.id, frameworkId: u.frameworkId, status: u.status });
          break;
      }
    }
    return effects;
  }

  /** The answer to REGISTER_AGENT (undefined: no answer, or the request failed). */
  onRegisterReply(agentId: string, reply: MasterReplyToAgent | undefined, now: number): SimulatorEffect[] {
    const a = this.byId.get(agentId);
    if (a === undefined) return [];
    if (reply?.type === 'AGENT_REGISTERED' && reply.epoch >= a.epoch) {
      this.moveRegistered(a, reply.epoch);
      a.epoch = reply.epoch;
      a.registerWanted = false;
      a.heartbeatMs = reply.heartbeatIntervalMs;
      a.heartbeatGen += 1;
      this.timers.push(now + Math.max(1, Math.floor(reply.heartbeatIntervalMs * this.random())), { kind: 'heartbeat', agent: a, gen: a.heartbeatGen });
      return [];
    }
    if (reply?.type === 'REJECTED' && reply.code === 'AGENT_GONE') {
      a.registerWanted = false;
      return [{ kind: 'log', level: 'warn', msg: 'the master says this agent is gone; it will not register again', data: { agentId } }];
    }
    // No leader yet, a busy one, or an answer from a term older than one we know: again.
    const retry = this.config.registrationRetryMs;
    a.registerWanted = false;
    this.scheduleRegister(a, now + retry + Math.floor(this.random() * 2 * retry));
    return [];
  }

  /** True while heartbeat `gen` of agent `agentId` is still due (not replaced by a registration since). */
  heartbeatCurrent(agentId: string, gen: number): boolean {
    const a = this.byId.get(agentId);
    return a !== undefined && a.heartbeatGen === gen && a.registeredEpoch > 0;
  }

  /** The answer to HEARTBEAT (undefined: none). UNKNOWN_AGENT: register again. */
  onHeartbeatReply(agentId: string, reply: MasterReplyToAgent | undefined, now: number): SimulatorEffect[] {
    const a = this.byId.get(agentId);
    if (a === undefined || reply?.type !== 'REJECTED' || reply.code !== 'UNKNOWN_AGENT') return [];
    this.moveRegistered(a, 0);
    a.heartbeatGen += 1;
    this.scheduleRegister(a, now);
    return [{ kind: 'log', level: 'debug', msg: 'the master does not know this agent: registering again', data: { agentId } }];
  }

  /** A message from the master to agent `agentId`; dropped when from an older epoch. */
  onMasterMessage(agentId: string, message: MasterToAgent, now: number): SimulatorEffect[] {
    const a = this.byId.get(agentId);
    if (a === undefined) return [];
    if (message.epoch < a.epoch) return [{ kind: 'log', level: 'debug', msg: `dropped ${message.type} from an older master epoch`, data: { agentId, epoch: message.epoch, highest: a.epoch } }];
    a.epoch = message.epoch;
    switch (message.type) {
      case 'RUN_TASK':
        return this.runTask(a, message.frameworkId, message.framework, message.task, now);
      case 'KILL_TASK': {
        const task = a.tasks.get(message.taskId);
        if (task === undefined || task.frameworkId !== message.frameworkId || isTerminal(task.state)) return [];
        return this.end(a, task, TaskState.KILLED, now, 'simulated task killed');
      }
      case 'SHUTDOWN_FRAMEWORK': {
        const effects: SimulatorEffect[] = [];
        for (const task of [...a.tasks.values()]) {
          if (task.frameworkId === message.frameworkId && !isTerminal(task.state)) effects.push(...this.end(a, task, TaskState.KILLED, now, 'framework shut down'));
        }
        return effects;
      }
      case 'RUN_TASK_GROUP':
        // a simulated agent has no executors: each task of the group runs as a task of its own
        return message.tasks.flatMap((task) => this.runTask(a, message.frameworkId, message.framework, task, now));
      case 'DRAIN_AGENT': {
        const effects: SimulatorEffect[] = [];
        for (const task of [...a.tasks.values()]) if (!isTerminal(task.state)) effects.push(...this.end(a, task, TaskState.KILLED, now, 'simulated agent drained'));
        return effects;
      }
      case 'REACTIVATE_AGENT':
      case 'FRAMEWORK_TO_EXECUTOR':
      case 'CHECKPOINT_RESOURCES': // a simulated agent has no volumes to remove
      case 'RECONCILE_TASKS': // a simulated agent does not restart: no launch reaches nobody
        return [];
    }
  }

  /** The stream acknowledged update `uuid` of a task: publish the task's next, forget an ended task once all its updates are in. */
  onPublished(agentId: string, taskId: string, uuid: string): SimulatorEffect[] {
    const a = this.byId.get(agentId);
    const r = a?.updates?.published(taskId, uuid);
    if (a === undefined || r === undefined || r.outcome !== 'published') return [];
    this.counts.published += 1;
    if (r.next !== undefined) return [{ kind: 'publish-update', agentId, frameworkId: r.next.frameworkId, status: r.next.status }];
    const task = a.tasks.get(taskId);
    if (task !== undefined && isTerminal(task.state)) {
      a.tasks.delete(taskId);
      a.updates?.forget(taskId);
    }
    return [];
  }

  /** Publishing update `uuid` failed: it is tried again after a backoff. */
  onPublishFailed(agentId: string, taskId: string, uuid: string, now: number): SimulatorEffect[] {
    const a = this.byId.get(agentId);
    const at = a?.updates?.failed(taskId, uuid, now);
    if (a === undefined || at === undefined) return [];
    this.counts.publishFailures += 1;
    this.timers.push(at, { kind: 'publish-retry', agent: a });
    return [];
  }

  /** How many agents are registered with a master of at least `epoch` (≥ 1). */
  registeredWith(epoch: number): number {
    let n = 0;
    for (const [e, count] of this.byEpoch) if (e > 0 && e >= epoch) n += count;
    return n;
  }

  /** The oldest term any agent is registered with; 0 while some agent is not registered. */
  lowestRegisteredEpoch(): number {
    let lowest = Number.POSITIVE_INFINITY;
    for (const [e, count] of this.byEpoch) if (count > 0) lowest = Math.min(lowest, e);
    return Number.isFinite(lowest) ? lowest : 0;
  }

  /** Counters, for progress lines and tests. */
  stats(): SimulatorStats {
    return { agents: this.agents.length, registered: this.registeredWith(Math.max(1, this.newestTerm)), epoch: this.newestTerm, ...this.counts };
  }

  /** The tasks agent `agentId` runs (or has ended and not yet published), for tests. */
  tasksOf(agentId: string): Array<{ taskId: string; frameworkId: string; state: TaskState }> {
    return [...(this.byId.get(agentId)?.tasks.values() ?? [])].map((t) => ({ taskId: t.info.taskId, frameworkId: t.frameworkId, state: t.state }));
  }

  private runTask(a: SimAgent, frameworkId: string, framework: FrameworkInfo, task: TaskInfo, now: number): SimulatorEffect[] {
    if (task.agentId !== a.info.id || framework.id !== frameworkId) {
      return [{ kind: 'log', level: 'warn', msg: 'RUN_TASK for another agent or framework; ignored', data: { agentId: a.info.id, taskId: task.taskId } }];
    }
    if (a.tasks.has(task.taskId)) return [{ kind: 'log', level: 'debug', msg: 'RUN_TASK for a task already known; ignored', data: { taskId: task.taskId } }];
    const t: SimTask = { frameworkId, info: task, state: TaskState.STAGING };
    a.tasks.set(task.taskId, t);
    this.counts.launched += 1;
    const effects = this.move(a, t, TaskState.RUNNING, now, undefined);
    if (Number.isFinite(this.config.taskDurationMs)) this.timers.push(now + this.config.taskDurationMs, { kind: 'finish', agent: a, taskId: task.taskId });
    return effects;
  }

  /** Ends a live task with a terminal `state`. */
  private end(a: SimAgent, task: SimTask, state: TaskState, now: number, message: string): SimulatorEffect[] {
    return this.move(a, task, state, now, message);
  }

  /** Moves a task to `state` (if the lifecycle allows it) and queues its update. */
  private move(a: SimAgent, task: SimTask, state: TaskState, now: number, message: string | undefined): SimulatorEffect[] {
    if (!canTransition(task.state, state)) return [];
    const wasRunning = task.state === TaskState.RUNNING;
    task.state = state;
    if (state === TaskState.RUNNING && !wasRunning) this.counts.running += 1;
    if (isTerminal(state)) {
      if (wasRunning) this.counts.running -= 1;
      if (state === TaskState.FINISHED) this.counts.finished += 1;
      if (state === TaskState.KILLED) this.counts.killed += 1;
    }
    const status: StoredStatus = {
      taskId: task.info.taskId,
      state,
      agentId: a.info.id,
      executorId: task.info.taskId,
      source: TaskSource.EXECUTOR,
      uuid: this.uuid(),
      timestamp: now / 1000,
      ...(message !== undefined && { message }),
      ...(state === TaskState.FINISHED && { exitCode: 0 }),
    };
    a.updates ??= new StatusUpdateQueue(this.config.updatePublishRetryMs);
    const head = a.updates.enqueue(task.frameworkId, status);
    return head === undefined ? [] : [{ kind: 'publish-update', agentId: a.info.id, frameworkId: head.frameworkId, status: head.status }];
  }

  private registration(a: SimAgent): RegisterMessage {
    const tasks: TaskOnAgent[] = [];
    for (const t of a.tasks.values()) tasks.push({ frameworkId: t.frameworkId, task: t.info, state: t.state });
    return { type: 'REGISTER_AGENT', agent: a.info, tasks };
  }

  private scheduleRegister(a: SimAgent, at: number): void {
    if (a.registerWanted) return;
    a.registerWanted = true;
    this.timers.push(at, { kind: 'register', agent: a });
  }

  private moveRegistered(a: SimAgent, epoch: number): void {
    this.byEpoch.set(a.registeredEpoch, (this.byEpoch.get(a.registeredEpoch) ?? 1) - 1);
    this.byEpoch.set(epoch, (this.byEpoch.get(epoch) ?? 0) + 1);
    a.registeredEpoch = epoch;
  }
}
