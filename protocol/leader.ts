/**
 * Leadership: the record a leading master keeps in the leader KV bucket, and the ping every
 * master answers on its own subject.
 *
 * The leader key holds a `LeaderRecord`. A master wins with `create` (or, taking over a
 * dead or expired leader, with `update` on the revision it last saw); the **epoch** of its
 * term is the KV revision of that winning write. The first write of a term cannot know its
 * own revision, so it carries `epoch: 0`, meaning "the revision of this entry"; every
 * renewal then carries the term's epoch. KV revisions only grow, so a later term always
 * has a larger epoch. Agents, executors and frameworks watch the key to learn the newest
 * epoch and drop messages of older ones.
 *
 * PING (request on `nesos.<c>.master.ping.<masterId>`): every master, leading or not,
 * answers it with PONG. Standbys ping the leader: "no responders" means its process (or
 * its connection) is gone, and they may take over at once instead of waiting out the lease.
 */
import { z } from 'zod';
import { defineUnion, message } from './union.js';
import { Epoch, Id } from './schema.js';

/** The value of the leader key. */
export const LeaderRecord = z.object({
  /** The leading master. */
  masterId: Id,
  /** The term's epoch; 0 in the term's first write (then the entry's revision is the epoch). */
  epoch: Epoch,
  /** Where the leader's HTTP endpoints are, when it serves any. */
  url: z.string().max(512).optional(),
  /** The leader's wall clock at this write (ms), for people; never used for timing. */
  renewedAt: z.number().nonnegative(),
  /**
   * True once the leader serves calls (registry loaded, subscriptions made). Agents and
   * frameworks register with a new term only then; a term's first write says false.
   * Absent (older records): ready.
   */
  ready: z.boolean().optional(),
});
/** The value of the leader key. */
export type LeaderRecord = z.infer<typeof LeaderRecord>;

/** The epoch a leader entry stands for: its record's, or its own revision in a term's first write. */
export function epochOf(record: LeaderRecord, revision: number): number {
  return record.epoch > 0 ? record.epoch : revision;
}

/** PING: are you alive, and what are you? */
export const Ping = message('PING', { from: Id });

/** Every request a master's ping subject takes. */
export const PingCall = defineUnion('PingCall', [Ping]);
/** Every request a master's ping subject takes. */
export type PingCall = z.infer<typeof PingCall.schema>;

/** PONG: the answer to PING: the master's id, whether it leads, and its epoch if so. */
export const Pong = message('PONG', { masterId: Id, leading: z.boolean(), epoch: Epoch.optional() });

/** The answers to PING. */
export const PingReply = defineUnion('PingReply', [Pong]);
/** The answers to PING. */
export type PingReply = z.infer<typeof PingReply.schema>;
