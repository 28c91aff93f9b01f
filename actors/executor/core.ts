/**
 * The executor's pure core, in one of two modes:
 * - `command` (Mesos's command executor): one task, a shell command;
 * - `default` (Mesos's default executor): task groups, each delivered at once
 *   (LAUNCH_GROUP), each task a shell command in its own process group and directory
 *   (`<sandbox>/tasks/<taskId>`). When one task ends TASK_FAILED or TASK_KILLED, the
 *   others of its group are killed (Mesos's default restart policy for a group). The agent
 *   may send further groups while the executor runs; it exits when the agent sends
 *   SHUTDOWN (the agent does once the executor has been idle for a while), or after
 *   `idleExitMs` idle without one (the agent may be gone).
 *
 * It takes events (LAUNCH, LAUNCH_GROUP, KILL, SHUTDOWN, ACKNOWLEDGED, a task's exit, a
 * health check's result, clock ticks) and returns effects as data; the shell (`shell.ts`)
 * performs them. No I/O, no clock, no randomness.
 *
 * Kills: SIGTERM to the task's process group, SIGKILL after the grace period (the KILL's,
 * else the task's kill policy, else 3 s). Health checks: see `health.ts`; an unhealthy
 * task is killed and ends TASK_KILLED with `healthy: false`.
 *
 * Updates: each carries a fresh uuid and is resent every `resendMs` until the agent
 * ACKNOWLEDGEs it. Once every task is terminal and every update acknowledged the executor
 * exits. Without the last acknowledgements it exits `ackTimeoutMs` after the end while the
 * agent answers, or `recoveryTimeoutMs` after it while the agent is away (it may be
 * restarting: its successor takes the updates).
 */
import type { HealthCheck, TaskInfo, TaskStatus } from '../../protocol/schema.js';
import { canTransition, nextTaskState } from '../../protocol/task-lifecycle.js';
import { TaskReason, TaskSource, TaskState, isTerminal } from '../../protocol/task-state.js';
import { ExecutorEnvError } from './errors.js';
import { HealthChecker, healthTiming } from './health.js';

/** Who this executor is and where it runs (from its environment). */
export interface ExecutorIdentity {
  agentId: string;
  executorId: string;
  frameworkId: string;
  /** The run's sandbox: the task's working directory and HOME. */
  sandbox: string;
  /** PATH given to the task. */
  path: string;
}

/** Everything `main.ts` reads from the environment. */
export interface ExecutorEnv extends ExecutorIdentity {
  natsUrl: string;
  cluster: string;
  /** Files a task's shell writes its pid to before exec, to join its container (NESOS_CGROUP_PROCS, `:`-separated). */
  joinFiles: string[];
  /** NESOS_EXECUTOR_KIND: `command` (default) or `default` (task groups). */
  mode: ExecutorMode;
}

/** Which executor this is: the command executor (one task) or the default executor (a task group). */
export type ExecutorMode = 'command' | 'default';

/** Options of the core. */
export interface ExecutorCoreOptions extends ExecutorIdentity {
  /** Fresh uuids for updates (crypto.randomUUID in the shell). */
  ids: { uuid(): string };
  /** Default `command`. */
  mode?: ExecutorMode;
  /** Exit this long after the end without the last acknowledgements while the agent is away (default 15 min, as Mesos). */
  recoveryTimeoutMs?: number;
  /** Default executor: exit when idle this long (every task reported and acknowledged) without a SHUTDOWN (default 60 s). */
  idleExitMs?: number;
  /** Resend an unacknowledged update after this long (default 1000 ms). */
  resendMs?: number;
  /** Exit this long after the terminal update even without its acknowledgement (default 10 s). */
  ackTimeoutMs?: number;
  /** Grace period when neither KILL nor the task's kill policy gives one (default 3000 ms). */
  defaultGracePeriodMs?: number;
}

/** Log levels the core may ask for. */
export type ExecutorLogLevel = 'debug' | 'info' | 'warn' | 'error';

/** What the shell must do, as data. */
export type ExecutorEffect =
  /** Send an UPDATE request to the agent. */
  | { kind: 'send-update'; status: TaskStatus }
  /** Start `sh -c command` in its own process group in `cwd` (created if missing), output to `<cwd>/stdout` and `<cwd>/stderr`. */
  | { kind: 'spawn'; taskId: string; command: string; env: Record<string, string>; cwd: string }
  /** Signal the task's process group. */
  | { kind: 'signal'; taskId: string; signal: 'SIGTERM' | 'SIGKILL' }
  /** Run health check `seq` of the task (give up after `timeoutMs`) and feed its result to `onHealthResult`. */
  | { kind: 'health-check'; taskId: string; seq: number; check: HealthCheck; env: Record<string, string>; cwd: string; timeoutMs: number }
  /** The executor is done: exit the process with `code`. */
  | { kind: 'exit'; code: number; reason: string }
  | { kind: 'log'; level: ExecutorLogLevel; msg: string; data?: Record<string, unknown> };

/** How the task's command ended, as Node reports it. */
export interface TaskExit {
  exitCode: number | null;
  signal: string | null;
}

const log = (level: ExecutorLogLevel, msg: string, data?: Record<string, unknown>): ExecutorEffect =>
  data === undefined ? { kind: 'log', level, msg } : { kind: 'log', level, msg, data };

const REQUIRED = ['NESOS_NATS_URL', 'NESOS_CLUSTER', 'NESOS_AGENT_ID', 'NESOS_EXECUTOR_ID', 'NESOS_FRAMEWORK_ID', 'NESOS_SANDBOX'] as const;

/** Reads the executor's settings from its environment; throws ExecutorEnvError naming what is missing. */
export function readExecutorEnv(env: Readonly<Record<string, string | undefined>>): ExecutorEnv {
  const missing = REQUIRED.filter((name) => (env[name] ?? '') === '');
  if (missing.length > 0) {
    throw new ExecutorEnvError(missing, `the command executor is started by a Nesos agent; missing environment: ${missing.join(', ')}`);
  }
  const get = (name: (typeof REQUIRED)[number]): string => env[name] as string;
  const sandbox = get('NESOS_SANDBOX');
  if (!sandbox.startsWith('/')) throw new ExecutorEnvError(['NESOS_SANDBOX'], `NESOS_SANDBOX must be an absolute path, not "${sandbox}"`);
  return {
    natsUrl: get('NESOS_NATS_URL'),
    cluster: get('NESOS_CLUSTER'),
    agentId: get('NESOS_AGENT_ID'),
    executorId: get('NESOS_EXECUTOR_ID'),
    frameworkId: get('NESOS_FRAMEWORK_ID'),
    sandbox,
    path: env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    joinFiles: (env.NESOS_CGROUP_PROCS ?? '').split(':').filter((f) => f.startsWith('/')),
    mode: env.NESOS_EXECUTOR_KIND === 'default' ? 'default' : 'command',
  };
}

/** The directory of a group task: `<sandbox>/tasks/<taskId>` (its own stdout, stderr and MESOS_SANDBOX). */
export function groupTaskDir(sandbox: string, taskId: string): string {
  return `${sandbox}/tasks/${taskId}`;
}

/** The task's environment: a minimal base, the task's own variables, and the sandbox variables. */
export function taskEnvironment(task: TaskInfo, identity: Pick<ExecutorIdentity, 'sandbox' | 'path'>): Record<string, string> {
  return {
    PATH: identity.path,
    HOME: identity.sandbox,
    ...task.command.environment,
    MESOS_SANDBOX: identity.sandbox,
    NESOS_SANDBOX: identity.sandbox,
    NESOS_TASK_ID: task.taskId,
  };
}

interface Unacked {
  status: TaskStatus;
  sentAt: number;
}

/** Why the executor itself killed a task (not the agent, not the framework). */
type OwnKill = { cause: 'health'; message: string } | { cause: 'group'; message: string };

/** One task the executor runs. */
interface TaskRun {
  task: TaskInfo;
  state: TaskState;
  /** Where it runs: the sandbox (command mode) or its own directory in it (default mode). */
  cwd: string;
  env: Record<string, string>;
  pid: number | undefined;
  exited: boolean;
  killRequested: boolean;
  killDeadline: number | undefined;
  sigkillSent: boolean;
  ownKill: OwnKill | undefined;
  health: HealthChecker | undefined;
  /** Which LAUNCH_GROUP brought it (0 for the command executor's task). */
  group: number;
}

/** The executor's state machine (command or default mode). */
export class ExecutorCore {
  private readonly id: ExecutorIdentity;
  private readonly ids: { uuid(): string };
  private readonly mode: ExecutorMode;
  private readonly resendMs: number;
  private readonly ackTimeoutMs: number;
  private readonly recoveryTimeoutMs: number;
  private readonly defaultGraceMs: number;
  private readonly runs = new Map<string, TaskRun>();
  private shutdownRequested = false;
  private readonly idleExitMs: number;
  private groupSeq = 0;
  /** Groups already being taken down (a second failure in one kills nothing more). */
  private readonly groupsKilled = new Set<number>();
  /** When every task had ended (the last terminal update). */
  private terminalAt: number | undefined;
  /** Since when the agent does not answer (undefined while it does). */
  private agentAwaySince: number | undefined;
  private finished = false;
  private readonly unacked = new Map<string, Unacked>();

  constructor(options: ExecutorCoreOptions) {
    const { agentId, executorId, frameworkId, sandbox, path } = options;
    this.id = { agentId, executorId, frameworkId, sandbox, path };
    this.ids = options.ids;
    this.mode = options.mode ?? 'command';
    this.resendMs = options.resendMs ?? 1000;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
    this.recoveryTimeoutMs = options.recoveryTimeoutMs ?? 15 * 60_000;
    this.idleExitMs = options.idleExitMs ?? 60_000;
    this.defaultGraceMs = options.defaultGracePeriodMs ?? 3000;
  }

  /** The state of the (first) task as this executor last reported it; TASK_STAGING before LAUNCH. */
  get taskState(): TaskState {
    return this.runs.values().next().value?.state ?? TaskState.STAGING;
  }

  /** The state of every task, by id. */
  get taskStates(): ReadonlyMap<string, TaskState> {
    return new Map([...this.runs].map(([id, r]) => [id, r.state]));
  }

  /** Uuids of updates sent and not yet acknowledged, oldest first. */
  get unacknowledged(): string[] {
    return [...this.unacked.keys()];
  }

  /** The updates sent and not yet acknowledged, oldest first (sent again when resubscribing). */
  get unacknowledgedStatuses(): TaskStatus[] {
    return [...this.unacked.values()].map((u) => u.status);
  }

  /** True once the exit effect has been given. */
  get isFinished(): boolean {
    return this.finished;
  }

  /** SUBSCRIBED: the agent knows us. */
  onSubscribed(now?: number): ExecutorEffect[] {
    if (now !== undefined) this.onAgentAnswered();
    return [log('info', 'subscribed to the agent')];
  }

  /** The agent answered a request: it is there. */
  onAgentAnswered(): void {
    this.agentAwaySince = undefined;
  }

  /** A request to the agent got no answer (none listening, or a timeout): it may be restarting. */
  onAgentSilent(now: number): void {
    this.agentAwaySince ??= now;
  }

  /** LAUNCH: report STARTING and start the command (the command executor runs one task). */
  onLaunch(task: TaskInfo, now: number): ExecutorEffect[] {
    if (this.mode === 'command' && this.runs.size > 0) return [log('warn', 'LAUNCH for a second task ignored: the command executor runs one', { taskId: task.taskId })];
    if (this.shutdownRequested) return [log('warn', 'LAUNCH after SHUTDOWN ignored', { taskId: task.taskId })];
    return this.start(task, now, 0);
  }

  /** LAUNCH_GROUP: the default executor starts every task of the group at once. */
  onLaunchGroup(tasks: readonly TaskInfo[], now: number): ExecutorEffect[] {
    if (this.mode !== 'default') return [log('warn', 'LAUNCH_GROUP ignored: the command executor runs no task groups', { tasks: tasks.length })];
    if (this.shutdownRequested) return [log('warn', 'LAUNCH_GROUP after SHUTDOWN ignored', { tasks: tasks.length })];
    const fresh = tasks.filter((t) => !this.runs.has(t.taskId));
    if (fresh.length < tasks.length) return [log('warn', 'LAUNCH_GROUP with a task already launched ignored', { tasks: tasks.map((t) => t.taskId) })];
    const group = ++this.groupSeq;
    return fresh.flatMap((t) => this.start(t, now, group));
  }

  /** The command of a task started as process (and process group) `pid`: report RUNNING. */
  onSpawned(pid: number, now: number, taskId = this.onlyTaskId()): ExecutorEffect[] {
    const r = this.runs.get(taskId);
    if (r === undefined) return [];
    r.pid = pid;
    if (r.killRequested && !r.exited) {
      // KILL came before the command started: it is KILLING already, so it gets its signal now.
      return [log('info', 'task started after a kill was asked for; signalling it', { taskId, pid }), { kind: 'signal', taskId, signal: r.sigkillSent ? 'SIGKILL' : 'SIGTERM' }];
    }
    const effects = [log('info', 'task started', { taskId, pid }), ...this.update(r, TaskState.RUNNING, {}, now)];
    if (r.task.healthCheck !== undefined && r.state === TaskState.RUNNING) r.health = new HealthChecker(healthTiming(r.task.healthCheck), now);
    return effects;
  }

  /** The command could not be started: report FAILED. */
  onSpawnFailed(error: string, now: number, taskId = this.onlyTaskId()): ExecutorEffect[] {
    const r = this.runs.get(taskId);
    if (r === undefined || r.exited) return [];
    r.exited = true;
    return [...this.update(r, TaskState.FAILED, { reason: TaskReason.COMMAND_EXITED, message: `Failed to launch the command: ${error}` }, now), ...this.afterEnd(r, now)];
  }

  /** A task's command ended: report FINISHED, FAILED (with exit code or signal) or KILLED. */
  onTaskExited(exit: TaskExit, now: number, taskId = this.onlyTaskId()): ExecutorEffect[] {
    const r = this.runs.get(taskId);
    if (r === undefined || r.exited) return [];
    r.exited = true;
    r.killDeadline = undefined;
    r.health?.stop();
    const how =
      exit.signal !== null ? `Command terminated with signal ${exit.signal}` : `Command exited with status ${exit.exitCode ?? 'unknown'}`;
    const detail = {
      message: how,
      ...(exit.exitCode !== null && { exitCode: exit.exitCode }),
      ...(exit.signal !== null && { signal: exit.signal }),
    };
    // Whatever the command left behind in its process group goes with it (as a container would).
    const sweep: ExecutorEffect = { kind: 'signal', taskId, signal: 'SIGKILL' };
    let ended: ExecutorEffect[];
    if (r.ownKill?.cause === 'health') {
      ended = this.update(r, TaskState.KILLED, { ...detail, message: `${r.ownKill.message}; ${how}`, reason: TaskReason.HEALTH_CHECK, healthy: false }, now);
    } else if (r.ownKill?.cause === 'group') {
      ended = this.update(r, TaskState.KILLED, { ...detail, message: `${r.ownKill.message}; ${how}` }, now);
    } else if (r.killRequested) ended = this.update(r, TaskState.KILLED, { ...detail, reason: TaskReason.KILL_REQUESTED }, now);
    else if (exit.exitCode === 0) ended = this.update(r, TaskState.FINISHED, detail, now);
    else ended = this.update(r, TaskState.FAILED, { ...detail, reason: TaskReason.COMMAND_EXITED }, now);
    return [sweep, ...ended, ...this.afterEnd(r, now)];
  }

  /** KILL: report KILLING, SIGTERM the task's group now, SIGKILL it after the grace period. */
  onKill(taskId: string, gracePeriodMs: number | undefined, now: number): ExecutorEffect[] {
    const r = this.runs.get(taskId);
    if (r === undefined) return [log('warn', 'KILL for a task this executor does not run', { taskId })];
    if (r.exited || isTerminal(r.state)) return [log('info', 'KILL for a task that has already ended', { taskId })];
    if (r.killRequested) return [log('info', 'KILL again: already killing', { taskId })];
    return this.kill(r, gracePeriodMs, now);
  }

  /** SHUTDOWN: kill every task (if any runs), then exit once they have been reported. */
  onShutdown(gracePeriodMs: number | undefined, now: number): ExecutorEffect[] {
    this.shutdownRequested = true;
    if (this.runs.size === 0) return this.finish(0, 'shut down before any task was launched');
    const effects: ExecutorEffect[] = [];
    for (const r of this.runs.values()) {
      if (!r.exited && !isTerminal(r.state) && !r.killRequested) effects.push(...this.kill(r, gracePeriodMs, now));
    }
    return [...effects, ...this.checkDone()];
  }

  /** The result of health check `seq` of a task: report a change of health; kill after too many failures. */
  onHealthResult(taskId: string, seq: number, ok: boolean, detail: string, now: number): ExecutorEffect[] {
    const r = this.runs.get(taskId);
    if (r?.health === undefined || r.exited || r.killRequested) return [];
    const outcome = r.health.result(seq, ok, now);
    if (outcome === undefined) return [];
    const effects: ExecutorEffect[] = [];
    if (!ok) effects.push(log('info', 'health check failed', { taskId, detail, consecutiveFailures: outcome.consecutiveFailures }));
    if (outcome.report !== undefined && r.state === TaskState.RUNNING) {
      const message = outcome.report ? undefined : `Health check failed: ${detail}`;
      effects.push(...this.update(r, TaskState.RUNNING, { healthy: outcome.report, reason: TaskReason.HEALTH_CHECK, ...(message !== undefined && { message }) }, now));
    }
    if (outcome.kill) {
      const message = `Task killed after ${outcome.consecutiveFailures} consecutive failed health checks (last: ${detail})`;
      r.ownKill = { cause: 'health', message };
      effects.push(log('warn', 'task unhealthy; killing it', { taskId }), ...this.kill(r, undefined, now));
    }
    return effects;
  }

  /** ACKNOWLEDGED: the agent holds update `uuid`. */
  onAcknowledged(taskId: string, uuid: string): ExecutorEffect[] {
    this.onAgentAnswered();
    if (!this.unacked.delete(uuid)) return [log('debug', 'acknowledgement of an unknown update ignored', { taskId, uuid })];
    return this.checkDone();
  }

  /** The agent refused update `uuid` (it will never acknowledge it): stop resending it. */
  onUpdateRejected(uuid: string, reason: string): ExecutorEffect[] {
    this.onAgentAnswered();
    if (!this.unacked.delete(uuid)) return [];
    return [log('warn', 'the agent refused an update; dropping it', { uuid, reason }), ...this.checkDone()];
  }

  /** Called periodically: SIGKILL after grace periods, health checks due, resends, and the give-up on the last acks. */
  tick(now: number): ExecutorEffect[] {
    if (this.finished) return [];
    const effects: ExecutorEffect[] = [];
    for (const r of this.runs.values()) {
      if (r.killDeadline !== undefined && !r.sigkillSent && !r.exited && now >= r.killDeadline) {
        r.sigkillSent = true;
        effects.push(log('warn', 'grace period over; sending SIGKILL', { taskId: r.task.taskId }), { kind: 'signal', taskId: r.task.taskId, signal: 'SIGKILL' });
      }
      const seq = r.exited || r.killRequested ? undefined : r.health?.due(now);
      if (seq !== undefined && r.health !== undefined && r.task.healthCheck !== undefined) {
        effects.push({ kind: 'health-check', taskId: r.task.taskId, seq, check: r.task.healthCheck, env: r.env, cwd: r.cwd, timeoutMs: r.health.timing.timeoutMs });
      }
    }
    for (const u of this.unacked.values()) {
      if (now - u.sentAt < this.resendMs) continue;
      u.sentAt = now;
      effects.push({ kind: 'send-update', status: u.status });
    }
    if (this.mode === 'default' && !this.shutdownRequested && this.terminalAt !== undefined && this.unacked.size === 0 && now - this.terminalAt >= this.idleExitMs) {
      effects.push(...this.finish(0, `idle for ${this.idleExitMs} ms without a SHUTDOWN from the agent`));
    }
    if (this.terminalAt !== undefined && this.unacked.size > 0) {
      const away = this.agentAwaySince !== undefined;
      if (!away && now - this.terminalAt >= this.ackTimeoutMs) effects.push(...this.finish(0, 'no acknowledgement of the terminal update; exiting anyway'));
      else if (away && now - this.terminalAt >= this.recoveryTimeoutMs) effects.push(...this.finish(0, 'the agent did not come back; exiting without the last acknowledgements'));
    }
    return effects;
  }

  private onlyTaskId(): string {
    return this.runs.keys().next().value ?? '';
  }

  private start(task: TaskInfo, now: number, group: number): ExecutorEffect[] {
    const cwd = this.mode === 'default' ? groupTaskDir(this.id.sandbox, task.taskId) : this.id.sandbox;
    const env = taskEnvironment(task, { sandbox: cwd, path: this.id.path });
    const r: TaskRun = { task, state: TaskState.STAGING, cwd, env, pid: undefined, exited: false, killRequested: false, killDeadline: undefined, sigkillSent: false, ownKill: undefined, health: undefined, group };
    this.runs.set(task.taskId, r);
    this.terminalAt = undefined;
    return [...this.update(r, TaskState.STARTING, {}, now), { kind: 'spawn', taskId: task.taskId, command: task.command.value, env, cwd }];
  }

  private kill(r: TaskRun, gracePeriodMs: number | undefined, now: number): ExecutorEffect[] {
    r.killRequested = true;
    r.health?.stop();
    const grace = gracePeriodMs ?? r.task.killPolicy?.gracePeriodMs ?? this.defaultGraceMs;
    r.killDeadline = now + grace;
    const taskId = r.task.taskId;
    const effects = [...this.update(r, TaskState.KILLING, {}, now), log('info', 'killing task', { taskId, gracePeriodMs: grace })];
    if (r.pid !== undefined) effects.push({ kind: 'signal', taskId, signal: grace === 0 ? 'SIGKILL' : 'SIGTERM' });
    if (grace === 0) r.sigkillSent = true;
    return effects;
  }

  /** After a task ended: in a group, a failed or killed task takes the others down; then maybe exit. */
  private afterEnd(r: TaskRun, now: number): ExecutorEffect[] {
    const effects: ExecutorEffect[] = [];
    const failed = r.state === TaskState.FAILED || r.state === TaskState.KILLED;
    if (this.mode === 'default' && failed && !this.shutdownRequested && !this.groupsKilled.has(r.group)) {
      this.groupsKilled.add(r.group);
      const message = `Killed with its task group: task ${r.task.taskId} ended ${r.state}`;
      const others = [...this.runs.values()].filter((o) => o !== r && o.group === r.group && !o.exited && !isTerminal(o.state) && !o.killRequested);
      if (others.length > 0) effects.push(log('info', 'a task of the group ended; killing the others', { taskId: r.task.taskId, state: r.state }));
      for (const o of others) {
        o.ownKill = { cause: 'group', message };
        effects.push(...this.kill(o, undefined, now));
      }
    }
    if ([...this.runs.values()].every((o) => isTerminal(o.state))) this.terminalAt ??= now;
    return [...effects, ...this.checkDone()];
  }

  private update(r: TaskRun, state: TaskState, extra: Partial<TaskStatus>, now: number): ExecutorEffect[] {
    if (!canTransition(r.state, state)) return [log('warn', `not reporting illegal transition ${r.state} → ${state}`)];
    r.state = nextTaskState(r.state, state);
    const status: TaskStatus = {
      ...extra,
      taskId: r.task.taskId,
      state,
      agentId: this.id.agentId,
      executorId: this.id.executorId,
      source: TaskSource.EXECUTOR,
      uuid: this.ids.uuid(),
      timestamp: now / 1000,
    };
    this.unacked.set(status.uuid as string, { status, sentAt: now });
    return [{ kind: 'send-update', status }];
  }

  private checkDone(): ExecutorEffect[] {
    if (this.terminalAt === undefined || this.unacked.size > 0) return [];
    if (this.mode === 'command') return this.finish(0, `task reported ${this.taskState}`);
    // The default executor waits for more groups until the agent sends SHUTDOWN.
    if (this.shutdownRequested) return this.finish(0, 'shut down with every task reported');
    return [];
  }

  private finish(code: number, reason: string): ExecutorEffect[] {
    if (this.finished) return [];
    this.finished = true;
    return [{ kind: 'exit', code, reason }];
  }
}
