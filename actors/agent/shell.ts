/**
 * The agent's shell: the NATS actor around `AgentCore`. It listens to the master, serves
 * its executors and the files API, ticks the core's clock, and performs the effects the
 * core returns: requests to the master (whose replies go back into the core), status
 * updates published to the updates stream (whose PubAcks go back into the core), events to
 * executors, sandboxes and executor processes. Every handler runs in the actor's mailbox.
 */
import { randomUUID } from 'node:crypto';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { MasterReplyToAgent, MasterToAgent, type AgentToMaster } from '../../protocol/agent.js';
import { ExecutorCall } from '../../protocol/executor.js';
import { FilesCall } from '../../protocol/files.js';
import type { Resources } from '../../protocol/resources.js';
import type { AgentInfo } from '../../protocol/schema.js';
import type { StoredStatus } from '../../protocol/updates.js';
import { Actor, Rejection, type Origin, type ReplyMessage } from '../runtime/actor.js';
import { followLeader, type LeaderFollower } from '../runtime/leader-follower.js';
import type { NatsConnection } from '../runtime/nats.js';
import { ensureUpdateStream, publishUpdate } from '../runtime/update-stream.js';
import { AgentCore, type AgentEffect, type ExecutorExit, type ExecutorView, type MasterResult, type TaskView } from './core.js';
import { killProcessTree, launchExecutor } from './executor-launcher.js';
import { serveFilesCall } from './files.js';
import { createRunSandbox } from './sandbox.js';

/** Options of the agent's shell (see `startAgent` for the user-facing ones). */
export interface AgentShellOptions {
  nc: NatsConnection;
  /** NATS URL(s) the executors connect to (comma-separated). */
  natsServers: string;
  cluster: string;
  logger: Logger;
  workDir: string;
  /** The agent as it registers (id, hostname, resources, attributes). */
  info: AgentInfo;
  /** The same resources, as a value (for `state`). */
  resources: Resources;
  /** The command executor's JS entry point. */
  executorEntry: string;
  /** Longest pause between attempts to publish a status update. */
  updatePublishRetryMs: number;
  registrationRetryMs: number;
  /** Wait for each request to the master (default 2000 ms). */
  requestTimeoutMs?: number;
  /** Grace period sent with SHUTDOWN to executors when the agent stops (default 2000 ms). */
  shutdownGracePeriodMs?: number;
  /** How long `stop` waits for executors to exit before killing them (default 5000 ms). */
  shutdownTimeoutMs?: number;
  /** Kill an executor that has not subscribed after this long (default 60 s). */
  executorRegistrationTimeoutMs?: number;
  /** Longest random pause before registering with a newly elected leader (default 250 ms). */
  reregisterJitterMs?: number;
  /** Wait for each PubAck of a status update (default 2000 ms). */
  publishTimeoutMs?: number;
}

/** An executor as `state` shows it: the core's view plus its process. */
export interface ExecutorState extends ExecutorView {
  pid: number | undefined;
  sandbox: string | undefined;
}

/** A read-only picture of a running agent, for logs and tests. */
export interface AgentState {
  id: string;
  hostname: string;
  resources: string;
  attributes: Record<string, string>;
  registered: boolean;
  epoch: number | undefined;
  masterId: string | undefined;
  tasks: TaskView[];
  executors: ExecutorState[];
}

interface RunningExecutor {
  pid: number;
  sandbox: string;
  exited: Promise<ExecutorExit>;
}

/** The agent actor. */
export class AgentShell extends Actor {
  private readonly core: AgentCore;
  private readonly options: AgentShellOptions;
  private readonly processes = new Map<string, RunningExecutor>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private stopping: Promise<void> | undefined;
  private follower: LeaderFollower | undefined;
  private readonly js: JetStreamClient;
  private ensuringStream: Promise<void> | undefined;

  constructor(options: AgentShellOptions) {
    super({ nc: options.nc, cluster: options.cluster, kind: 'agent', id: options.info.id, logger: options.logger });
    this.options = options;
    this.core = new AgentCore({
      info: options.info,
      ids: { uuid: () => randomUUID(), runId: () => randomUUID() },
      updatePublishRetryMs: options.updatePublishRetryMs,
      registrationRetryMs: options.registrationRetryMs,
      ...(options.executorRegistrationTimeoutMs !== undefined && { executorRegistrationTimeoutMs: options.executorRegistrationTimeoutMs }),
    });
    this.js = jetstream(options.nc);
  }

  /** Subscribes, makes sure the updates stream exists, then starts registering and ticking. */
  async start(): Promise<void> {
    await this.ensureStream();
    this.listen(this.subjects.masterToAgent(this.id), MasterToAgent, (m) => this.perform(this.core.onMasterMessage(m, Date.now())));
    this.serve(this.subjects.executorToAgentWildcard(this.id), ExecutorCall, (call, origin) => this.executorCall(call, origin));
    this.serve(this.subjects.agentFilesWildcard(this.id), FilesCall, (call) => serveFilesCall(this.options.workDir, this.id, call));
    await this.nc.flush(); // subscriptions are in place before the master learns of us
    this.follower = followLeader({
      nc: this.nc,
      cluster: this.options.cluster,
      logger: this.log,
      jitterMs: this.options.reregisterJitterMs ?? 250,
      onTerm: (term) => this.mailbox.post(() => this.perform(this.core.onLeaderElected(term.epoch, Date.now()))),
    });
    const tickMs = Math.min(100, Math.max(10, Math.floor(this.options.updatePublishRetryMs / 4)));
    this.timer = setInterval(() => this.tick(), tickMs);
    this.tick();
    this.log.info({ resources: this.options.resources.toString(), attributes: this.options.info.attributes }, 'agent started');
  }

  /** A read-only picture of the agent. */
  state(): AgentState {
    const view = this.core.view();
    return {
      id: this.id,
      hostname: this.options.info.hostname,
      resources: this.options.resources.toString(),
      attributes: { ...this.options.info.attributes },
      registered: view.registered,
      epoch: view.epoch,
      masterId: view.masterId,
      tasks: view.tasks,
      executors: view.executors.map((e) => ({ ...e, pid: this.processes.get(e.executorId)?.pid, sandbox: this.processes.get(e.executorId)?.sandbox })),
    };
  }

  /**
   * Stops the agent: SHUTDOWN to every executor, a wait for them to exit (serving their
   * last updates meanwhile), SIGKILL to the process trees of any left, then the actor stops.
   */
  override stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.follower?.stop();
    const running = [...this.processes.keys()];
    this.log.info({ executors: running.length }, 'stopping agent');
    for (const executorId of running) {
      this.publish(this.subjects.agentToExecutor(this.id, executorId), { type: 'SHUTDOWN', gracePeriodMs: this.options.shutdownGracePeriodMs ?? 2000 });
    }
    const allExited = (): Promise<unknown> => Promise.all([...this.processes.values()].map((p) => p.exited));
    if (!(await within(allExited(), this.options.shutdownTimeoutMs ?? 5000))) {
      for (const [executorId, p] of this.processes) {
        this.log.warn({ executorId, pid: p.pid }, 'executor did not exit in time; killing it');
        killProcessTree(p.pid, 'SIGKILL');
      }
      await within(allExited(), 2000);
    }
    // The last updates (TASK_KILLED, ...) go into the stream before the agent is gone.
    if (!(await this.published(3000))) this.log.warn({ unpublished: this.core.unpublished }, 'stopping with status updates not yet in the stream');
    await super.stop();
    this.log.info('agent stopped');
  }

  private tick(): void {
    this.mailbox.post(() => this.perform(this.core.tick(Date.now())));
  }

  private executorCall(call: ExecutorCall, origin: Origin): ReplyMessage {
    const result = this.core.onExecutorCall(call, origin.principal);
    // Effects (SUBSCRIBED, LAUNCH, ACKNOWLEDGED, ...) go out after the reply: the next mailbox job.
    if (result.effects.length > 0) this.mailbox.post(() => this.perform(result.effects));
    if (!result.ok) throw new Rejection(result.code, result.reason);
    return { type: 'OK' };
  }

  private async perform(effects: AgentEffect[]): Promise<void> {
    for (const effect of effects) {
      switch (effect.kind) {
        case 'log':
          this.log[effect.level](effect.data ?? {}, effect.msg);
          break;
        case 'send-master':
          this.sendMaster(effect.message);
          break;
        case 'publish-update':
          this.publishUpdate(effect.frameworkId, effect.status);
          break;
        case 'send-executor':
          this.publish(this.subjects.agentToExecutor(this.id, effect.executorId), effect.message);
          break;
        case 'kill-executor':
          this.killExecutor(effect.executorId, effect.reason);
          break;
        case 'launch-executor':
          await this.launch(effect);
          break;
      }
    }
  }

  /** Sends to the master as a request, not waiting for it here; the outcome goes back into the core. */
  private sendMaster(message: AgentToMaster): void {
    const done = (result: MasterResult): void => this.mailbox.post(() => this.perform(this.core.onMasterReply(message.type, result, Date.now())));
    this.request(this.subjects.agentToMaster(this.id), message, MasterReplyToAgent, { timeoutMs: this.options.requestTimeoutMs ?? 2000 }).then(
      (reply) => done({ ok: true, reply }),
      (e: unknown) => done({ ok: false, error: e instanceof Error ? e.message : String(e) }),
    );
  }

  /** Publishes one update to the stream, not waiting for it here; the PubAck (or its absence) goes back into the core. */
  private publishUpdate(frameworkId: string, status: StoredStatus): void {
    const { taskId, uuid } = status;
    publishUpdate(this.js, this.subjects, { type: 'STATUS_UPDATE', frameworkId, status }, this.options.publishTimeoutMs ?? 2000).then(
      () => this.mailbox.post(() => this.perform(this.core.onUpdatePublished(taskId, uuid))),
      (e: unknown) => {
        void this.ensureStream(); // the stream may be missing (a JetStream store wiped, a new server)
        const error = e instanceof Error ? e.message : String(e);
        this.mailbox.post(() => this.perform(this.core.onUpdatePublishFailed(taskId, uuid, error, Date.now())));
      },
    );
  }

  /** Creates the updates stream if missing (one attempt at a time; failures are logged, publishes retry). */
  private ensureStream(): Promise<void> {
    this.ensuringStream ??= ensureUpdateStream(this.nc, this.options.cluster)
      .catch((e: unknown) => this.log.warn({ err: e }, 'cannot set up the updates stream yet'))
      .finally(() => (this.ensuringStream = undefined));
    return this.ensuringStream;
  }

  /** Resolves true once every status update the core holds is in the stream, false after `timeoutMs`. */
  private async published(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.core.unpublished > 0) {
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
    return true;
  }

  private async launch(effect: Extract<AgentEffect, { kind: 'launch-executor' }>): Promise<void> {
    const { executorId, frameworkId, runId } = effect;
    try {
      if (this.stopping !== undefined) throw new Error('the agent is stopping');
      const sandbox = await createRunSandbox(this.options.workDir, { agentId: this.id, frameworkId, executorId }, runId);
      const launched = launchExecutor({ executorId, entry: this.options.executorEntry, sandbox, env: this.executorEnv(executorId, frameworkId, sandbox) });
      const running: RunningExecutor = { pid: launched.pid, sandbox, exited: launched.exited };
      this.processes.set(executorId, running);
      this.log.info({ executorId, taskId: effect.taskId, pid: launched.pid, sandbox }, 'launched executor');
      void launched.exited.then((exit) => {
        if (this.processes.get(executorId) === running) this.processes.delete(executorId);
        this.mailbox.post(() => this.perform(this.core.onExecutorExited(executorId, exit, Date.now())));
      });
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      this.log.error({ executorId, err: e }, 'could not launch executor');
      await this.perform(this.core.onExecutorExited(executorId, { error }, Date.now()));
    }
  }

  private executorEnv(executorId: string, frameworkId: string, sandbox: string): Record<string, string> {
    const level = process.env.NESOS_LOG_LEVEL;
    return {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      NESOS_NATS_URL: this.options.natsServers,
      NESOS_CLUSTER: this.options.cluster,
      NESOS_AGENT_ID: this.id,
      NESOS_EXECUTOR_ID: executorId,
      NESOS_FRAMEWORK_ID: frameworkId,
      NESOS_SANDBOX: sandbox,
      ...(level !== undefined && { NESOS_LOG_LEVEL: level }),
    };
  }

  private killExecutor(executorId: string, reason: string): void {
    const p = this.processes.get(executorId);
    if (p === undefined) {
      this.log.warn({ executorId, reason }, 'no process to kill for executor');
      return;
    }
    const pids = killProcessTree(p.pid, 'SIGKILL');
    this.log.info({ executorId, pid: p.pid, pids, reason }, 'killed executor');
  }
}

/** Resolves true if `promise` settles within `ms`, false otherwise. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
