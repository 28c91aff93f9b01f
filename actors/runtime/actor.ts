/**
 * The shell every actor shares: NATS subscriptions whose messages are decoded, validated
 * and handed to the actor's mailbox one at a time; replies for requests; typed REJECTED
 * answers for anything malformed, unknown, over-sized or from the wrong principal; counters
 * of what came in and what was refused; graceful stop.
 */
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { decode, encode, DEFAULT_MAX_MESSAGE_BYTES } from '../../protocol/codec.js';
import type { RejectionCode } from '../../protocol/replies.js';
import { Subjects } from '../../protocol/subjects.js';
import type { MessageUnion } from '../../protocol/union.js';
import { Mailbox } from './mailbox.js';
import { RefusalCounts } from './refusals.js';
import { call, request, type RequestOptions } from './request.js';

/** Where a message came from. */
export interface Origin {
  /** The subject it arrived on. */
  subject: string;
  /** The subject's last token: the sender's principal or id on subjects that carry one. */
  principal: string;
}

/** A reply a handler gives (OK, REJECTED or a reply particular to the request). */
export type ReplyMessage = { type: string } & Record<string, unknown>;

/** Builds a REJECTED reply. */
export function rejected(code: RejectionCode, reason: string, epoch?: number): ReplyMessage {
  return epoch === undefined ? { type: 'REJECTED', code, reason } : { type: 'REJECTED', code, reason, epoch };
}

/** Thrown by a handler to answer REJECTED with `code` (an expected refusal, logged at info). */
export class Rejection extends Error {
  /** The reason code sent back. */
  readonly code: RejectionCode;
  constructor(code: RejectionCode, reason: string) {
    super(reason);
    this.name = 'Rejection';
    this.code = code;
  }
}

/** Counters every actor keeps (exported as metrics later). */
export interface ActorCounters {
  received: number;
  sent: number;
  decodeErrors: number;
  rejected: number;
  handlerErrors: number;
  fenced: number;
}

/** Common options of an actor shell. */
export interface ActorOptions {
  nc: NatsConnection;
  cluster: string;
  /** The actor's kind ("master", "agent", "executor", "scheduler"). */
  kind: string;
  /** The actor's id. */
  id: string;
  /** The process's root logger; the actor logs through a child carrying kind and id. */
  logger: Logger;
  /** Largest message accepted (default 1 MiB). */
  maxMessageBytes?: number;
  /**
   * Messages are handled only while this holds; others are dropped unanswered (counted as
   * `fenced`). A master passes "I may still act as leader", so that a deposed leader, say
   * one resumed after SIGSTOP, handles none of the requests queued meanwhile.
   */
  gate?: () => boolean;
  /** The term this actor answers in (a leading master's epoch): carried by its REJECTED replies too. */
  epoch?: number;
  /** Where refusals are counted by kind (default: the actor's own); share one to count a process's. */
  refusals?: RefusalCounts;
}

/** Options of `Actor.serve`. */
export interface ServeOptions {
  /** Requests run ahead of the mailbox's other waiting jobs (`Mailbox.postUrgent`). Default false. */
  urgent?: boolean;
}

/** Options of `Actor.listen`. */
export interface ListenOptions {
  /**
   * Answer `{ type: 'OK' }` at once to a well-formed event that was sent as a request (it has
   * a reply subject), before the handler runs: senders use such requests to check that the
   * listener is alive (e.g. the master's HEARTBEAT to a framework). Default false.
   */
  ack?: boolean;
  /** Events run ahead of the mailbox's other waiting jobs (`Mailbox.postUrgent`). Default false. */
  urgent?: boolean;
}

/** Base class of actor shells. */
export class Actor {
  /** The NATS connection. */
  readonly nc: NatsConnection;
  /** Subject builders for this cluster. */
  readonly subjects: Subjects;
  /** The actor's logger (child with kind and id). */
  readonly log: Logger;
  /** The actor's mailbox: every handler runs here, one at a time. */
  readonly mailbox: Mailbox;
  /** Message counters. */
  readonly counters: ActorCounters = { received: 0, sent: 0, decodeErrors: 0, rejected: 0, handlerErrors: 0, fenced: 0 };
  /** Decode errors (per union and code) and REJECTED replies (per code). */
  readonly refusals: RefusalCounts;
  /** The actor's id. */
  readonly id: string;
  private readonly subs: Subscription[] = [];
  private readonly maxBytes: number;
  private readonly gate: () => boolean;
  private readonly replyEpoch: number | undefined;
  private stopped = false;

  constructor(options: ActorOptions) {
    this.nc = options.nc;
    this.id = options.id;
    this.subjects = new Subjects(options.cluster);
    this.log = options.logger.child({ actor: options.kind, id: options.id });
    this.mailbox = new Mailbox(`${options.kind}:${options.id}`, this.log);
    this.maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.gate = options.gate ?? (() => true);
    this.replyEpoch = options.epoch;
    this.refusals = options.refusals ?? new RefusalCounts();
  }

  /** True while the gate lets messages through; counts and logs a drop otherwise. */
  protected open(what: string): boolean {
    if (this.gate()) return true;
    this.counters.fenced += 1;
    this.log.debug({ what }, 'dropped: the gate is closed');
    return false;
  }

  /** True once `stop` has begun. */
  get isStopped(): boolean {
    return this.stopped;
  }

  /**
   * Serves requests on `subject`: each is decoded as one of `union`, run through `handler`
   * in the mailbox, and answered with what it returns. Decode failures and thrown
   * `Rejection`s are answered REJECTED; any other throw is answered REJECTED INTERNAL.
   */
  protected serve<U extends MessageUnion>(
    subject: string,
    union: U,
    handler: (message: z.infer<U['schema']>, origin: Origin) => ReplyMessage | Promise<ReplyMessage>,
    options: ServeOptions = {},
  ): void {
    this.subscribe(subject, (msg) => {
      if (!this.open(msg.subject)) return;
      const origin = { subject: msg.subject, principal: Subjects.lastToken(msg.subject) };
      const decoded = decode(union, msg.data, { maxBytes: this.maxBytes });
      if (!decoded.ok) {
        this.counters.decodeErrors += 1;
        this.refusals.decodeError(union.name, decoded.error.code);
        this.log.warn({ subject: msg.subject, err: decoded.error.message, code: decoded.error.code }, `refused ${union.name}`);
        this.respond(msg, rejected(decoded.error.code, decoded.error.message, this.replyEpoch));
        return;
      }
      // A handler that answers at once is run without an await (its reply is written with the other writes of the mailbox's turn).
      this.enqueue(options.urgent, () => {
        if (!this.open(msg.subject)) return undefined;
        const failed = (e: unknown): void => this.respond(msg, this.failureReply(e, String((decoded.value as { type: unknown }).type), origin));
        let reply: ReplyMessage | Promise<ReplyMessage>;
        try {
          reply = handler(decoded.value, origin);
        } catch (e) {
          failed(e);
          return undefined;
        }
        if (!(reply instanceof Promise)) {
          this.respond(msg, reply);
          return undefined;
        }
        return reply.then((r) => this.respond(msg, r), failed);
      });
    });
  }

  /** Queues a handler's job in the mailbox, ahead of the other waiting jobs when `urgent`. */
  private enqueue(urgent: boolean | undefined, job: () => unknown): void {
    if (urgent === true) this.mailbox.postUrgent(job);
    else this.mailbox.post(job);
  }

  /**
   * Listens to events on `subject`: each is decoded as one of `union` and run through
   * `handler` in the mailbox. Malformed events are logged and dropped. With `ack`, events
   * sent as requests are answered OK on arrival.
   */
  protected listen<U extends MessageUnion>(
    subject: string,
    union: U,
    handler: (message: z.infer<U['schema']>, origin: Origin) => void | Promise<void>,
    options: ListenOptions = {},
  ): void {
    this.subscribe(subject, (msg) => {
      if (!this.open(msg.subject)) return;
      const decoded = decode(union, msg.data, { maxBytes: this.maxBytes });
      if (!decoded.ok) {
        this.counters.decodeErrors += 1;
        this.refusals.decodeError(union.name, decoded.error.code);
        this.log.warn({ subject: msg.subject, err: decoded.error.message, code: decoded.error.code }, `dropped ${union.name}`);
        if (msg.reply) this.respond(msg, rejected(decoded.error.code, decoded.error.message, this.replyEpoch));
        return;
      }
      if (options.ack === true && msg.reply) this.respond(msg, { type: 'OK' });
      const origin = { subject: msg.subject, principal: Subjects.lastToken(msg.subject) };
      this.enqueue(options.urgent, () => {
        if (!this.open(msg.subject)) return undefined;
        const failed = (e: unknown): void => {
          this.counters.handlerErrors += 1;
          this.log.error({ err: e, type: (decoded.value as { type: unknown }).type }, 'event handler failed');
        };
        try {
          const done = handler(decoded.value, origin);
          return done instanceof Promise ? done.catch(failed) : undefined;
        } catch (e) {
          failed(e);
          return undefined;
        }
      });
    });
  }

  /** Publishes one message (fire and forget). */
  publish(subject: string, message: object): void {
    if (this.nc.isClosed()) return;
    this.counters.sent += 1;
    this.nc.publish(subject, encode(message));
  }

  /** Sends a request and decodes the reply as one of `replies` (REJECTED is returned, not thrown). */
  request<U extends MessageUnion>(subject: string, message: object, replies: U, options?: RequestOptions) {
    this.counters.sent += 1;
    return request(this.nc, subject, message, replies, options);
  }

  /** Sends a request; a REJECTED reply is thrown as CallRejectedError. */
  call<U extends MessageUnion>(subject: string, message: object, replies: U, options?: RequestOptions) {
    this.counters.sent += 1;
    return call(this.nc, subject, message, replies, options);
  }

  /** Unsubscribes everything, lets queued messages finish, then returns. Does not close the connection. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.allSettled(this.subs.map((s) => s.drain()));
    await this.mailbox.close();
  }

  private subscribe(subject: string, onMessage: (msg: Msg) => void): void {
    const sub = this.nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) {
          this.log.error({ err, subject }, 'subscription error');
          return;
        }
        this.counters.received += 1;
        onMessage(msg);
      },
    });
    this.subs.push(sub);
  }

  private respond(msg: Msg, reply: ReplyMessage): void {
    if (!msg.reply) return;
    if (reply.type === 'REJECTED') {
      this.counters.rejected += 1;
      this.refusals.rejected(String(reply.code));
    }
    this.counters.sent += 1;
    try {
      msg.respond(encode(reply));
    } catch (e) {
      this.log.warn({ err: e }, 'could not send reply');
    }
  }

  private failureReply(e: unknown, type: string, origin: Origin): ReplyMessage {
    if (e instanceof Rejection) {
      this.log.info({ type, principal: origin.principal, code: e.code, reason: e.message }, 'rejected call');
      return rejected(e.code, e.message, this.replyEpoch);
    }
    this.counters.handlerErrors += 1;
    this.log.error({ err: e, type }, 'request handler failed');
    return rejected('INTERNAL', e instanceof Error ? e.message : String(e), this.replyEpoch);
  }
}
