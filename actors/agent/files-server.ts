/**
 * Serves the files API next to the agent's actor, not in its mailbox: reads and listings
 * are file I/O, and a following READ may wait seconds for a file to grow, so each call runs
 * on its own and none holds up the agent. Decoding and refusals follow the actor runtime's
 * rules (a malformed call is answered REJECTED with the codec's code).
 */
import type { Logger } from 'pino';
import { decode, encode } from '../../protocol/codec.js';
import { FilesCall } from '../../protocol/files.js';
import { Rejection, rejected, type ReplyMessage } from '../runtime/actor.js';
import type { NatsConnection, Subscription } from '../runtime/nats.js';
import { serveFilesCall } from './files.js';

/** Options of the files server. */
export interface FilesServerOptions {
  nc: NatsConnection;
  /** The wildcard subject of the agent's files calls. */
  subject: string;
  workDir: string;
  agentId: string;
  log: Logger;
}

/** The agent's files API, served concurrently. */
export class FilesServer {
  private readonly options: FilesServerOptions;
  private subscription: Subscription | undefined;
  private readonly aborter = new AbortController();
  private readonly pending = new Set<Promise<void>>();

  constructor(options: FilesServerOptions) {
    this.options = options;
  }

  /** Subscribes (flush the connection afterwards to be sure it is in place). */
  start(): void {
    this.subscription = this.options.nc.subscribe(this.options.subject, {
      callback: (err, msg) => {
        if (err !== null) {
          this.options.log.error({ err }, 'files subscription error');
          return;
        }
        const job = this.answer(msg.data).then((reply) => {
          try {
            msg.respond(encode(reply));
          } catch (e) {
            this.options.log.warn({ err: e }, 'could not answer a files call');
          }
        });
        this.pending.add(job);
        void job.finally(() => this.pending.delete(job));
      },
    });
  }

  /** Stops taking calls; following READs answer at once; resolves when every call is answered. */
  async stop(): Promise<void> {
    this.aborter.abort();
    await this.subscription?.drain().catch(() => undefined);
    await Promise.allSettled([...this.pending]);
  }

  private async answer(data: Uint8Array): Promise<ReplyMessage> {
    const decoded = decode(FilesCall, data);
    if (!decoded.ok) return rejected(decoded.error.code, decoded.error.message);
    try {
      return await serveFilesCall(this.options.workDir, this.options.agentId, decoded.value, this.aborter.signal);
    } catch (e) {
      if (e instanceof Rejection) return rejected(e.code, e.message);
      this.options.log.error({ err: e }, 'files call failed');
      return rejected('INTERNAL', e instanceof Error ? e.message : String(e));
    }
  }
}
