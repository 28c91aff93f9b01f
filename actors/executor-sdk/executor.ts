/**
 * The executor SDK's shell: a custom executor's connection to its agent. `Executor.connect`
 * reads who it is from the environment the agent gave it, listens on its events subject,
 * SUBSCRIBEs (retrying until the agent answers) and resolves once subscribed. Events
 * (LAUNCH, KILL, MESSAGE, SHUTDOWN) go to listeners one at a time, in arrival order;
 * `update` sends a status with a fresh uuid and resends it every `resendMs` until the agent
 * ACKNOWLEDGEs it; `sendMessage` sends bytes to the framework. After the agent restarts
 * (RECONNECT, or an update answered NOT_SUBSCRIBED) the SDK subscribes again with every
 * update not yet acknowledged.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { ExecutorEvent } from '../../protocol/executor.js';
import { Reply } from '../../protocol/replies.js';
import type { TaskInfo, TaskStatus } from '../../protocol/schema.js';
import type { TaskState } from '../../protocol/task-state.js';
import { Actor } from '../runtime/actor.js';
import { createRootLogger } from '../runtime/logger.js';
import { connectNats, type NatsConnection } from '../runtime/nats.js';
import { backoffDelay } from '../runtime/request.js';
import { Listeners, type Listener } from '../scheduler/events.js';
import { ExecutorSdkCore, type UpdateDetails } from './core.js';
import { resolveIdentity, type ExecutorIdentity } from './env.js';
import { AgentUnreachableError, ExecutorClosedError, InvalidUpdateError, SubscribeRefusedError } from './errors.js';

/** Options of `Executor.connect`; every identity field defaults to its NESOS_* variable. */
export interface ExecutorOptions extends Partial<ExecutorIdentity> {
  /** A connection to reuse (the SDK then does not close it); else the SDK connects to `servers`. */
  nc?: NatsConnection;
  /** Root logger (default: pino on stderr, NESOS_LOG_LEVEL else info); the SDK logs through a child. */
  logger?: Logger;
  /** Give up when the agent has not answered SUBSCRIBE for this long (default 60 s). */
  subscribeTimeoutMs?: number;
  /** Resend an unacknowledged update after this long (default 1000 ms). */
  resendMs?: number;
  /** Wait for each answer of the agent (default 2000 ms). */
  requestTimeoutMs?: number;
  /** Where variables are read from (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>>;
}

/** A KILL: kill `taskId`, within `gracePeriodMs` if given (report TASK_KILLING, then TASK_KILLED). */
export interface KillRequest {
  taskId: string;
  gracePeriodMs?: number | undefined;
}

/** Events a custom executor listens to (`executor.on(name, listener)`). */
export interface ExecutorEventMap {
  /** The agent knows this executor (after every SUBSCRIBE, the first and those after an agent restart). */
  subscribed: { agentId: string; executorId: string; frameworkId: string };
  /** Run this task: report TASK_STARTING/TASK_RUNNING, then a terminal state. */
  launch: TaskInfo;
  /** Kill this task. */
  kill: KillRequest;
  /** Bytes from the framework (the scheduler SDK's `message(agentId, executorId, data)`). */
  message: Uint8Array;
  /** Kill every task, report them, and exit (`flush` then `close`); sent when the framework goes away or the agent stops. */
  shutdown: { gracePeriodMs?: number | undefined };
}

/** A custom executor's handle on its agent. */
export class Executor extends Actor {
  /** Who this executor is (from options or the environment). */
  readonly identity: ExecutorIdentity;
  private readonly core: ExecutorSdkCore;
  private readonly listeners = new Listeners<ExecutorEventMap>();
  private readonly ownsConnection: boolean;
  private readonly requestTimeoutMs: number;
  private timer: ReturnType<typeof setInterval> | undefined;
  private resubscribing: Promise<void> | undefined;
  private closed = false;
  private deliveries: Promise<void> = Promise.resolve();

  private constructor(nc: NatsConnection, identity: ExecutorIdentity, logger: Logger, options: ExecutorOptions) {
    super({ nc, cluster: identity.cluster, kind: 'executor', id: identity.executorId, logger });
    this.identity = identity;
    this.ownsConnection = options.nc === undefined;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 2000;
    this.core = new ExecutorSdkCore({ agentId: identity.agentId, executorId: identity.executorId, uuid: () => randomUUID(), resendMs: options.resendMs ?? 1000 });
  }

  /**
   * Connects to NATS (unless `nc` is given), listens for the agent's events and SUBSCRIBEs.
   * Listeners added right after `connect` resolves see the first LAUNCH: the agent sends
   * it after answering, and deliveries run on a later turn of the event loop.
   */
  static async connect(options: ExecutorOptions = {}): Promise<Executor> {
    const identity = resolveIdentity(options, options.env ?? process.env);
    const logger = options.logger ?? createRootLogger({ destination: 2, pretty: false });
    const nc = options.nc ?? (await connectNats({ servers: identity.servers.split(','), name: `nesos-executor-${identity.executorId}` }));
    const executor = new Executor(nc, identity, logger, options);
    try {
      await executor.start(options.subscribeTimeoutMs ?? 60_000);
    } catch (e) {
      await executor.close();
      throw e;
    }
    return executor;
  }

  /** Adds a listener; returns a function that removes it. Listeners run one event at a time: start long work, do not await it. */
  on<K extends keyof ExecutorEventMap>(name: K, listener: Listener<ExecutorEventMap[K]>): () => void {
    return this.listeners.on(name, listener);
  }

  /**
   * Reports a new state of `taskId` (with an optional message, reason, exit code…). Returns
   * the status sent; the SDK resends it until the agent acknowledges it. Throws
   * InvalidUpdateError for a task this executor was not given or an illegal move.
   */
  update(taskId: string, state: TaskState, details: UpdateDetails = {}): TaskStatus {
    if (this.closed) throw new ExecutorClosedError();
    const r = this.core.update(taskId, state, details, Date.now());
    if (!r.ok) throw new InvalidUpdateError(taskId, r.problem);
    this.sendUpdate(r.status);
    return r.status;
  }

  /** Sends bytes (≤ 256 KiB) to the framework, through the agent and the master (the scheduler SDK's 'message' event). */
  async sendMessage(data: Uint8Array): Promise<void> {
    if (this.closed) throw new ExecutorClosedError();
    const { executorId, frameworkId } = this.identity;
    await this.call(this.subjects.executorToAgent(this.identity.agentId, executorId), { type: 'MESSAGE', executorId, frameworkId, data }, Reply, { timeoutMs: this.requestTimeoutMs });
  }

  /** The state `taskId` was last reported in (TASK_STAGING before any update); undefined for a task never given. */
  stateOf(taskId: string): TaskState | undefined {
    return this.core.stateOf(taskId);
  }

  /** The tasks given to this executor that have not been reported terminal. */
  get liveTasks(): TaskInfo[] {
    return this.core.liveTasks;
  }

  /** Updates sent and not yet acknowledged by the agent. */
  get unacknowledged(): TaskStatus[] {
    return this.core.unacknowledged;
  }

  /** Resolves true once every update sent is acknowledged, false after `timeoutMs` (call it before exiting). */
  async flush(timeoutMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.core.unacknowledged.length > 0) {
      if (Date.now() >= deadline || this.closed) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
    return true;
  }

  /** Stops listening and resending; closes the connection if the SDK opened it. Updates not acknowledged are dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.resubscribing;
    await this.stop();
    if (this.ownsConnection) await this.nc.drain().catch((e: unknown) => this.log.debug({ err: e }, 'could not drain the NATS connection'));
  }

  private async start(subscribeTimeoutMs: number): Promise<void> {
    const { agentId, executorId } = this.identity;
    this.listen(this.subjects.agentToExecutor(agentId, executorId), ExecutorEvent, (event) => this.onEvent(event));
    await this.nc.flush(); // listening before the agent answers SUBSCRIBE with LAUNCH
    const deadline = Date.now() + subscribeTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        const reply = await this.sendSubscribe();
        if (reply.type === 'OK') break;
        throw new SubscribeRefusedError(reply.code, reply.reason);
      } catch (e) {
        if (e instanceof SubscribeRefusedError) throw e;
        if (Date.now() >= deadline) throw new AgentUnreachableError(agentId, subscribeTimeoutMs, { cause: e });
        await new Promise((r) => setTimeout(r, backoffDelay(attempt, 100, 1000, Math.random)));
      }
    }
    this.timer = setInterval(() => {
      for (const status of this.core.due(Date.now())) this.sendUpdate(status);
    }, 100);
    this.log.info({ agentId }, 'subscribed to the agent');
  }

  private sendSubscribe() {
    const { agentId, executorId, frameworkId } = this.identity;
    const message = { type: 'SUBSCRIBE', executorId, frameworkId, unacknowledged: this.core.unacknowledged };
    return this.request(this.subjects.executorToAgent(agentId, executorId), message, Reply, { timeoutMs: this.requestTimeoutMs });
  }

  /** Subscribes again after the agent restarted; one attempt loop at a time, for up to ten minutes. */
  private resubscribe(why: string): void {
    if (this.resubscribing !== undefined || this.closed) return;
    this.log.info({ why }, 'subscribing to the agent again');
    this.resubscribing = (async () => {
      for (let attempt = 1; !this.closed && attempt <= 600; attempt++) {
        try {
          const reply = await this.sendSubscribe();
          if (reply.type === 'OK') return;
          this.log.error({ code: reply.code, reason: reply.reason }, 'the agent refused SUBSCRIBE again; shutting down');
          this.emit('shutdown', {});
          return;
        } catch {
          await new Promise((r) => setTimeout(r, backoffDelay(attempt, 100, 1000, Math.random)));
        }
      }
    })().finally(() => {
      this.resubscribing = undefined;
    });
  }

  private sendUpdate(status: TaskStatus): void {
    const { agentId, executorId, frameworkId } = this.identity;
    this.request(this.subjects.executorToAgent(agentId, executorId), { type: 'UPDATE', executorId, frameworkId, status }, Reply, { timeoutMs: this.requestTimeoutMs }).then(
      (reply) => {
        if (reply.type !== 'REJECTED') return;
        if (reply.code === 'NOT_SUBSCRIBED') this.resubscribe('an update was answered NOT_SUBSCRIBED');
        else if (this.core.onRejected(status.uuid ?? '')) this.log.warn({ taskId: status.taskId, code: reply.code, reason: reply.reason }, 'the agent refused an update; dropping it');
      },
      (e: unknown) => this.log.debug({ err: e, uuid: status.uuid }, 'update got no answer; it will be resent'),
    );
  }

  private onEvent(event: ExecutorEvent): void {
    switch (event.type) {
      case 'SUBSCRIBED':
        return this.emit('subscribed', { agentId: event.agentId, executorId: event.executorId, frameworkId: event.frameworkId });
      case 'LAUNCH':
        if (this.core.onLaunch(event.task)) return this.emit('launch', event.task);
        return;
      case 'LAUNCH_GROUP':
        this.log.warn({ tasks: event.tasks.length }, 'LAUNCH_GROUP ignored: task groups go to the default executor');
        return;
      case 'KILL':
        return this.emit('kill', { taskId: event.taskId, gracePeriodMs: event.gracePeriodMs });
      case 'ACKNOWLEDGED':
        this.core.onAcknowledged(event.uuid);
        return;
      case 'MESSAGE':
        return this.emit('message', event.data);
      case 'SHUTDOWN':
        return this.emit('shutdown', { gracePeriodMs: event.gracePeriodMs });
      case 'RECONNECT':
        this.resubscribe('the agent restarted and asked us to reconnect');
        return;
    }
  }

  /**
   * Queues a delivery: listeners run one event at a time, in order, on a chain of their own
   * (not in the mailbox, so that a listener may call `close`, which waits for the mailbox).
   */
  private emit<K extends keyof ExecutorEventMap>(name: K, payload: ExecutorEventMap[K]): void {
    this.deliveries = this.deliveries.then(async () => {
      if (this.closed) return;
      for (const e of await this.listeners.emit(name, payload)) this.log.error({ err: e, event: name }, 'an executor listener threw');
    });
  }
}
