/**
 * Leader election, pure: given what the leader KV key holds, the outcomes of KV writes and
 * pings, and the time (a monotonic clock in ms, passed in), it decides what to write,
 * whom to ping, and when this master starts and stops leading. It never does I/O.
 *
 * - **Acquire**: with no leader record, `create` the key. The write's revision is the epoch.
 * - **Renew**: a leader `update`s the key on its last revision every `renewIntervalMs`.
 *   A conflict means someone else took over: step down at once.
 * - **Stop in time**: a leader whose last successful renewal was *sent* more than
 *   `leaseMs - safetyMarginMs` ago stops acting (before any standby can take over, since
 *   standbys start counting only once they *see* a write).
 * - **Take over an expired lease**: a standby that has seen no new revision of the record
 *   for `leaseMs` updates the key on the revision it saw (CAS: of several standbys, one wins).
 * - **Take over a dead leader at once**: standbys ping the leader every `probeIntervalMs`;
 *   `noRespondersToTakeOver` "no responders" in a row (its process or connection is gone)
 *   while the record has not changed for two renewal intervals, or an answer saying it does
 *   not lead, allow the same CAS takeover without waiting out the lease. The record must
 *   stand still because "no responders" alone does not prove the leader dead: a NATS server
 *   that has just rejoined its cluster (a healed partition) answers so until it learns the
 *   leader's subscription, while the leader goes on renewing. A leader that was merely cut
 *   off is fenced by the epoch.
 */
import { getInitialSnapshot } from 'xstate';
import { epochOf, type LeaderRecord } from '../../../protocol/leader.js';
import { lifecycleState, masterLifecycle, nextLifecycle, type LifecycleEvent, type LifecycleSnapshot, type LifecycleState } from './lifecycle.js';

/** Timing of the election (all in ms of the monotonic clock). */
export interface ElectionConfig {
  /** This master's id. */
  masterId: string;
  /** Where this master's HTTP endpoints are, written into the record when leading. */
  url?: string;
  /** How long a record stays valid without renewal. Default 2000. */
  leaseMs: number;
  /** How often a leader renews. Default 250. */
  renewIntervalMs: number;
  /** A leader stops this long before its lease could expire. Default 500. */
  safetyMarginMs: number;
  /** How often a standby pings the leader. Default 50. */
  probeIntervalMs: number;
  /** "No responders" in a row that let a standby take over at once (once the record has stood still for 2 × `renewIntervalMs`). Default 3. */
  noRespondersToTakeOver: number;
}

/** Defaults of everything but the master's id. */
export const DEFAULT_ELECTION_CONFIG: Omit<ElectionConfig, 'masterId'> = {
  leaseMs: 2000,
  renewIntervalMs: 100,
  safetyMarginMs: 500,
  probeIntervalMs: 50,
  noRespondersToTakeOver: 3,
};

/** What the leader key holds, as seen by a watch or a get. */
export type KeyObservation = { kind: 'record'; record: LeaderRecord; revision: number } | { kind: 'absent'; revision: number };

/** The outcome of a KV write. */
export type WriteOutcome = { kind: 'ok'; revision: number } | { kind: 'conflict' } | { kind: 'error'; error: string };

/** The outcome of a ping to the leader. */
export type PingOutcome = { kind: 'answered'; leading: boolean } | { kind: 'no-responders' } | { kind: 'timeout' };

/** Something for the shell to do. */
export type ElectionEffect =
  /** `create` the leader key with `record`; report with `onWriteResult`. */
  | { kind: 'create'; record: LeaderRecord }
  /** `update` the leader key to `record` if its revision is still `revision`; report with `onWriteResult`. */
  | { kind: 'update'; record: LeaderRecord; revision: number }
  /** `get` the leader key; report with `observe`. */
  | { kind: 'read' }
  /** Ping `masterId`; report with `onPingResult`. */
  | { kind: 'ping'; masterId: string }
  /** Start acting as leader of term `epoch`. */
  | { kind: 'lead'; epoch: number }
  /** Stop acting as leader now; call `onSteppedDown` once everything has stopped. */
  | { kind: 'step-down'; reason: string }
  /** A line for the log. */
  | { kind: 'log'; level: 'info' | 'warn' | 'debug'; msg: string; data?: Record<string, unknown> };

interface Seen {
  observation: KeyObservation;
  /** When this revision was first seen (local clock). */
  at: number;
}

interface PendingWrite {
  kind: 'create' | 'update';
  /** What it writes: once it succeeds, what the key holds. */
  record: LeaderRecord;
  /** When it was sent: a successful renewal counts from here. */
  sentAt: number;
  /** True when it acquires a term (create or takeover), false for a renewal. */
  acquiring: boolean;
}

/** The election state machine of one master. */
export class ElectionCore {
  readonly config: ElectionConfig;
  private lifecycle: LifecycleSnapshot = getInitialSnapshot(masterLifecycle);
  private seen: Seen | undefined;
  private pendingWrite: PendingWrite | undefined;
  /** The revision of the record whose master a ping in flight asks; undefined when none is out. */
  private pendingPing: number | undefined;
  private lastPingAt = Number.NEGATIVE_INFINITY;
  private noResponders = 0;
  private leaderSaysStandby = false;
  /** Leader only: revision of our last write, and when the last successful one was sent. */
  private ownRevision = 0;
  private renewedSentAt = Number.NEGATIVE_INFINITY;
  private lastRenewAttemptAt = Number.NEGATIVE_INFINITY;
  private needRead = true;
  /** Leader only: the master serves calls (announced in the record). */
  private ready = false;

  constructor(config: ElectionConfig) {
    this.config = config;
  }

  /** The lifecycle state: standby, leading, steppingDown or stopped. */
  get state(): LifecycleState {
    return lifecycleState(this.lifecycle);
  }

  /** The epoch of this master's term (0 unless leading or stepping down). */
  get epoch(): number {
    return this.state === 'standby' ? 0 : this.lifecycle.context.epoch;
  }

  /** The leader as last seen in the key: its id and epoch, if any. */
  get leader(): { masterId: string; epoch: number; url?: string } | undefined {
    const o = this.seen?.observation;
    if (o === undefined || o.kind === 'absent') return undefined;
    return { masterId: o.record.masterId, epoch: epochOf(o.record, o.revision), ...(o.record.url !== undefined && { url: o.record.url }) };
  }

  /**
   * True when this master may act as leader at `now`: it leads and its last successful
   * renewal was sent less than `leaseMs - safetyMarginMs` ago. Check before every action.
   */
  mayAct(now: number): boolean {
    return this.state === 'leading' && now - this.renewedSentAt < this.config.leaseMs - this.config.safetyMarginMs;
  }

  /**
   * What PONG says: true unless this master is sure it neither leads nor may become leader
   * through a write already sent. A standby that hears "false" from the master named in
   * the key takes over at once, so an acquiring write in flight must count as leading.
   */
  claimsLeadership(now: number): boolean {
    if (this.state === 'leading') return this.mayAct(now);
    return this.state === 'standby' && this.pendingWrite?.acquiring === true;
  }

  /** Time passed: renew, step down, ping, or try to acquire, as due. */
  tick(now: number): ElectionEffect[] {
    switch (this.state) {
      case 'leading':
        return this.tickLeading(now);
      case 'standby':
        return this.tickStandby(now);
      default:
        return [];
    }
  }

  /** The leader key as a watch or a get reports it. */
  observe(observation: KeyObservation, now: number): ElectionEffect[] {
    this.needRead = false;
    const previous = this.seen?.observation;
    if (previous !== undefined && observation.revision < previous.revision) return []; // an older view
    if (previous === undefined || observation.revision !== previous.revision || observation.kind !== previous.kind) {
      this.seen = { observation, at: now };
      this.noResponders = 0;
      this.leaderSaysStandby = false;
    }
    if (this.state !== 'leading') return [];
    if (observation.kind === 'absent') return this.depose('the leader key was deleted');
    if (observation.record.masterId !== this.config.masterId && observation.revision > this.ownRevision) {
      return this.depose(`master ${observation.record.masterId} took over (revision ${observation.revision})`);
    }
    return [];
  }

  /**
   * The leader now serves calls: the next renewal, sent at once, says so in the record, and
   * agents and frameworks register with this term.
   */
  markReady(now: number): ElectionEffect[] {
    if (this.state !== 'leading' || this.ready) return [];
    this.ready = true;
    this.lastRenewAttemptAt = Number.NEGATIVE_INFINITY;
    return this.tickLeading(now);
  }

  /** The `read` asked for failed: read again on the next tick. */
  onReadFailed(): ElectionEffect[] {
    this.needRead = true;
    return [];
  }

  /** The outcome of the create or update asked for last. */
  onWriteResult(outcome: WriteOutcome, now: number): ElectionEffect[] {
    const pending = this.pendingWrite;
    this.pendingWrite = undefined;
    if (pending === undefined) return [];
    if (pending.acquiring) {
      if (this.state !== 'standby') return [];
      if (outcome.kind === 'ok') return this.elected(outcome.revision, pending.record, pending.sentAt, now);
      this.needRead = true; // someone else won, or the key changed under us: look again
      return outcome.kind === 'error' ? [{ kind: 'log', level: 'warn', msg: 'could not write the leader key', data: { error: outcome.error } }] : [];
    }
    // A renewal.
    if (this.state !== 'leading') return [];
    if (outcome.kind === 'ok') {
      this.ownRevision = outcome.revision;
      this.renewedSentAt = Math.max(this.renewedSentAt, pending.sentAt);
      this.sawOwnWrite(pending.record, outcome.revision, now);
      return [];
    }
    if (outcome.kind === 'conflict') return this.depose('the leader key changed under us (another master took over)');
    return [{ kind: 'log', level: 'warn', msg: 'could not renew the lease; retrying', data: { error: outcome.error } }, ...this.tickLeading(now)];
  }

  /**
   * The outcome of the last ping to the leader. It counts only while the key still holds
   * the revision it was sent about: an answer about an older term says nothing of this one.
   */
  onPingResult(outcome: PingOutcome, now: number): ElectionEffect[] {
    const about = this.pendingPing;
    this.pendingPing = undefined;
    if (about !== undefined && about === this.seen?.observation.revision) {
      if (outcome.kind === 'no-responders') this.noResponders += 1;
      else this.noResponders = 0;
      this.leaderSaysStandby = outcome.kind === 'answered' && !outcome.leading;
    }
    return this.state === 'standby' ? this.tickStandby(now) : [];
  }

  /**
   * The shell could not start what a leader runs (say the registry bucket did not open
   * while JetStream elected its own leaders): a leader that serves nothing must not hold
   * the lease, so it steps down and another master (or this one, later) takes over.
   */
  onLeadFailed(reason: string): ElectionEffect[] {
    if (this.state !== 'leading') return [];
    return this.depose(`could not start leading: ${reason}`);
  }

  /** The shell has stopped everything the leader ran: back to standby. */
  onSteppedDown(now: number): ElectionEffect[] {
    this.move({ type: 'STEPPED_DOWN' });
    this.ownRevision = 0;
    this.renewedSentAt = Number.NEGATIVE_INFINITY;
    this.needRead = true;
    return this.tickStandby(now);
  }

  /** The process is stopping: give up leadership (the shell deletes nothing; the lease runs out or a standby takes over). */
  stop(): ElectionEffect[] {
    const wasLeading = this.state === 'leading';
    this.move({ type: 'STOP' });
    return wasLeading ? [{ kind: 'step-down', reason: 'the master is stopping' }] : [];
  }

  private tickLeading(now: number): ElectionEffect[] {
    if (!this.mayAct(now)) {
      return this.depose(`the lease could not be renewed for ${Math.round(now - this.renewedSentAt)} ms`);
    }
    if (this.pendingWrite !== undefined || now - this.lastRenewAttemptAt < this.config.renewIntervalMs) return [];
    this.lastRenewAttemptAt = now;
    const record = this.record(this.epoch);
    this.pendingWrite = { kind: 'update', record, sentAt: now, acquiring: false };
    return [{ kind: 'update', record, revision: this.ownRevision }];
  }

  private tickStandby(now: number): ElectionEffect[] {
    if (this.pendingWrite !== undefined) return [];
    if (this.needRead || this.seen === undefined) {
      this.needRead = false;
      return [{ kind: 'read' }];
    }
    const o = this.seen.observation;
    if (o.kind === 'absent') return this.acquire(now, undefined, 'no leader');
    if (o.record.masterId === this.config.masterId) return this.acquire(now, o.revision, 'the record names this master (from an earlier run)');
    if (now - this.seen.at >= this.config.leaseMs) return this.acquire(now, o.revision, `the lease of ${o.record.masterId} expired`);
    if (this.noResponders >= this.config.noRespondersToTakeOver && now - this.seen.at >= 2 * this.config.renewIntervalMs) {
      return this.acquire(now, o.revision, `${o.record.masterId} is gone (${this.noResponders} pings had no responders)`);
    }
    if (this.leaderSaysStandby) return this.acquire(now, o.revision, `${o.record.masterId} says it does not lead`);
    if (this.pendingPing === undefined && now - this.lastPingAt >= this.config.probeIntervalMs) {
      this.pendingPing = o.revision;
      this.lastPingAt = now;
      return [{ kind: 'ping', masterId: o.record.masterId }];
    }
    return [];
  }

  private acquire(now: number, revision: number | undefined, why: string): ElectionEffect[] {
    const record = this.record(0);
    this.pendingWrite = { kind: revision === undefined ? 'create' : 'update', record, sentAt: now, acquiring: true };
    const log: ElectionEffect = { kind: 'log', level: 'info', msg: `trying to lead: ${why}` };
    return revision === undefined ? [log, { kind: 'create', record }] : [log, { kind: 'update', record, revision }];
  }

  private elected(revision: number, record: LeaderRecord, sentAt: number, now: number): ElectionEffect[] {
    this.move({ type: 'ELECTED', epoch: revision });
    this.ownRevision = revision;
    this.renewedSentAt = sentAt;
    this.sawOwnWrite(record, revision, now);
    this.lastRenewAttemptAt = Number.NEGATIVE_INFINITY; // write the epoch into the record at once
    return [
      { kind: 'log', level: 'info', msg: 'elected leader', data: { epoch: revision } },
      { kind: 'lead', epoch: revision },
      ...this.tickLeading(now),
    ];
  }

  /**
   * A write of ours succeeded: the key holds `record` at `revision`, whether or not the watch
   * says so (its consumer may sit on a NATS node cut off from us), so `leader` names this
   * master and its epoch. A later, newer observation replaces it as usual.
   */
  private sawOwnWrite(record: LeaderRecord, revision: number, now: number): void {
    if (this.seen !== undefined && this.seen.observation.revision >= revision) return;
    this.seen = { observation: { kind: 'record', record, revision }, at: now };
    this.noResponders = 0;
    this.leaderSaysStandby = false;
  }

  private depose(reason: string): ElectionEffect[] {
    if (!this.move({ type: 'DEPOSED', reason })) return [];
    this.pendingWrite = undefined;
    this.ready = false;
    return [{ kind: 'log', level: 'warn', msg: `stepping down: ${reason}` }, { kind: 'step-down', reason }];
  }

  private record(epoch: number): LeaderRecord {
    return { masterId: this.config.masterId, epoch, renewedAt: 0, ready: this.ready && epoch > 0, ...(this.config.url !== undefined && { url: this.config.url }) };
  }

  private move(event: LifecycleEvent): boolean {
    const next = nextLifecycle(this.lifecycle, event);
    if (next === undefined) return false;
    this.lifecycle = next;
    return true;
  }
}
