/**
 * The operator event stream over Server-Sent Events. One subscription to the source serves
 * every client: each event is serialised once and written to all. A client that joins
 * subscribes before the state snapshot is taken and holds the events that arrive meanwhile,
 * so it misses nothing (events are upserts: seeing one twice is harmless). A client that
 * cannot keep up (more than `maxBufferBytes` unsent) is disconnected; it reconnects and
 * starts over with a new SUBSCRIBED.
 */
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { LeaderView } from '../../protocol/operator-api.js';
import type { OperatorChangeEvent, OperatorEvent } from '../../protocol/operator-events.js';
import type { OperatorSource } from './types.js';

/** One connected client. */
interface Client {
  res: ServerResponse;
  /** Events that arrived before its SUBSCRIBED was written. */
  pending: string[] | undefined;
}

/** Options of `EventStreams`. */
export interface EventStreamsOptions {
  source: OperatorSource;
  log: Logger;
  heartbeatIntervalSeconds: number;
  maxBufferBytes: number;
}

/** The set of connected event-stream clients. */
export class EventStreams {
  private readonly clients = new Set<Client>();
  private unsubscribe: (() => void) | undefined;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private seq = 0;

  constructor(private readonly options: EventStreamsOptions) {}

  /** Clients connected now. */
  get size(): number {
    return this.clients.size;
  }

  /** Serves one client on `res` (headers not yet sent) until it disconnects. */
  async open(res: ServerResponse): Promise<void> {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 1000\n\n');
    const client: Client = { res, pending: [] };
    this.clients.add(client);
    res.on('close', () => this.drop(client));
    this.ensureSubscribed();
    try {
      const state = await this.options.source.snapshot();
      if (!this.clients.has(client)) return;
      const subscribed: OperatorEvent = { type: 'SUBSCRIBED', state, heartbeatIntervalSeconds: this.options.heartbeatIntervalSeconds };
      const pending = client.pending ?? [];
      client.pending = undefined;
      this.write(client, this.frame(subscribed));
      for (const frame of pending) this.write(client, frame);
    } catch (e) {
      this.options.log.warn({ err: e }, 'event stream: snapshot failed; closing the stream');
      this.drop(client);
      res.end();
    }
  }

  /** Sends one event to every client (used for HEARTBEAT and LEADER_CHANGED). */
  broadcast(event: OperatorEvent): void {
    if (this.clients.size === 0) return;
    const frame = this.frame(event);
    for (const client of [...this.clients]) {
      if (client.pending !== undefined) client.pending.push(frame);
      else this.write(client, frame);
    }
  }

  /** Tells every client who leads now, then ends their streams. */
  endAll(leader?: LeaderView): void {
    if (this.clients.size > 0) this.broadcast(leader === undefined ? { type: 'LEADER_CHANGED' } : { type: 'LEADER_CHANGED', leader });
    for (const client of [...this.clients]) {
      this.drop(client);
      client.res.end();
    }
  }

  private ensureSubscribed(): void {
    if (this.unsubscribe !== undefined) return;
    this.unsubscribe = this.options.source.subscribeEvents((event: OperatorChangeEvent) => {
      this.broadcast(event);
      if (event.type === 'LEADER_CHANGED' && !this.options.source.role().leading) this.endAll(event.leader);
    });
    this.heartbeat = setInterval(() => {
      const role = this.options.source.role();
      if (!role.leading) this.endAll(role.leader);
      else this.broadcast({ type: 'HEARTBEAT', ...(role.leader !== undefined && { epoch: role.leader.epoch }) });
    }, this.options.heartbeatIntervalSeconds * 1000);
    this.heartbeat.unref();
  }

  private drop(client: Client): void {
    if (!this.clients.delete(client)) return;
    if (this.clients.size === 0) {
      this.unsubscribe?.();
      this.unsubscribe = undefined;
      if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
      this.heartbeat = undefined;
    }
  }

  private frame(event: OperatorEvent): string {
    this.seq += 1;
    return `id: ${this.seq}\ndata: ${JSON.stringify(event)}\n\n`;
  }

  private write(client: Client, frame: string): void {
    if (client.res.writableEnded || client.res.destroyed) {
      this.drop(client);
      return;
    }
    client.res.write(frame);
    if (client.res.writableLength > this.options.maxBufferBytes) {
      this.options.log.warn({ buffered: client.res.writableLength }, 'event stream: client too slow; disconnecting it');
      this.drop(client);
      client.res.destroy();
    }
  }
}
