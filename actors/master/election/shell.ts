/**
 * The election's shell: performs what `ElectionCore` decides on the leader KV bucket, pings
 * the leader, answers pings, watches the key, and ticks the core on a monotonic clock.
 * `onLead` and `onStepDown` are the master's: start and stop everything a leader runs.
 */
import { performance } from 'node:perf_hooks';
import type { KV } from '@nats-io/kv';
import type { Logger } from 'pino';
import { LEADER_KEY } from '../../../protocol/buckets.js';
import { decode, encode } from '../../../protocol/codec.js';
import { PingCall, PingReply } from '../../../protocol/leader.js';
import { Subjects } from '../../../protocol/subjects.js';
import { NoRespondersError } from '../../runtime/errors.js';
import { casCreate, casUpdate, encodeLeader, leaderOf, openLeaderBucket, watchLeader, type LeaderWatch } from '../../runtime/kv.js';
import type { NatsConnection, Subscription } from '../../runtime/nats.js';
import type { RefusalCounts } from '../../runtime/refusals.js';
import { backoffDelay, request } from '../../runtime/request.js';
import { ElectionCore, type ElectionConfig, type ElectionEffect, type WriteOutcome } from './core.js';

/** Options of the election shell. */
export interface ElectionShellOptions {
  nc: NatsConnection;
  cluster: string;
  logger: Logger;
  config: ElectionConfig;
  /** Start acting as leader of term `epoch`. */
  onLead: (epoch: number) => Promise<void> | void;
  /** Stop acting as leader; resolve once everything it ran has stopped. */
  onStepDown: (reason: string) => Promise<void>;
  /** The monotonic clock (ms); default performance.now. */
  clock?: () => number;
  /** Where PINGs that do not decode, and the REJECTED answers to them, are counted. */
  refusals?: RefusalCounts;
  /** How long `start` keeps trying to open and watch the leader bucket (default 60 s: a JetStream cluster that is still forming answers with timeouts). */
  startupTimeoutMs?: number;
}

/** Runs one master's side of the election. */
export class ElectionShell {
  /** The decision logic. */
  readonly core: ElectionCore;
  private readonly options: ElectionShellOptions;
  private readonly log: Logger;
  private readonly subjects: Subjects;
  private readonly clock: () => number;
  private kv: KV | undefined;
  private watch: LeaderWatch | undefined;
  private pingSub: Subscription | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private stopped = false;

  constructor(options: ElectionShellOptions) {
    this.options = options;
    this.core = new ElectionCore(options.config);
    this.log = options.logger.child({ part: 'election' });
    this.subjects = new Subjects(options.cluster);
    this.clock = options.clock ?? (() => performance.now());
  }

  /** True when this master may act as leader now (check before every leader action). */
  mayAct(): boolean {
    return this.core.mayAct(this.clock());
  }

  /** The leader serves calls now: announce it in the leader record (agents and frameworks then register). */
  markReady(): void {
    this.perform(this.core.markReady(this.clock()));
  }

  /** Opens the bucket, answers pings, watches the key and starts ticking. */
  async start(): Promise<void> {
    this.pingSub = this.options.nc.subscribe(this.subjects.masterPing(this.options.config.masterId), {
      callback: (err, msg) => {
        if (err) return;
        const decoded = decode(PingCall, msg.data);
        if (!decoded.ok) {
          // Nothing a peer sends goes unanswered: a bad PING gets a typed REJECTED, like any request.
          this.options.refusals?.decodeError(PingCall.name, decoded.error.code);
          this.log.warn({ err: decoded.error.message, code: decoded.error.code }, 'refused PingCall');
          if (msg.reply) {
            this.options.refusals?.rejected(decoded.error.code);
            msg.respond(encode({ type: 'REJECTED', code: decoded.error.code, reason: decoded.error.message }));
          }
          return;
        }
        if (!msg.reply) return;
        const leading = this.core.claimsLeadership(this.clock());
        msg.respond(encode({ type: 'PONG', masterId: this.options.config.masterId, leading, ...(leading && this.core.epoch > 0 && { epoch: this.core.epoch }) }));
      },
    });
    await this.openAndWatch();
    if (this.stopped) {
      this.watch?.stop();
      return;
    }
    const tickMs = Math.max(5, Math.min(this.options.config.probeIntervalMs, this.options.config.renewIntervalMs) / 2);
    this.timer = setInterval(() => this.perform(this.core.tick(this.clock())), tickMs);
    this.perform(this.core.tick(this.clock()));
  }

  /** Opens the leader bucket and watches its key, retrying with backoff until `startupTimeoutMs` has passed. */
  private async openAndWatch(): Promise<void> {
    const deadline = this.clock() + (this.options.startupTimeoutMs ?? 60_000);
    for (let attempt = 1; ; attempt++) {
      try {
        this.kv = await openLeaderBucket(this.options.nc, this.options.cluster);
        this.watch = await watchLeader(this.kv, (change) => {
          const observation = change.kind === 'record' ? { kind: 'record' as const, record: change.record, revision: change.revision } : change;
          this.perform(this.core.observe(observation, this.clock()));
        });
        return;
      } catch (e) {
        if (this.stopped || this.clock() >= deadline) throw e;
        const retryInMs = backoffDelay(attempt, 250, 4000, Math.random);
        this.log.warn({ err: e, attempt, retryInMs }, 'cannot open or watch the leader bucket yet (is JetStream still forming?); retrying');
        await new Promise((r) => setTimeout(r, retryInMs));
      }
    }
  }

  /** Stops: leaves leadership (the shell's owner stops the leader's work), unsubscribes, stops the watch. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.watch?.stop();
    this.pingSub?.unsubscribe();
    for (const effect of this.core.stop()) if (effect.kind === 'step-down') await this.options.onStepDown(effect.reason);
  }

  private perform(effects: ElectionEffect[]): void {
    if (this.stopped) return;
    for (const effect of effects) {
      switch (effect.kind) {
        case 'log':
          this.log[effect.level](effect.data ?? {}, effect.msg);
          break;
        case 'read':
          void this.read();
          break;
        case 'create':
        case 'update':
          void this.write(effect);
          break;
        case 'ping':
          void this.ping(effect.masterId);
          break;
        case 'lead':
          void Promise.resolve(this.options.onLead(effect.epoch)).catch((e: unknown) => {
            this.log.error({ err: e }, 'could not start leading; stepping down');
            this.perform(this.core.onLeadFailed(e instanceof Error ? e.message : String(e)));
          });
          break;
        case 'step-down':
          void this.options.onStepDown(effect.reason).then(
            () => this.perform(this.core.onSteppedDown(this.clock())),
            (e: unknown) => {
              this.log.error({ err: e }, 'stepping down failed; exiting so that nothing acts on a stale term');
              process.exit(70);
            },
          );
          break;
      }
    }
  }

  private async read(): Promise<void> {
    try {
      const entry = await this.kv!.get(LEADER_KEY);
      const leader = leaderOf(entry);
      const observation = leader === undefined ? { kind: 'absent' as const, revision: entry?.revision ?? 0 } : { kind: 'record' as const, record: leader.record, revision: leader.revision };
      this.perform(this.core.observe(observation, this.clock()));
    } catch (e) {
      this.log.warn({ err: e }, 'could not read the leader key');
      this.perform(this.core.onReadFailed());
    }
  }

  private async write(effect: Extract<ElectionEffect, { kind: 'create' | 'update' }>): Promise<void> {
    const value = encodeLeader({ ...effect.record, renewedAt: Date.now() });
    const timeoutMs = Math.max(100, this.options.config.leaseMs - this.options.config.safetyMarginMs);
    let outcome: WriteOutcome;
    const started = this.clock();
    try {
      const result = effect.kind === 'create' ? await casCreate(this.kv!, LEADER_KEY, value) : await casUpdate(this.kv!, LEADER_KEY, value, effect.revision, timeoutMs);
      outcome = result;
    } catch (e) {
      outcome = { kind: 'error', error: e instanceof Error ? e.message : String(e) };
    }
    const tookMs = this.clock() - started;
    if (tookMs > Math.max(250, this.options.config.renewIntervalMs)) this.log.warn({ tookMs: Math.round(tookMs), kind: effect.kind, outcome: outcome.kind }, 'slow write of the leader key');
    this.perform(this.core.onWriteResult(outcome, this.clock()));
  }

  private async ping(masterId: string): Promise<void> {
    const timeoutMs = Math.max(50, this.options.config.probeIntervalMs * 4);
    try {
      const reply = await request(this.options.nc, this.subjects.masterPing(masterId), { type: 'PING', from: this.options.config.masterId }, PingReply, { timeoutMs });
      this.perform(this.core.onPingResult({ kind: 'answered', leading: reply.leading }, this.clock()));
    } catch (e) {
      this.perform(this.core.onPingResult(e instanceof NoRespondersError ? { kind: 'no-responders' } : { kind: 'timeout' }, this.clock()));
    }
  }
}
