/**
 * A standby's copy of the registry (a warm standby): while a master does not lead, it
 * watches the registry bucket and keeps every record, decoded, with the newest bucket
 * revision it has seen. When it wins the election it asks the bucket for its last revision
 * and waits until its copy has seen it: the term then starts from a registry at least as
 * new as the bucket when the term was won — as new as reading the whole bucket then, which
 * at 10,000 agents takes a new leader several hundred milliseconds.
 */
import type { KV, KvWatchEntry } from '@nats-io/kv';
import type { QueuedIterator } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { decode } from '../../protocol/codec.js';
import { openRegistryBucket } from '../runtime/kv.js';
import type { NatsConnection } from '../runtime/nats.js';
import { RegistryEntry, contentsOf, type RegistryContents } from './registry.js';

/** Pause before watching again after the bucket could not be opened or the watch ended. */
const RETRY_MS = 1000;

interface Waiter {
  revision: number;
  resolve: (caughtUp: boolean) => void;
}

/** A registry copy kept current by a watch of the registry bucket. */
export class RegistryMirror {
  private readonly log: Logger;
  private entries = new Map<string, RegistryEntry>();
  private kv: KV | undefined;
  private watch: QueuedIterator<KvWatchEntry> | undefined;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private waiters: Waiter[] = [];
  private stopped = false;
  /** The newest bucket revision the copy holds (0: none yet). */
  revision = 0;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly cluster: string,
    logger: Logger,
  ) {
    this.log = logger.child({ part: 'registry-mirror' });
  }

  /** Starts watching the registry bucket (in the background, retrying until stopped). */
  static start(nc: NatsConnection, cluster: string, logger: Logger): RegistryMirror {
    const mirror = new RegistryMirror(nc, cluster, logger);
    void mirror.follow();
    return mirror;
  }

  /**
   * The registry as of at least the bucket's last revision at the time of the call; undefined
   * when the copy does not reach it within `timeoutMs` (or the bucket cannot be asked): the
   * caller then reads the bucket itself.
   */
  async catchUp(timeoutMs: number): Promise<RegistryContents | undefined> {
    if (this.stopped || this.kv === undefined) return undefined;
    let last: number;
    try {
      last = (await this.kv.status()).streamInfo.state.last_seq;
    } catch (e) {
      this.log.warn({ err: e }, 'cannot ask the registry bucket for its last revision');
      return undefined;
    }
    if (this.revision < last) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const caughtUp = await new Promise<boolean>((resolve) => {
        this.waiters.push({ revision: last, resolve });
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
      clearTimeout(timer);
      if (!caughtUp || this.revision < last) {
        this.log.warn({ revision: this.revision, last }, 'the registry copy did not catch up in time');
        return undefined;
      }
    }
    return contentsOf(this.entries.values());
  }

  /** Stops watching; `catchUp` answers undefined from now on. */
  stop(): void {
    this.stopped = true;
    if (this.retry !== undefined) clearTimeout(this.retry);
    this.watch?.stop();
    for (const w of this.waiters.splice(0)) w.resolve(false);
  }

  private async follow(): Promise<void> {
    try {
      this.kv ??= await openRegistryBucket(this.nc, this.cluster);
      if (this.stopped) return;
      // A fresh watch delivers every key's last value first: start from an empty copy.
      this.entries = new Map();
      this.revision = 0;
      this.watch = await this.kv.watch();
      if (this.stopped) {
        this.watch.stop();
        return;
      }
      for await (const entry of this.watch) this.apply(entry);
    } catch (e) {
      this.log.debug({ err: e }, 'cannot watch the registry bucket');
    }
    if (this.stopped) return;
    this.log.warn('the registry watch ended; watching again');
    this.retry = setTimeout(() => void this.follow(), RETRY_MS);
  }

  private apply(entry: KvWatchEntry): void {
    if (entry.operation === 'PUT') {
      const decoded = decode(RegistryEntry, entry.value);
      if (decoded.ok) this.entries.set(entry.key, decoded.value);
      else {
        this.entries.delete(entry.key);
        this.log.error({ key: entry.key, err: decoded.error.message }, 'skipped a registry record that does not decode');
      }
    } else {
      this.entries.delete(entry.key);
    }
    if (entry.revision > this.revision) this.revision = entry.revision;
    if (this.waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (this.revision >= w.revision) w.resolve(true);
      else still.push(w);
    }
    this.waiters = still;
  }
}
