/**
 * The executor's shell (command and default executors alike): the NATS actor around
 * `ExecutorCore`. It listens for the agent's events, SUBSCRIBEs (retrying until the agent
 * answers), starts each task's command in its own process group (joining the task's
 * container first) with its output going straight to files, runs health checks, and
 * sends the core's updates as UPDATE requests. `run` resolves with the exit code.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { ExecutorEvent } from '../../protocol/executor.js';
import { Reply } from '../../protocol/replies.js';
import type { TaskStatus } from '../../protocol/schema.js';
import { Actor } from '../runtime/actor.js';
import type { NatsConnection } from '../runtime/nats.js';
import { backoffDelay } from '../runtime/request.js';
import { ExecutorCore, type ExecutorEffect, type ExecutorIdentity, type ExecutorMode } from './core.js';
import { TaskSpawnError } from './errors.js';
import { taskArgv } from './task-command.js';

/** Options of the executor shell. */
export interface ExecutorShellOptions extends ExecutorIdentity {
  /** `command` (one task, the default) or `default` (a task group). */
  mode?: ExecutorMode;
  nc: NatsConnection;
  cluster: string;
  logger: Logger;
  /** Give up when the agent has not answered SUBSCRIBE for this long (default 60 s). */
  subscribeTimeoutMs?: number;
  /** Resend unacknowledged updates after this long (default 1000 ms). */
  resendMs?: number;
  /** Exit this long after the terminal update even without its acknowledgement (default 10 s). */
  ackTimeoutMs?: number;
  /** Files each task's shell writes its pid to before exec (its container's cgroup.procs). */
  joinFiles?: string[];
}

/** The executor actor: runs its task (or task group) and reports it. */
export class ExecutorShell extends Actor {
  private readonly core: ExecutorCore;
  private readonly options: ExecutorShellOptions;
  private timer: ReturnType<typeof setInterval> | undefined;
  /** Each task's process (and process group) id. */
  private readonly pids = new Map<string, number>();
  private resubscribing: Promise<void> | undefined;
  private resolveDone: (code: number) => void = () => undefined;
  private readonly done = new Promise<number>((resolve) => {
    this.resolveDone = resolve;
  });

  constructor(options: ExecutorShellOptions) {
    super({ nc: options.nc, cluster: options.cluster, kind: 'executor', id: options.executorId, logger: options.logger });
    this.options = options;
    this.core = new ExecutorCore({
      ...options,
      ids: { uuid: () => randomUUID() },
      ...(options.mode !== undefined && { mode: options.mode }),
      ...(options.resendMs !== undefined && { resendMs: options.resendMs }),
      ...(options.ackTimeoutMs !== undefined && { ackTimeoutMs: options.ackTimeoutMs }),
    });
  }

  /** Subscribes to the agent, runs the task, and resolves with the process's exit code once done. */
  async run(): Promise<number> {
    const { agentId, executorId } = this.options;
    this.listen(this.subjects.agentToExecutor(agentId, executorId), ExecutorEvent, (event) => this.perform(this.onEvent(event)));
    // No flush (a round trip) needed before SUBSCRIBE: a connection's protocol lines are
    // handled in order by its server (and forwarded in order over routes), so the
    // subscription is in place before the agent can see SUBSCRIBE and answer with LAUNCH.
    this.timer = setInterval(() => this.mailbox.post(() => this.perform(this.core.tick(Date.now()))), 100);
    if (!(await this.subscribeToAgent())) this.resolveDone(1);
    const code = await this.done;
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.stop();
    return code;
  }

  /** Kills the task (if any) and exits after reporting it, as on SHUTDOWN (used on SIGTERM/SIGINT). */
  shutdown(): void {
    this.mailbox.post(() => this.perform(this.core.onShutdown(undefined, Date.now())));
  }

  private async subscribeToAgent(): Promise<boolean> {
    const deadline = Date.now() + (this.options.subscribeTimeoutMs ?? 60_000);
    for (let attempt = 1; !this.core.isFinished; attempt++) {
      try {
        const reply = await this.sendSubscribe();
        if (reply.type === 'OK') return true;
        this.log.error({ code: reply.code, reason: reply.reason }, 'the agent refused SUBSCRIBE');
        return false;
      } catch (e) {
        if (Date.now() >= deadline) {
          this.log.error({ err: e }, 'the agent did not answer SUBSCRIBE; giving up');
          return false;
        }
        this.log.debug({ err: e, attempt }, 'SUBSCRIBE got no answer; retrying');
        await new Promise((r) => setTimeout(r, backoffDelay(attempt, 100, 1000, Math.random)));
      }
    }
    return true;
  }

  /** SUBSCRIBE, carrying every update the agent has not acknowledged (it applies each once). */
  private async sendSubscribe() {
    const { agentId, executorId, frameworkId } = this.options;
    const unacknowledged = await this.mailbox.run(() => this.core.unacknowledgedStatuses);
    return this.request(this.subjects.executorToAgent(agentId, executorId), { type: 'SUBSCRIBE', executorId, frameworkId, unacknowledged }, Reply, { timeoutMs: 1000 });
  }

  /**
   * Subscribes again after the agent restarted (RECONNECT, or an update answered
   * NOT_SUBSCRIBED), retrying while the agent is still coming up; one attempt loop at a time.
   * An agent that no longer knows this executor (UNKNOWN_EXECUTOR) ends it: its tasks are
   * killed and the executor exits.
   */
  private resubscribe(why: string): void {
    if (this.resubscribing !== undefined || this.core.isFinished) return;
    this.log.info({ why }, 'subscribing to the agent again');
    this.resubscribing = (async () => {
      for (let attempt = 1; !this.core.isFinished && attempt <= 600; attempt++) {
        try {
          const reply = await this.sendSubscribe();
          if (reply.type === 'OK') return;
          this.log.error({ code: reply.code, reason: reply.reason }, 'the agent refused SUBSCRIBE again; shutting down');
          this.shutdown();
          return;
        } catch {
          await new Promise((r) => setTimeout(r, backoffDelay(attempt, 100, 1000, Math.random)));
        }
      }
    })().finally(() => {
      this.resubscribing = undefined;
    });
  }

  private onEvent(event: ExecutorEvent): ExecutorEffect[] {
    const now = Date.now();
    switch (event.type) {
      case 'SUBSCRIBED':
        return this.core.onSubscribed(now);
      case 'LAUNCH':
        return this.core.onLaunch(event.task, now);
      case 'LAUNCH_GROUP':
        return this.core.onLaunchGroup(event.tasks, now);
      case 'KILL':
        return this.core.onKill(event.taskId, event.gracePeriodMs, now);
      case 'ACKNOWLEDGED':
        return this.core.onAcknowledged(event.taskId, event.uuid);
      case 'SHUTDOWN':
        return this.core.onShutdown(event.gracePeriodMs, now);
      case 'MESSAGE':
        return [{ kind: 'log', level: 'info', msg: 'framework message ignored: the built-in executors take none', data: { bytes: event.data.byteLength } }];
      case 'RECONNECT':
        this.resubscribe('the agent restarted and asked us to reconnect');
        return [];
    }
  }

  private perform(effects: ExecutorEffect[]): void {
    for (const effect of effects) {
      switch (effect.kind) {
        case 'log':
          this.log[effect.level](effect.data ?? {}, effect.msg);
          break;
        case 'send-update':
          this.sendUpdate(effect.status);
          break;
        case 'spawn':
          this.spawnTask(effect.taskId, effect.command, effect.env, effect.cwd);
          break;
        case 'signal':
          this.signalTask(effect.taskId, effect.signal);
          break;
        case 'health-check':
          // Loaded at the first check (node:http and node:net cost every executor's start otherwise).
          void import('./health-probe.js')
            .then(({ probe }) => probe(effect.check, { env: effect.env, cwd: effect.cwd, joinFiles: this.options.joinFiles ?? [], timeoutMs: effect.timeoutMs }))
            .then((r) => this.mailbox.post(() => this.perform(this.core.onHealthResult(effect.taskId, effect.seq, r.ok, r.detail, Date.now()))));
          break;
        case 'exit':
          this.log.info({ code: effect.code }, `executor exiting: ${effect.reason}`);
          this.resolveDone(effect.code);
          break;
      }
    }
  }

  private sendUpdate(status: TaskStatus): void {
    const { agentId, executorId, frameworkId } = this.options;
    const subject = this.subjects.executorToAgent(agentId, executorId);
    this.log.debug({ state: status.state, uuid: status.uuid }, 'sending update');
    this.request(subject, { type: 'UPDATE', executorId, frameworkId, status }, Reply, { timeoutMs: 1000 }).then(
      (reply) => {
        this.mailbox.post(() => this.core.onAgentAnswered());
        if (reply.type === 'REJECTED' && reply.code === 'NOT_SUBSCRIBED') {
          // A restarted agent that has not seen us subscribe yet: keep the update, subscribe again.
          this.resubscribe(`an update was answered ${reply.code}`);
        } else if (reply.type === 'REJECTED') {
          this.mailbox.post(() => this.perform(this.core.onUpdateRejected(status.uuid ?? '', `${reply.code}: ${reply.reason}`)));
          if (reply.code === 'UNKNOWN_EXECUTOR') this.shutdown();
        }
      },
      (e: unknown) => {
        this.mailbox.post(() => this.core.onAgentSilent(Date.now()));
        this.log.debug({ err: e, uuid: status.uuid }, 'update got no answer; it will be resent');
      },
    );
  }

  private spawnTask(taskId: string, command: string, env: Record<string, string>, cwd: string): void {
    try {
      // Own process group (detached). The task's shell makes its directory and opens its
      // output files itself (task-command.ts): no file I/O here, nothing passes through Node.
      const argv = taskArgv(command, this.options.joinFiles ?? [], cwd);
      const child = spawn(argv.file, argv.args, { cwd: this.options.sandbox, env, detached: true, stdio: 'ignore' });
      child.on('error', (e) => this.mailbox.post(() => this.perform(this.core.onSpawnFailed(e.message, Date.now(), taskId))));
      child.on('exit', (exitCode, signal) => this.mailbox.post(() => this.perform(this.core.onTaskExited({ exitCode, signal }, Date.now(), taskId))));
      if (child.pid !== undefined) {
        this.pids.set(taskId, child.pid);
        this.perform(this.core.onSpawned(child.pid, Date.now(), taskId));
      }
    } catch (e) {
      const error = new TaskSpawnError(taskId, e instanceof Error ? e.message : String(e), { cause: e });
      this.log.error({ err: error }, 'could not start the task');
      this.perform(this.core.onSpawnFailed(error.message, Date.now(), taskId));
    }
  }

  private signalTask(taskId: string, signal: 'SIGTERM' | 'SIGKILL'): void {
    const pid = this.pids.get(taskId);
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
      this.log.debug({ taskId, pgid: pid, signal }, 'signalled the task');
    } catch (e) {
      this.log.debug({ err: e, taskId, pgid: pid, signal }, 'nothing left to signal in the task group');
    }
  }
}
