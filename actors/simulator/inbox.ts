/**
 * Requests over one shared inbox, for a process that makes thousands a second (the
 * simulator: heartbeats, registrations, and a PubAck awaited for every status update).
 * nats.js's `request` builds, per request, a timer, two promises raced against each other
 * and, even when the answer comes, an Error with its stack (its "cancelled" rejection of
 * the request already answered); in the simulator's profile that was a tenth of its busy
 * time. Here one wildcard subscription takes every answer, a reply subject is the inbox
 * plus a counter, and one periodic sweep times out what is left unanswered: the same
 * messages on the wire as `nc.request` (and as `js.publish` for a stream's PubAck).
 */
import { createInbox, headers as natsHeaders, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { NoRespondersError, RequestTimeoutError, UpdateStreamError } from '../runtime/errors.js';

interface Pending {
  subject: string;
  timeoutMs: number;
  deadline: number;
  resolve: (msg: Msg) => void;
  reject: (e: Error) => void;
}

/** NATS's header naming a message id (the stream stores a message id once within its duplicate window). */
const MSG_ID = 'Nats-Msg-Id';

/** Requests whose answers all arrive on one wildcard inbox subscription. */
export class InboxRequests {
  private readonly prefix: string;
  private readonly sub: Subscription;
  private readonly pending = new Map<number, Pending>();
  private readonly sweeper: ReturnType<typeof setInterval>;
  private readonly text = new TextDecoder();
  private next = 0;
  private closed = false;

  /**
   * @param nc the connection (the caller owns it)
   * @param sweepMs how often unanswered requests are checked against their deadline: a
   *   timeout is noticed up to this late
   */
  constructor(
    private readonly nc: NatsConnection,
    sweepMs = 100,
  ) {
    this.prefix = `${createInbox()}.`;
    this.sub = nc.subscribe(`${this.prefix}*`, { callback: (err, msg) => (err === null ? this.onAnswer(msg) : undefined) });
    this.sweeper = setInterval(() => this.sweep(performance.now()), sweepMs);
    this.sweeper.unref();
  }

  /** Requests waiting for an answer. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Sends `data` to `subject` and resolves with the answer. Rejects with
   * RequestTimeoutError after `timeoutMs`, NoRespondersError when nobody listens, or
   * RequestTimeoutError at once after `close`.
   */
  request(subject: string, data: Uint8Array, timeoutMs: number, msgId?: string): Promise<Msg> {
    if (this.closed || this.nc.isClosed()) return Promise.reject(new RequestTimeoutError(subject, 0));
    const token = this.next++;
    return new Promise<Msg>((resolve, reject) => {
      this.pending.set(token, { subject, timeoutMs, deadline: performance.now() + timeoutMs, resolve, reject });
      const reply = `${this.prefix}${token}`;
      try {
        if (msgId === undefined) this.nc.publish(subject, data, { reply });
        else {
          const h = natsHeaders();
          h.set(MSG_ID, msgId);
          this.nc.publish(subject, data, { reply, headers: h });
        }
      } catch (e) {
        this.pending.delete(token);
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  }

  /**
   * Publishes `data` to a JetStream stream's `subject` with message id `msgId` and resolves
   * with the stream sequence once the stream acknowledges it (a duplicate within the
   * stream's window is acknowledged too). Rejects with UpdateStreamError when the stream
   * refuses it or no stream takes the subject, RequestTimeoutError without an answer.
   */
  async publishToStream(subject: string, data: Uint8Array, msgId: string, timeoutMs: number): Promise<number> {
    let answer: Msg;
    try {
      answer = await this.request(subject, data, timeoutMs, msgId);
    } catch (e) {
      if (e instanceof NoRespondersError) throw new UpdateStreamError(`no stream takes ${subject}`, { cause: e });
      throw e;
    }
    let ack: { seq?: unknown; error?: { description?: unknown } };
    try {
      ack = JSON.parse(this.text.decode(answer.data)) as typeof ack;
    } catch (cause) {
      throw new UpdateStreamError(`the answer to a publish on ${subject} is not a PubAck`, { cause });
    }
    if (ack.error !== undefined) throw new UpdateStreamError(`the stream refused a publish on ${subject}: ${String(ack.error.description)}`);
    if (typeof ack.seq !== 'number') throw new UpdateStreamError(`the answer to a publish on ${subject} is not a PubAck`);
    return ack.seq;
  }

  /** Stops listening; requests still waiting reject with RequestTimeoutError. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    this.sub.unsubscribe();
    this.sweep(Number.POSITIVE_INFINITY);
  }

  private onAnswer(msg: Msg): void {
    const token = Number(msg.subject.slice(this.prefix.length));
    const p = this.pending.get(token);
    if (p === undefined) return; // timed out already
    this.pending.delete(token);
    // an empty message with status 503: the server found nobody subscribed to the subject
    if (msg.data.length === 0 && msg.headers?.code === 503) p.reject(new NoRespondersError(p.subject));
    else p.resolve(msg);
  }

  private sweep(now: number): void {
    for (const [token, p] of this.pending) {
      if (p.deadline > now) continue;
      this.pending.delete(token);
      p.reject(new RequestTimeoutError(p.subject, p.timeoutMs));
    }
  }
}
