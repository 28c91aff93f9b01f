/**
 * The registry's shell: loads the registry bucket when a master starts leading, and writes
 * the core's registry operations in order, one at a time, each only while the master may
 * still act as leader (a deposed leader writes nothing more).
 */
import type { KV } from '@nats-io/kv';
import type { Logger } from 'pino';
import { decode, encode } from '../../protocol/codec.js';
import { openRegistryBucket } from '../runtime/kv.js';
import type { NatsConnection } from '../runtime/nats.js';
import { RegistryError } from './errors.js';
import { RegistryEntry, contentsOf, registryWrite, type RegistryContents, type RegistryOp } from './registry.js';

/** Reads and writes one cluster's registry. */
export class RegistryStore {
  private readonly log: Logger;
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;

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

  /** Queues operations; they are written in order after those queued before. */
  write(ops: readonly RegistryOp[]): void {
    for (const op of ops) {
      this.pending += 1;
      this.chain = this.chain.then(() => this.writeOne(op)).finally(() => {
        this.pending -= 1;
      });
    }
  }

  /** Resolves once every queued write has been tried. */
  async flush(): Promise<void> {
    await this.chain;
  }

  /** Writes not yet done. */
  get backlog(): number {
    return this.pending;
  }

  private async writeOne(op: RegistryOp): Promise<void> {
    if (!this.mayWrite()) {
      this.log.warn({ op: op.op }, 'registry write dropped: no longer leading');
      return;
    }
    const { key, value } = registryWrite(op);
    for (let attempt = 1; attempt <= 5; attempt++) {
      try {
        if (value === undefined) await this.kv.delete(key);
        else await this.kv.put(key, encode(value));
        return;
      } catch (e) {
        this.log.warn({ err: e, key, attempt }, 'registry write failed; retrying');
        await new Promise((r) => setTimeout(r, 100 * attempt));
        if (!this.mayWrite()) return;
      }
    }
    this.log.error({ key, op: op.op }, 'registry write failed five times; the next leader may not know this change');
  }
}
