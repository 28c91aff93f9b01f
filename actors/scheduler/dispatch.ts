/**
 * Hands accepted events and status updates to framework code, one at a time and in arrival
 * order: to `on` listeners (awaited) and to `events()` / `updates()` iterators; reports each
 * update with a uuid once its `update` listeners have run (`onUpdateHandled`), so that it can
 * be acknowledged ('auto' mode) or kept for `acknowledge` ('manual'). Events whose epoch was
 * fenced never get here: the Scheduler shell filters them. No NATS here, so this is tested on
 * its own.
 *
 * Deliveries start paused (`start` resumes them) so that listeners attached right after
 * `connect` see the first events. OFFERS that arrive while nobody consumes offers (no `offers`
 * listener, no `events()` iterator) are held, minus rescinded ones, and handed to the first
 * consumer: an offer nobody saw would keep its resources out of the cluster.
 */
import type { Logger } from 'pino';
import type { SchedulerEvent } from '../../protocol/scheduler.js';
import type { InverseOffer, Offer, TaskStatus } from '../../protocol/schema.js';
import { EventStream, Listeners, SerialQueue, type Listener } from './events.js';
import type { AcknowledgeMode } from './options.js';

/** The SUBSCRIBED event. */
export type SubscribedEvent = Extract<SchedulerEvent, { type: 'SUBSCRIBED' }>;

/** A message from an executor. */
export interface ExecutorMessage {
  agentId: string;
  executorId: string;
  data: Uint8Array;
}

/** An agent was lost (no executorId) or an executor exited (with its status). */
export interface Failure {
  agentId?: string;
  executorId?: string;
  status?: number;
}

/** What `on` can listen to, and the payload each listener receives. */
export interface SchedulerEventMap {
  /** Subscribed (first time or again): the SUBSCRIBED event. */
  subscribed: SubscribedEvent;
  /** No event for `missedHeartbeats` heartbeat intervals: resubscribing; the reason. */
  disconnected: string;
  /** New offers. */
  offers: Offer[];
  /** An offer is no longer valid: its id. */
  rescind: string;
  /**
   * Agents where the framework holds resources are scheduled for maintenance: release each by
   * its `unavailability.start`, and answer with `acceptInverseOffers` / `declineInverseOffers`.
   * Not held for late listeners: one nobody answers is rescinded after the offer timeout and made again.
   */
  inverseOffers: InverseOffer[];
  /** An inverse offer is withdrawn (its agent's window changed, it went DOWN or away, or it timed out): its id. */
  rescindInverseOffer: string;
  /** A task's status changed. */
  update: TaskStatus;
  /** Bytes from an executor. */
  message: ExecutorMessage;
  /** An agent or executor was lost. */
  failure: Failure;
  /** The master ended the framework (e.g. torn down): its message. The framework should exit. */
  error: string;
}

/** Dependencies of a Dispatcher. */
export interface DispatcherOptions {
  log: Logger;
  mode: AcknowledgeMode;
  /** An update with a uuid has been through the `update` listeners; `ok` is false when one threw. */
  onUpdateHandled: (status: TaskStatus, ok: boolean) => void;
  /** Items each iterator buffers before dropping its oldest. */
  bufferSize: number;
}

interface Feed {
  readonly wantsOffers: boolean;
  push(event: SchedulerEvent): void;
  end(): void;
}

/** Delivers events and notifications to listeners and iterators. */
export class Dispatcher {
  private readonly listeners = new Listeners<SchedulerEventMap>();
  private readonly feeds = new Set<Feed>();
  private readonly held = new Map<string, Offer>();
  private readonly queue: SerialQueue;
  private heldEpoch = 0;
  private lastEpoch = 0;
  private closed = false;

  constructor(private readonly options: DispatcherOptions) {
    this.queue = new SerialQueue({ paused: true, onError: (err) => options.log.error({ err }, 'event delivery failed') });
  }

  /** Starts delivering (events queued so far go first). */
  start(): void {
    this.queue.resume();
  }

  /** Offers held because nobody consumed offers when they arrived. */
  get heldOffers(): number {
    return this.held.size;
  }

  /** Adds a listener; returns a function that removes it. Attaching to `offers` releases held offers. */
  on<K extends keyof SchedulerEventMap>(name: K, listener: Listener<SchedulerEventMap[K]>): () => void {
    const off = this.listeners.on(name, listener);
    if (name === 'offers' && this.held.size > 0) this.queue.push(() => this.releaseHeld());
    return off;
  }

  /** Every event, from now until `close` (or `break`). */
  events(): AsyncIterableIterator<SchedulerEvent> {
    const stream = this.open<SchedulerEvent>(true, (ev) => ev);
    if (this.held.size > 0) {
      stream.push({ type: 'OFFERS', epoch: this.heldEpoch, offers: [...this.held.values()] });
      this.held.clear();
    }
    return stream;
  }

  /** Status updates, of one task or of all, from now until `close` (or `break`). */
  updates(taskId?: string): AsyncIterableIterator<TaskStatus> {
    return this.open<TaskStatus>(false, (ev) =>
      ev.type === 'UPDATE' && (taskId === undefined || ev.status.taskId === taskId) ? ev.status : undefined,
    );
  }

  /** Queues an accepted event for delivery. */
  event(ev: SchedulerEvent): void {
    this.lastEpoch = Math.max(this.lastEpoch, ev.epoch);
    this.queue.push(() => this.deliver(ev));
  }

  /** Queues a status update from the updates stream (iterators see it as an UPDATE event of the newest epoch). */
  update(status: TaskStatus): void {
    this.queue.push(() => this.deliver({ type: 'UPDATE', epoch: this.lastEpoch, status }));
  }

  /**
   * Queues a `disconnected` notification. Held offers are dropped: they belong to the
   * master's old subscription (a new leader makes new offers; launching on an old one
   * would only get TASK_DROPPED or TASK_LOST).
   */
  disconnected(reason: string): void {
    this.held.clear();
    this.queue.push(async () => void (await this.emit('disconnected', reason)));
  }

  /** Drops queued deliveries, ends every iterator; a listener already running finishes. */
  close(): void {
    this.closed = true;
    this.queue.close();
    for (const feed of [...this.feeds]) feed.end();
  }

  private open<T>(wantsOffers: boolean, pick: (ev: SchedulerEvent) => T | undefined): EventStream<T> {
    const stream = new EventStream<T>(this.options.bufferSize, () => this.feeds.delete(feed));
    const feed: Feed = {
      wantsOffers,
      push: (ev) => {
        const item = pick(ev);
        if (item !== undefined && !stream.push(item)) {
          this.options.log.warn({ dropped: stream.dropped, type: ev.type }, 'an event iterator fell behind; dropped its oldest event');
        }
      },
      end: () => stream.end(),
    };
    this.feeds.add(feed);
    if (this.closed) stream.end();
    return stream;
  }

  private async deliver(ev: SchedulerEvent): Promise<void> {
    for (const feed of [...this.feeds]) feed.push(ev);
    switch (ev.type) {
      case 'SUBSCRIBED':
        await this.emit('subscribed', ev);
        return;
      case 'OFFERS':
        await this.deliverOffers(ev.offers, ev.epoch);
        return;
      case 'RESCIND':
        this.held.delete(ev.offerId);
        await this.emit('rescind', ev.offerId);
        return;
      case 'UPDATE':
        await this.deliverUpdate(ev.status);
        return;
      case 'MESSAGE':
        await this.emit('message', { agentId: ev.agentId, executorId: ev.executorId, data: ev.data });
        return;
      case 'FAILURE':
        await this.emit('failure', failureOf(ev));
        return;
      case 'ERROR':
        await this.emit('error', ev.message);
        return;
      case 'INVERSE_OFFERS':
        await this.emit('inverseOffers', ev.inverseOffers);
        return;
      case 'RESCIND_INVERSE_OFFER':
        await this.emit('rescindInverseOffer', ev.inverseOfferId);
        return;
      case 'HEARTBEAT':
        return;
    }
  }

  private async deliverOffers(offers: Offer[], epoch: number): Promise<void> {
    const consumed = this.listeners.count('offers') > 0 || [...this.feeds].some((f) => f.wantsOffers);
    if (!consumed) {
      for (const offer of offers) this.held.set(offer.id, offer);
      this.heldEpoch = epoch;
      this.options.log.debug({ held: this.held.size }, 'holding offers until an offers listener or events() iterator is attached');
      return;
    }
    await this.emit('offers', offers);
  }

  private async releaseHeld(): Promise<void> {
    if (this.held.size === 0 || this.listeners.count('offers') === 0) return;
    const offers = [...this.held.values()];
    this.held.clear();
    await this.emit('offers', offers);
  }

  private async deliverUpdate(status: TaskStatus): Promise<void> {
    const ok = await this.emit('update', status);
    if (status.uuid === undefined || this.closed) return;
    if (!ok && this.options.mode === 'auto') {
      this.options.log.warn({ taskId: status.taskId, state: status.state, uuid: status.uuid }, 'update not acknowledged because an update listener failed; it will be delivered again');
    }
    this.options.onUpdateHandled(status, ok);
  }

  /** Calls the listeners of `name`; logs what they throw; true when none threw. */
  private async emit<K extends keyof SchedulerEventMap>(name: K, payload: SchedulerEventMap[K]): Promise<boolean> {
    const errors = await this.listeners.emit(name, payload);
    for (const err of errors) this.options.log.error({ err, event: name }, 'a listener failed');
    return errors.length === 0;
  }
}

function failureOf(ev: Extract<SchedulerEvent, { type: 'FAILURE' }>): Failure {
  return {
    ...(ev.agentId !== undefined && { agentId: ev.agentId }),
    ...(ev.executorId !== undefined && { executorId: ev.executorId }),
    ...(ev.status !== undefined && { status: ev.status }),
  };
}
