/**
 * The registry's shell: loads the registry bucket when a master starts leading, and writes
 * the core's registry operations — in order for each key, up to `MAX_IN_FLIGHT` keys at
 * once — each only while the master may still act as leader (a deposed leader writes
 * nothing more).
 */
import type { KV } from '@nats-io/kv';
import type { Logger } from 'pino';
import { decode, encode } from '../../protocol/codec.js';
import { openRegistryBucket } from '../runtime/kv.js';
import type { NatsConnection } from '../runtime/nats.js';
import { RegistryError } from './errors.js';
import { RegistryEntry, contentsOf, registryWrite, type RegistryContents, type RegistryOp } from './registry.js';

/** Writes to different keys in flight at once. */
export const MAX_IN_FLIGHT = 64;

/** Failed attempts of one write logged one by one; after that, only its eventual success. */
const RETRIES_LOGGED = 5;

/** Longest pause between attempts of one write (100 ms, doubled each time, up to this). */
const RETRY_MAX_MS = 2000;

interface QueuedWrite {
  key: string;
  op: RegistryOp;
}

/** Reads and writes one cluster's registry. */
export class RegistryStore {
  private readonly log: Logger;
  /** Writes not yet started, oldest first. */
  private readonly queue: QueuedWrite[] = [];
  /** Keys with a write in flight (a later write of the same key waits for it). */
  private readonly busy = new Set<string>();
  private pending = 0;
  private idle: Array<() => void> = [];
  private closed = false;

  private constructor(
    private readonly kv: KV,
    logger: Logger,
    private readonly mayWrite: () => boolean,
  ) {
    this.log = logger.child({ part: 'registry' });
  }

  /** Opens the cluster's registry bucket (creating it if missing). */
  static async open(nc: NatsConnection, cluster: string, logger: Logger, mayWrite: () => boolean): Promise<RegistryStore> {
    return new RegistryStore(await openRegistryBucket(nc, cluster), logger, mayWrite);
  }

  /** Reads every record. Records that do not decode are logged and skipped. */
  async load(timeoutMs = 10_000): Promise<RegistryContents> {
    const status = await this.kv.status();
    if (status.values === 0) return contentsOf([]);
    const entries: RegistryEntry[] = [];
    const watch = await this.kv.watch();
    const deadline = setTimeout(() => watch.stop(), timeoutMs);
    try {
      // A watch delivers the last value of every key first; the last of those is flagged
      // as an update (and so is anything written since).
      for await (const entry of watch) {
        if (entry.operation === 'PUT') {
          const decoded = decode(RegistryEntry, entry.value);
          if (decoded.ok) entries.push(decoded.value);
          else this.log.error({ key: entry.key, err: decoded.error.message }, 'skipped a registry record that does not decode');
        }
        if (entry.isUpdate) break;
      }
    } catch (cause) {
      throw new RegistryError(`could not read the registry: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    } finally {
      clearTimeout(deadline);
      watch.stop();
    }
    return contentsOf(entries);
  }

  /** Queues operations; each key's writes happen in the order queued. */
  write(ops: readonly RegistryOp[]): void {
    for (const op of ops) {
      this.pending += 1;
      this.queue.push({ key: registryWrite(op).key, op });
    }
    this.pump();
  }

  /** Resolves once every queued write has been tried. */
  flush(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    for (let i = 0; i < this.queue.length && this.busy.size < MAX_IN_FLIGHT; ) {
      const next = this.queue[i]!;
      // An earlier write of the same key, in flight or still queued, goes first.
      if (this.busy.has(next.key) || this.queue.slice(0, i).some((q) => q.key === next.key)) {
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      this.busy.add(next.key);
      void this.writeOne(next.op).finally(() => {
        this.busy.delete(next.key);
        this.pending -= 1;
        if (this.pending === 0) for (const resolve of this.idle.splice(0)) resolve();
        this.pump();
      });
    }
  }

  /** Writes not yet done. */
  get backlog(): number {
    return this.pending;
  }

  /** The master stops leading: writes still waiting for the leader's gate are dropped. */
  close(): void {
    this.closed = true;
  }

  private async writeOne(op: RegistryOp): Promise<void> {
    // The gate may close for a moment (a renewal late on a busy machine) and open again when
    // it succeeds: wait for it, and give up only once this master stops leading.
    while (!this.mayWrite()) {
      if (this.closed) {
        this.log.warn({ op: op.op }, 'registry write dropped: no longer leading');
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const { key, value } = registryWrite(op);
    // A write is never given up while this master leads: JetStream may answer "no responders"
    // or time out for seconds (a stream leader election after a partition heals), and a write
    // dropped then would be missing for the next leader. Put and delete are idempotent, so a
    // retry after an unknown outcome is safe; later writes of the same key wait behind it.
    for (let attempt = 1; ; attempt++) {
      try {
        if (value === undefined) await this.kv.delete(key);
        else await this.kv.put(key, encode(value));
        if (attempt > RETRIES_LOGGED) this.log.info({ key, attempts: attempt }, 'registry write succeeded after retries');
        return;
      } catch (e) {
        if (attempt <= RETRIES_LOGGED) this.log.warn({ err: e, key, attempt }, 'registry write failed; retrying');
        if (attempt === RETRIES_LOGGED) this.log.error({ key, op: op.op }, `registry write failed ${RETRIES_LOGGED} times; retrying while this master leads`);
        await new Promise((r) => setTimeout(r, Math.min(RETRY_MAX_MS, 100 * 2 ** (attempt - 1))));
        while (!this.mayWrite() && !this.closed) await new Promise((r) => setTimeout(r, 50));
        if (this.closed) {
          this.log.warn({ key, op: op.op }, 'registry write dropped: no longer leading (the next leader rebuilds from the agents)');
          return;
        }
      }
    }
  }
}
