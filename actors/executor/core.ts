/**
 * The command executor's pure core (Mesos's command executor): it runs one task, a shell
 * command, and reports its states to the agent. It takes events (LAUNCH, KILL, SHUTDOWN,
 * ACKNOWLEDGED, the command's exit, clock ticks) and returns effects as data; the shell
 * (`command-executor.ts`) performs them. No I/O, no clock, no randomness.
 *
 * Updates: each carries a fresh uuid and is resent every `resendMs` until the agent
 * ACKNOWLEDGEs it. Once the terminal update is acknowledged the executor exits (after
 * `ackTimeoutMs` without that acknowledgement it exits anyway).
 */
import type { TaskInfo, TaskStatus } from '../../protocol/schema.js';
import { canTransition, nextTaskState } from '../../protocol/task-lifecycle.js';
import { TaskReason, TaskSource, TaskState, isTerminal } from '../../protocol/task-state.js';
import { ExecutorEnvError } from './errors.js';

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
}

/** Options of the core. */
export interface ExecutorCoreOptions extends ExecutorIdentity {
  /** Fresh uuids for updates (crypto.randomUUID in the shell). */
  ids: { uuid(): string };
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
  /** Start `sh -c command` in its own process group, output to `<cwd>/stdout` and `<cwd>/stderr`. */
  | { kind: 'spawn'; command: string; env: Record<string, string>; cwd: string }
  /** Signal the task's process group. */
  | { kind: 'signal'; signal: 'SIGTERM' | 'SIGKILL' }
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
  };
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

/** The command executor's state machine. */
export class ExecutorCore {
  private readonly id: ExecutorIdentity;
  private readonly ids: { uuid(): string };
  private readonly resendMs: number;
  private readonly ackTimeoutMs: number;
  private readonly defaultGraceMs: number;
  private task: TaskInfo | undefined;
  private state: TaskState = TaskState.STAGING;
  private pid: number | undefined;
  private exited = false;
  private killRequested = false;
  private killDeadline: number | undefined;
  private sigkillSent = false;
  private shutdownRequested = false;
  private terminalAt: number | undefined;
  private finished = false;
  private readonly unacked = new Map<string, Unacked>();

  constructor(options: ExecutorCoreOptions) {
    const { agentId, executorId, frameworkId, sandbox, path } = options;
    this.id = { agentId, executorId, frameworkId, sandbox, path };
    this.ids = options.ids;
    this.resendMs = options.resendMs ?? 1000;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
    this.defaultGraceMs = options.defaultGracePeriodMs ?? 3000;
  }

  /** The task's state as this executor last reported it. */
  get taskState(): TaskState {
    return this.state;
  }

  /** Uuids of updates sent and not yet acknowledged, oldest first. */
  get unacknowledged(): string[] {
    return [...this.unacked.keys()];
  }

  /** True once the exit effect has been given. */
  get isFinished(): boolean {
    return this.finished;
  }

  /** SUBSCRIBED: the agent knows us. */
  onSubscribed(): ExecutorEffect[] {
    return [log('info', 'subscribed to the agent')];
  }

  /** LAUNCH: report STARTING and start the command. */
  onLaunch(task: TaskInfo, now: number): ExecutorEffect[] {
    if (this.task !== undefined) return [log('warn', 'LAUNCH for a second task ignored: the command executor runs one', { taskId: task.taskId })];
    if (this.shutdownRequested) return [log('warn', 'LAUNCH after SHUTDOWN ignored', { taskId: task.taskId })];
    this.task = task;
    return [
      ...this.update(TaskState.STARTING, {}, now),
      { kind: 'spawn', command: task.command.value, env: taskEnvironment(task, this.id), cwd: this.id.sandbox },
    ];
  }

  /** The command started as process (and process group) `pid`: report RUNNING. */
  onSpawned(pid: number, now: number): ExecutorEffect[] {
    this.pid = pid;
    if (this.killRequested && !this.exited) {
      // KILL came before the command started: it is KILLING already, so it gets its signal now.
      return [log('info', 'task started after a kill was asked for; signalling it', { pid }), { kind: 'signal', signal: this.sigkillSent ? 'SIGKILL' : 'SIGTERM' }];
    }
    return [log('info', 'task started', { pid }), ...this.update(TaskState.RUNNING, {}, now)];
  }

  /** The command could not be started: report FAILED. */
  onSpawnFailed(error: string, now: number): ExecutorEffect[] {
    if (this.exited) return [];
    this.exited = true;
    return this.update(TaskState.FAILED, { reason: TaskReason.COMMAND_EXITED, message: `Failed to launch the command: ${error}` }, now);
  }

  /** The command ended: report FINISHED, FAILED (with exit code or signal) or KILLED. */
  onTaskExited(exit: TaskExit, now: number): ExecutorEffect[] {
    if (this.exited) return [];
    this.exited = true;
    this.killDeadline = undefined;
    const how =
      exit.signal !== null ? `Command terminated with signal ${exit.signal}` : `Command exited with status ${exit.exitCode ?? 'unknown'}`;
    const detail = {
      message: how,
      ...(exit.exitCode !== null && { exitCode: exit.exitCode }),
      ...(exit.signal !== null && { signal: exit.signal }),
    };
    // Whatever the command left behind in its process group goes with it (as a container would).
    const sweep: ExecutorEffect = { kind: 'signal', signal: 'SIGKILL' };
    if (this.killRequested) return [sweep, ...this.update(TaskState.KILLED, { ...detail, reason: TaskReason.KILL_REQUESTED }, now)];
    if (exit.exitCode === 0) return [sweep, ...this.update(TaskState.FINISHED, detail, now)];
    return [sweep, ...this.update(TaskState.FAILED, { ...detail, reason: TaskReason.COMMAND_EXITED }, now)];
  }

  /** KILL: report KILLING, SIGTERM the task's group now, SIGKILL it after the grace period. */
  onKill(taskId: string, gracePeriodMs: number | undefined, now: number): ExecutorEffect[] {
    if (this.task === undefined || this.task.taskId !== taskId) return [log('warn', 'KILL for a task this executor does not run', { taskId })];
    if (this.exited || isTerminal(this.state)) return [log('info', 'KILL for a task that has already ended', { taskId })];
    if (this.killRequested) return [log('info', 'KILL again: already killing', { taskId })];
    this.killRequested = true;
    const grace = gracePeriodMs ?? this.task.killPolicy?.gracePeriodMs ?? this.defaultGraceMs;
    this.killDeadline = now + grace;
    const effects = [...this.update(TaskState.KILLING, {}, now), log('info', 'killing task', { taskId, gracePeriodMs: grace })];
    if (this.pid !== undefined) effects.push({ kind: 'signal', signal: grace === 0 ? 'SIGKILL' : 'SIGTERM' });
    if (grace === 0) this.sigkillSent = true;
    return effects;
  }

  /** SHUTDOWN: kill the task (if any runs), then exit once it has been reported. */
  onShutdown(gracePeriodMs: number | undefined, now: number): ExecutorEffect[] {
    this.shutdownRequested = true;
    if (this.task === undefined) return this.finish(0, 'shut down before any task was launched');
    if (!this.exited && !isTerminal(this.state)) return this.onKill(this.task.taskId, gracePeriodMs, now);
    return this.checkDone();
  }

  /** ACKNOWLEDGED: the agent holds update `uuid`. */
  onAcknowledged(taskId: string, uuid: string): ExecutorEffect[] {
    if (!this.unacked.delete(uuid)) return [log('debug', 'acknowledgement of an unknown update ignored', { taskId, uuid })];
    return this.checkDone();
  }

  /** The agent refused update `uuid` (it will never acknowledge it): stop resending it. */
  onUpdateRejected(uuid: string, reason: string): ExecutorEffect[] {
    if (!this.unacked.delete(uuid)) return [];
    return [log('warn', 'the agent refused an update; dropping it', { uuid, reason }), ...this.checkDone()];
  }

  /** Called periodically: SIGKILL after the grace period, resends, and the give-up on the last ack. */
  tick(now: number): ExecutorEffect[] {
    if (this.finished) return [];
    const effects: ExecutorEffect[] = [];
    if (this.killDeadline !== undefined && !this.sigkillSent && !this.exited && now >= this.killDeadline) {
      this.sigkillSent = true;
      effects.push(log('warn', 'grace period over; sending SIGKILL'), { kind: 'signal', signal: 'SIGKILL' });
    }
    for (const u of this.unacked.values()) {
      if (now - u.sentAt < this.resendMs) continue;
      u.sentAt = now;
      effects.push({ kind: 'send-update', status: u.status });
    }
    if (this.terminalAt !== undefined && now - this.terminalAt >= this.ackTimeoutMs) {
      effects.push(...this.finish(0, 'no acknowledgement of the terminal update; exiting anyway'));
    }
    return effects;
  }

  private update(state: TaskState, extra: Partial<TaskStatus>, now: number): ExecutorEffect[] {
    if (this.task === undefined) return [];
    if (!canTransition(this.state, state)) return [log('warn', `not reporting illegal transition ${this.state} → ${state}`)];
    this.state = nextTaskState(this.state, state);
    const status: TaskStatus = {
      ...extra,
      taskId: this.task.taskId,
      state,
      agentId: this.id.agentId,
      executorId: this.id.executorId,
      source: TaskSource.EXECUTOR,
      uuid: this.ids.uuid(),
      timestamp: now / 1000,
    };
    this.unacked.set(status.uuid as string, { status, sentAt: now });
    if (isTerminal(state)) this.terminalAt = now;
    return [{ kind: 'send-update', status }];
  }

  private checkDone(): ExecutorEffect[] {
    if (this.terminalAt === undefined || this.unacked.size > 0) return [];
    return this.finish(0, `task reported ${this.state}`);
  }

  private finish(code: number, reason: string): ExecutorEffect[] {
    if (this.finished) return [];
    this.finished = true;
    return [{ kind: 'exit', code, reason }];
  }
}
