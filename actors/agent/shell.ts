/**
 * The agent's shell: the NATS actor around `AgentCore`. It listens to the master, serves
 * its executors and the files API, ticks the core's clock, and performs the effects the
 * core returns: requests to the master (whose replies go back into the core), status
 * updates published to the updates stream (whose PubAcks go back into the core), events to
 * executors, sandboxes and executor processes. Every handler runs in the actor's mailbox.
 */
import { randomUUID } from 'node:crypto';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { MasterReplyToAgent, MasterToAgent, type AgentToMaster } from '../../protocol/agent.js';
import { AgentStateCall, type AgentExecutorView, type AgentSnapshot } from '../../protocol/agent-state.js';
import { ExecutorCall, type ExecutorEvent } from '../../protocol/executor.js';
import type { Resources } from '../../protocol/resources.js';
import type { AgentInfo } from '../../protocol/schema.js';
import type { StoredStatus } from '../../protocol/updates.js';
import { Actor, Rejection, type Origin, type ReplyMessage } from '../runtime/actor.js';
import { followLeader, type LeaderFollower } from '../runtime/leader-follower.js';
import type { NatsConnection } from '../runtime/nats.js';
import { ensureUpdateStream, publishUpdate } from '../runtime/update-stream.js';
import { AgentCore, type AgentEffect, type ExecutorExit, type MasterResult } from './core.js';
import { taskArgv } from '../executor/task-command.js';
import { bindingLine } from '../executor/spare.js';
import { killProcessTree, launchExecutor, launchSpare, type LaunchedExecutor, type LaunchedSpare } from './executor-launcher.js';
import { FilesServer } from './files-server.js';
import { containerLimits, type Isolator } from './isolation/index.js';
import { isSameProcessRunning, readProcStat } from './isolation/proc.js';
import { DEFAULT_DISK_WATCH_INTERVAL_MS, DEFAULT_GC_DELAY_MS, DEFAULT_GC_DISK_HEADROOM } from './gc.js';
import { sweepSandboxes } from './gc-sweeper.js';
import { createRunSandbox, runDir } from './sandbox.js';
import { prepareVolumes, syncVolumes } from './volumes.js';
import { CHECKPOINT_FILE, CHECKPOINT_VERSION, Checkpointer, coreCheckpointOf, readCheckpoint, type AgentCheckpointFile } from './checkpoint.js';
import { AgentCheckpointError } from './errors.js';
import { killOrphans, planRecovery, whenGone, type RecoverMode } from './recovery.js';

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
  /** Confines and meters executors' tasks (chosen by `--isolation`). */
  isolator: Isolator;
  /** How often the isolator looks for containers over their limits (default 250 ms). */
  limitCheckIntervalMs?: number;
  /** Keep a finished sandbox this long at most (default one week; less as the disk fills). */
  gcDelayMs?: number;
  /** Disk fraction kept free when computing how long sandboxes stay (default 0.1). */
  gcDiskHeadroom?: number;
  /** How often the disk is looked at and due sandboxes removed (default 60 s). */
  diskWatchIntervalMs?: number;
  /** What to do with executors found running at start (default `reconnect`). */
  recover?: RecoverMode;
  /** After a restart, kill a recovered executor that has not subscribed again after this long (default 5 s). */
  executorReregistrationTimeoutMs?: number;
  /** A default executor idle this long is shut down; until then further groups reuse it (default 1 s). */
  defaultExecutorLingerMs?: number;
  /** Spare executors kept ready for new default executors to bind (default 0: none). */
  spareExecutors?: number;
}

interface RunningExecutor {
  pid: number;
  /** The process's start time (/proc), to tell it from a later process with the same pid. */
  startTime: number | undefined;
  sandbox: string;
  exited: Promise<ExecutorExit>;
}

interface SpareProcess extends LaunchedSpare {
  startTime: number | undefined;
  /** Set once its process has ended. */
  ended: boolean;
}

/** How long a spare told to go (its stdin closed) has before it is killed. */
const SPARE_STOP_MS = 2000;

/** The file (in the work dir) spare executors write to until bound (they write only when something goes wrong). */
export const SPARE_LOG = 'spare-executors.log';

/** The agent actor. */
export class AgentShell extends Actor {
  private readonly core: AgentCore;
  private readonly options: AgentShellOptions;
  private readonly processes = new Map<string, RunningExecutor>();
  /** Per executor, the checkpoint change number of the last LAUNCH or LAUNCH_GROUP sent to it. */
  private readonly launchChanges = new Map<string, number>();
  /** Spare executors (not yet any executor: never checkpointed). */
  private readonly spares = new Map<string, SpareProcess>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private stopping: Promise<void> | undefined;
  private follower: LeaderFollower | undefined;
  private readonly js: JetStreamClient;
  private ensuringStream: Promise<void> | undefined;
  private readonly isolator: Isolator;
  private limitTimer: ReturnType<typeof setInterval> | undefined;
  private files: FilesServer | undefined;
  private gcTimer: ReturnType<typeof setInterval> | undefined;
  /** What was taken back from the checkpoint at start (shown in the state). */
  private recoveryInfo: AgentSnapshot['recovery'];
  private sweeping: Promise<void> | undefined;
  private readonly checkpointer: Checkpointer;

  constructor(options: AgentShellOptions) {
    super({ nc: options.nc, cluster: options.cluster, kind: 'agent', id: options.info.id, logger: options.logger });
    this.options = options;
    this.isolator = options.isolator;
    this.core = new AgentCore({
      info: options.info,
      ids: { uuid: () => randomUUID(), runId: () => randomUUID() },
      updatePublishRetryMs: options.updatePublishRetryMs,
      registrationRetryMs: options.registrationRetryMs,
      ...(options.executorRegistrationTimeoutMs !== undefined && { executorRegistrationTimeoutMs: options.executorRegistrationTimeoutMs }),
      ...(options.executorReregistrationTimeoutMs !== undefined && { executorReregistrationTimeoutMs: options.executorReregistrationTimeoutMs }),
      ...(options.defaultExecutorLingerMs !== undefined && { defaultExecutorLingerMs: options.defaultExecutorLingerMs }),
      ...(options.spareExecutors !== undefined && { spareExecutors: options.spareExecutors }),
    });
    this.checkpointer = new Checkpointer({
      workDir: options.workDir,
      build: () => this.mailbox.run(() => this.checkpointFile()),
      onError: (e) => this.log.error({ err: e }, 'could not write the checkpoint'),
    });
    this.js = jetstream(options.nc);
  }

  /** Takes back what the checkpoint holds, makes sure the updates stream exists, subscribes, then starts registering and ticking. */
  async start(): Promise<void> {
    await this.ensureStream();
    const recovered = await this.recoverFromCheckpoint();
    this.listen(this.subjects.masterToAgent(this.id), MasterToAgent, (m) => this.perform(this.core.onMasterMessage(m, Date.now())));
    this.serve(this.subjects.executorToAgentWildcard(this.id), ExecutorCall, (call, origin) => this.executorCall(call, origin));
    this.serve(this.subjects.agentStateWildcard(this.id), AgentStateCall, async () => ({ type: 'AGENT_STATE', state: await this.snapshot() }));
    this.files = new FilesServer({ nc: this.nc, subject: this.subjects.agentFilesWildcard(this.id), workDir: this.options.workDir, agentId: this.id, log: this.log });
    this.files.start();
    await this.nc.flush(); // subscriptions are in place before the master learns of us
    await this.mailbox.run(() => this.perform(recovered)); // RECONNECT to the executors taken back
    this.follower = followLeader({
      nc: this.nc,
      cluster: this.options.cluster,
      logger: this.log,
      jitterMs: this.options.reregisterJitterMs ?? 250,
      onTerm: (term) => this.mailbox.post(() => this.perform(this.core.onLeaderElected(term.epoch, Date.now()))),
    });
    const tickMs = Math.min(100, Math.max(10, Math.floor(this.options.updatePublishRetryMs / 4)));
    this.timer = setInterval(() => this.tick(), tickMs);
    this.limitTimer = setInterval(() => this.mailbox.post(() => this.checkLimits()), this.options.limitCheckIntervalMs ?? 250);
    this.gcTimer = setInterval(() => void this.collectGarbage(), this.options.diskWatchIntervalMs ?? DEFAULT_DISK_WATCH_INTERVAL_MS);
    this.tick();
    this.log.info({ resources: this.options.resources.toString(), attributes: this.options.info.attributes, isolation: this.isolator.describe() }, 'agent started');
  }

  /**
   * The agent's state as GET_STATE answers it: the core's view, the isolator, each
   * executor's process, sandbox and container usage. Call it in the mailbox (GET_STATE
   * does) or accept a picture that may be a message old.
   */
  async snapshot(): Promise<AgentSnapshot> {
    const view = this.core.view();
    const executors: AgentExecutorView[] = [];
    for (const e of view.executors) {
      const p = this.processes.get(e.executorId);
      const usage = e.phase === 'exited' ? undefined : await this.isolator.usage(e.executorId);
      const rss = p === undefined ? undefined : readProcStat(p.pid)?.rssBytes;
      executors.push(
        definedOnly({
          executorId: e.executorId,
          frameworkId: e.frameworkId,
          runId: e.runId,
          kind: e.executorKind,
          phase: e.phase,
          taskIds: e.taskIds,
          pid: p?.pid,
          sandbox: p?.sandbox,
          limitation: e.limitation,
          usage: usage === undefined ? undefined : definedOnly(usage),
          executorMemBytes: rss,
        }),
      );
    }
    return definedOnly({
      id: this.id,
      hostname: this.options.info.hostname,
      resources: this.options.resources.toString(),
      attributes: { ...this.options.info.attributes },
      registered: view.registered,
      epoch: view.epoch,
      masterId: view.masterId,
      isolation: this.isolator.describe(),
      drain: definedOnly(view.drain),
      recovery: this.recoveryInfo,
      tasks: view.tasks.map((t) => definedOnly(t)),
      executors,
      spares: view.spares.map((s) => definedOnly({ ...s, pid: this.spares.get(s.spareId)?.pid })),
      timestamp: Date.now(),
    });
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
    if (this.limitTimer !== undefined) clearInterval(this.limitTimer);
    if (this.gcTimer !== undefined) clearInterval(this.gcTimer);
    await this.sweeping;
    this.follower?.stop();
    const running = [...this.processes.keys()];
    this.log.info({ executors: running.length, spares: this.spares.size }, 'stopping agent');
    await this.mailbox.run(() => this.perform(this.core.stopSpares('the agent is stopping')));
    for (const executorId of running) {
      this.publish(this.subjects.agentToExecutor(this.id, executorId), { type: 'SHUTDOWN', gracePeriodMs: this.options.shutdownGracePeriodMs ?? 2000 });
    }
    const allExited = (): Promise<unknown> => Promise.all([...this.processes.values(), ...this.spares.values()].map((p) => p.exited));
    if (!(await within(allExited(), this.options.shutdownTimeoutMs ?? 5000))) {
      for (const [executorId, p] of this.processes) {
        this.log.warn({ executorId, pid: p.pid }, 'executor did not exit in time; killing it');
        killProcessTree(p.pid, 'SIGKILL');
      }
      for (const [spareId, p] of this.spares) {
        this.log.warn({ spareId, pid: p.pid }, 'spare executor did not exit in time; killing it');
        killProcessTree(p.pid, 'SIGKILL');
      }
      await within(allExited(), 2000);
    }
    // The last updates (TASK_KILLED, ...) go into the stream before the agent is gone.
    if (!(await this.published(3000))) this.log.warn({ unpublished: this.core.unpublished }, 'stopping with status updates not yet in the stream');
    await this.files?.stop();
    await this.mailbox.run(() => this.checkpointer.changed()); // after the exits queued so far
    await this.checkpointer.flush();
    await super.stop();
    await this.isolator.close();
    this.log.info('agent stopped');
  }

  private tick(): void {
    this.mailbox.post(() => this.perform(this.core.tick(Date.now())));
  }

  private executorCall(call: ExecutorCall, origin: Origin): ReplyMessage {
    const before = this.limitationBeforeUpdate(call);
    const result = this.core.onExecutorCall(call, origin.principal);
    const effects = [...before, ...result.effects];
    // Effects (SUBSCRIBED, LAUNCH, ACKNOWLEDGED, ...) go out after the reply: the next mailbox job.
    if (effects.length > 0) this.mailbox.post(() => this.perform(effects));
    if (!result.ok) throw new Rejection(result.code, result.reason);
    return { type: 'OK' };
  }

  /**
   * Performs the core's effects in order. Synchronous as long as no effect needs to wait
   * (most of them: publishes, sends): a mailbox job that does not wait costs no turn of the
   * event loop, so the NATS writes of consecutive jobs go out together.
   */
  private perform(effects: AgentEffect[]): void | Promise<void> {
    if (effects.length > 0) this.checkpointer.changed();
    for (let i = 0; i < effects.length; i++) {
      const waiting = this.performOne(effects[i]!);
      if (waiting !== undefined) return waiting.then(() => this.performRest(effects, i + 1));
    }
  }

  private async performRest(effects: AgentEffect[], from: number): Promise<void> {
    for (let i = from; i < effects.length; i++) await this.performOne(effects[i]!);
  }

  /** Performs one effect; returns a promise only when it has to wait. */
  private performOne(effect: AgentEffect): Promise<void> | undefined {
    switch (effect.kind) {
      case 'log':
        this.log[effect.level](effect.data ?? {}, effect.msg);
        return undefined;
      case 'send-master':
        this.sendMaster(effect.message);
        return undefined;
      case 'publish-update':
        if (effect.afterCheckpoint === 'launch') this.afterCheckpointHolding(effect.status.executorId, () => this.publishUpdate(effect.frameworkId, effect.status));
        else if (effect.afterCheckpoint === 'update') this.checkpointer.afterWrite(() => this.publishUpdate(effect.frameworkId, effect.status));
        else this.publishUpdate(effect.frameworkId, effect.status);
        return undefined;
      case 'send-executor':
        this.sendExecutor(effect.executorId, effect.message);
        return undefined;
      case 'kill-executor':
        this.killExecutor(effect.executorId, effect.reason);
        return undefined;
      case 'launch-executor':
        return this.launch(effect);
      case 'start-spare':
        this.startSpare(effect.spareId);
        return undefined;
      case 'stop-spare':
        this.stopSpare(effect.spareId, effect.reason);
        return undefined;
      case 'prepare-volumes': {
        const dir = join(runDir(this.options.workDir, { agentId: this.id, frameworkId: effect.frameworkId, executorId: effect.executorId }, effect.runId), effect.dir);
        return prepareVolumes(this.options.workDir, dir, effect.volumes).then(
          () => undefined,
          (e: unknown) => this.log.error({ err: e, executorId: effect.executorId }, 'could not prepare persistent volumes'),
        );
      }
      case 'sync-volumes':
        return syncVolumes(this.options.workDir, effect.keep).then(
          (removed) => {
            if (removed.length > 0) this.log.info({ removed }, 'removed destroyed persistent volumes');
          },
          (e: unknown) => this.log.error({ err: e }, 'could not remove destroyed persistent volumes'),
        );
      case 'update-container':
        return this.isolator.update({ containerId: effect.executorId, limits: containerLimits(effect.resources) }).catch((e: unknown) =>
          this.log.warn({ err: e, executorId: effect.executorId }, 'could not change the container\'s limits'),
        );
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
    const spare = effect.spareId === undefined ? undefined : this.takeSpare(effect.spareId);
    const started = Date.now();
    let prepared = false;
    try {
      if (this.stopping !== undefined) throw new Error('the agent is stopping');
      const sandbox = await createRunSandbox(this.options.workDir, { agentId: this.id, frameworkId, executorId }, runId);
      const container = await this.isolator.prepare({ containerId: executorId, limits: containerLimits(effect.resources) });
      prepared = true;
      const base = this.executorEnv(executorId, frameworkId, sandbox);
      const custom = effect.executor;
      // A custom executor joins its container itself (its tasks are its children); the built-in ones have their tasks join.
      const builtIn = { ...base, NESOS_EXECUTOR_KIND: effect.executorKind, NESOS_CGROUP_PROCS: container.joinFiles.join(':') };
      const launched =
        custom === undefined
          ? spare !== undefined && !spare.ended
            ? this.bindSpare(spare, builtIn)
            : launchExecutor({ executorId, entry: this.options.executorEntry, sandbox, env: builtIn })
          : launchExecutor({
              executorId,
              entry: this.options.executorEntry,
              sandbox,
              env: { ...base, HOME: sandbox, ...custom.command.environment, ...nesosOnly(base), MESOS_SANDBOX: sandbox, NESOS_EXECUTOR_KIND: 'custom' },
              argv: taskArgv(custom.command.value, container.joinFiles),
              output: { stdout: 'stdout', stderr: 'stderr' },
            });
      this.isolator.watch(executorId, launched.pid);
      const startTime = launched === spare ? spare.startTime : readProcStat(launched.pid)?.startTime;
      const running: RunningExecutor = { pid: launched.pid, startTime, sandbox, exited: launched.exited };
      this.processes.set(executorId, running);
      this.checkpointer.changed();
      this.log.info({ executorId, taskId: effect.taskId, pid: launched.pid, sandbox, ...(launched === spare && { spareId: effect.spareId }), launchMs: Date.now() - started }, launched === spare ? 'bound a spare executor' : 'launched executor');
      void launched.exited.then((exit) => {
        if (this.processes.get(executorId) === running) this.processes.delete(executorId);
        this.mailbox.post(() => this.executorEnded(executorId, exit, sandbox));
      });
    } catch (e) {
      if (spare !== undefined && !this.processes.has(executorId)) this.releaseSpare(spare, 'the launch it was taken for failed');
      const error = e instanceof Error ? e.message : String(e);
      this.log.error({ executorId, err: e }, 'could not launch executor');
      await this.perform(this.core.onExecutorExited(executorId, { error }, Date.now()));
      if (prepared) await this.isolator.cleanup(executorId);
    }
  }

  // ---- spare executors ----------------------------------------------------------------

  /** Starts a spare executor; one that cannot start (or comes while stopping) is reported ended at once. */
  private startSpare(spareId: string): void {
    const ended = (exit: ExecutorExit): void => this.mailbox.post(() => this.perform(this.core.onSpareExited(spareId, exit, Date.now())));
    if (this.stopping !== undefined) return ended({ error: 'the agent is stopping' });
    let launched: LaunchedSpare;
    try {
      const level = process.env.NESOS_LOG_LEVEL;
      launched = launchSpare({
        spareId,
        entry: this.options.executorEntry,
        cwd: this.options.workDir,
        logFile: join(this.options.workDir, SPARE_LOG),
        env: {
          PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
          NESOS_NATS_URL: this.options.natsServers,
          NESOS_CLUSTER: this.options.cluster,
          NESOS_AGENT_ID: this.id,
          ...(level !== undefined && { NESOS_LOG_LEVEL: level }),
        },
      });
    } catch (e) {
      this.log.error({ spareId, err: e }, 'could not start a spare executor');
      return ended({ error: e instanceof Error ? e.message : String(e) });
    }
    const spare: SpareProcess = { ...launched, startTime: readProcStat(launched.pid)?.startTime, ended: false };
    this.spares.set(spareId, spare);
    this.log.debug({ spareId, pid: spare.pid }, 'started a spare executor');
    void launched.exited.then((exit) => {
      spare.ended = true;
      if (this.spares.get(spareId) !== spare) return; // bound: its exit is its executor's
      this.spares.delete(spareId);
      ended(exit);
    });
  }

  /** The spare's process, no longer a spare (the core bound it to a launch); undefined when it is gone. */
  private takeSpare(spareId: string): SpareProcess | undefined {
    const spare = this.spares.get(spareId);
    this.spares.delete(spareId);
    return spare;
  }

  /** Hands the spare its executor's environment (the BIND line) and closes its stdin: from now on it is that executor. */
  private bindSpare(spare: SpareProcess, env: Record<string, string>): LaunchedExecutor {
    spare.stdin.end(bindingLine(env));
    return spare;
  }

  /** Lets a spare go (the core's stop-spare): see `releaseSpare`. */
  private stopSpare(spareId: string, reason: string): void {
    const spare = this.spares.get(spareId);
    if (spare !== undefined) this.releaseSpare(spare, reason);
  }

  /** Lets a spare go: its stdin closes (it exits), and it is killed if still there after a while. */
  private releaseSpare(spare: SpareProcess, reason: string): void {
    this.log.debug({ pid: spare.pid, reason }, 'letting a spare executor go');
    spare.stdin.end();
    const timer = setTimeout(() => {
      if (!spare.ended) killProcessTree(spare.pid, 'SIGKILL');
    }, SPARE_STOP_MS);
    void spare.exited.then(() => clearTimeout(timer));
  }

  // ---- checkpoint and recovery --------------------------------------------------------

  /**
   * Events to executors; an ACKNOWLEDGED waits until the checkpoint holding its update is on
   * disk. A LAUNCH or LAUNCH_GROUP is numbered as a change of the checkpoint: once a write
   * covering it is done, the checkpoint holds its tasks and their executor's process.
   */
  private sendExecutor(executorId: string, message: ExecutorEvent): void {
    const subject = this.subjects.agentToExecutor(this.id, executorId);
    if (message.type === 'LAUNCH' || message.type === 'LAUNCH_GROUP') this.launchChanges.set(executorId, this.checkpointer.changed());
    if (message.type === 'ACKNOWLEDGED') this.checkpointer.afterWrite(() => this.publish(subject, message));
    else this.publish(subject, message);
  }

  /**
   * Runs `fn` (a task's first update) once a checkpoint holding the task and its executor's
   * process is on disk: one covering the last launch this agent process sent the executor
   * (often already written by the time the executor reports), else the next write.
   */
  private afterCheckpointHolding(executorId: string | undefined, fn: () => void): void {
    const change = executorId === undefined ? undefined : this.launchChanges.get(executorId);
    if (change === undefined) this.checkpointer.afterWrite(fn);
    else this.checkpointer.afterWriteOf(change, fn);
  }

  /** The checkpoint file's content now (run in the mailbox). */
  private checkpointFile(): AgentCheckpointFile {
    const processes: AgentCheckpointFile['processes'] = {};
    for (const [id, p] of this.processes) processes[id] = { pid: p.pid, sandbox: p.sandbox, ...(p.startTime !== undefined && { startTime: p.startTime }) };
    return { version: CHECKPOINT_VERSION, agentId: this.id, savedAt: Date.now(), isolator: this.isolator.kind, core: this.core.checkpoint(), processes };
  }

  /**
   * Reads the checkpoint (if any) and takes back what it holds: the core's tasks and
   * executors, the containers and processes of executors still running (reconnect) or
   * kills them (cleanup); executors found dead are reported. Returns the effects to
   * perform once subscribed (RECONNECT to each executor taken back, updates to send).
   */
  private async recoverFromCheckpoint(): Promise<AgentEffect[]> {
    const file = await readCheckpoint(this.options.workDir);
    if (file === undefined) return [];
    if (file.agentId !== this.id) throw new AgentCheckpointError(CHECKPOINT_FILE, `belongs to agent ${file.agentId}, not ${this.id}`);
    const mode = this.options.recover ?? 'reconnect';
    const now = Date.now();
    const fates = planRecovery(file, mode, (pid, startTime) => isSameProcessRunning(pid, startTime));
    const reattach = new Set(fates.filter((f) => f.fate === 'reattach').map((f) => f.executorId));
    const effects = this.core.recover(coreCheckpointOf(file), now).filter((e) => e.kind !== 'send-executor' || reattach.has(e.executorId));
    const limitsOf = (executorId: string) =>
      containerLimits([
        file.core.executors.find((e) => e.executorId === executorId)?.info?.resources ?? [],
        ...file.core.tasks.filter((t) => t.executorId === executorId).map((t) => t.task.resources),
      ]);
    await this.isolator.recover(fates.filter((f) => f.fate === 'reattach').map((f) => ({ containerId: f.executorId, limits: limitsOf(f.executorId), pid: f.pid })));
    for (const f of fates) {
      if (f.fate === 'reattach' && f.pid !== undefined) {
        const running: RunningExecutor = { pid: f.pid, startTime: f.startTime, sandbox: f.sandbox ?? '', exited: whenGone(f.pid, f.startTime).then(() => ({ gone: 'with a status this agent cannot know (a previous agent process started it)' })) };
        this.processes.set(f.executorId, running);
        void running.exited.then((exit) => {
          if (this.processes.get(f.executorId) === running) this.processes.delete(f.executorId);
          this.mailbox.post(() => this.executorEnded(f.executorId, exit, running.sandbox));
        });
      } else if (f.fate === 'kill' || f.fate === 'gone') {
        if (f.fate === 'kill' && f.pid !== undefined) killProcessTree(f.pid, 'SIGKILL');
        const how = f.fate === 'kill' ? 'when killed at agent start (--recover=cleanup)' : 'while the agent was down';
        effects.push(...this.core.onExecutorExited(f.executorId, { gone: how }, now));
        if (f.sandbox !== undefined) killOrphans(f.sandbox);
        await this.isolator.cleanup(f.executorId);
      }
    }
    const gone = fates.filter((f) => f.fate === 'gone').length;
    this.recoveryInfo = { mode, executors: fates.length, reattached: reattach.size, gone };
    this.log.info({ mode, executors: fates.length, reattached: reattach.size, gone, killed: fates.filter((f) => f.fate === 'kill').length }, 'recovered from the checkpoint');
    return effects;
  }

  // ---- isolation: limits, and the container's end ------------------------------------

  /**
   * An executor process ended: its tasks are settled first (limitation reasons included),
   * then its container goes, and its sandbox's mtime marks the end (the collector's clock).
   */
  private async executorEnded(executorId: string, exit: ExecutorExit, sandbox: string | undefined): Promise<void> {
    this.launchChanges.delete(executorId);
    const limitation = this.isolator.limitation(executorId);
    if (limitation !== undefined) await this.perform(this.core.onContainerLimitation(executorId, limitation, Date.now()));
    await this.perform(this.core.onExecutorExited(executorId, exit, Date.now()));
    await this.isolator.cleanup(executorId);
    if (sandbox !== undefined) {
      const now = new Date();
      await utimes(sandbox, now, now).catch(() => undefined);
    }
  }

  // ---- sandbox garbage collection ----------------------------------------------------

  /** One sweep (never two at once): finished sandboxes past their age are removed. */
  collectGarbage(): Promise<void> {
    this.sweeping ??= this.sweep().finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  private async sweep(): Promise<void> {
    try {
      const inUse = await this.mailbox.run(() => this.runsInUse());
      const result = await sweepSandboxes({
        workDir: this.options.workDir,
        gcDelayMs: this.options.gcDelayMs ?? DEFAULT_GC_DELAY_MS,
        gcDiskHeadroom: this.options.gcDiskHeadroom ?? DEFAULT_GC_DISK_HEADROOM,
        inUse,
        now: Date.now(),
      });
      if (result.removed.length > 0) this.log.info({ removed: result.removed.length, diskUsage: result.diskUsage.toFixed(3), maxAgeMs: Math.round(result.maxAgeMs) }, 'removed finished sandboxes');
    } catch (e) {
      this.log.warn({ err: e }, 'sandbox collection failed; will try again');
    }
  }

  /** The run directories of every executor the agent still holds. */
  private runsInUse(): Set<string> {
    const out = new Set<string>();
    for (const e of this.core.view().executors) out.add(runDir(this.options.workDir, { agentId: this.id, frameworkId: e.frameworkId, executorId: e.executorId }, e.runId));
    for (const p of this.processes.values()) out.add(p.sandbox);
    return out;
  }

  /** Periodic: containers over a limit are destroyed (the core decides what their tasks become). */
  private async checkLimits(): Promise<void> {
    for (const { containerId, limitation } of this.isolator.check()) {
      await this.perform(this.core.onContainerLimitation(containerId, limitation, Date.now()));
    }
  }

  /**
   * Before a FAILED update reaches the core, asks the isolator whether the container hit a
   * limit (the kernel's OOM kill is counted before the task dies, so the answer is already
   * there): the core then reports the limitation's reason instead of a bare exit.
   */
  private limitationBeforeUpdate(call: ExecutorCall): AgentEffect[] {
    const statuses = call.type === 'UPDATE' ? [call.status] : call.type === 'SUBSCRIBE' ? call.unacknowledged : [];
    if (!statuses.some((s) => s.state === 'TASK_FAILED')) return [];
    const limitation = this.isolator.limitation(call.executorId);
    return limitation === undefined ? [] : this.core.onContainerLimitation(call.executorId, limitation, Date.now());
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

/** The NESOS_* variables of an environment (a custom executor's own environment may not override them). */
function nesosOnly(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('NESOS_')));
}

/** The object without its undefined properties (they have no place on the wire). */
function definedOnly<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
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
