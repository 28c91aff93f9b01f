/**
 * JetStream KV as Nesos uses it: opening a cluster's buckets with one set of options
 * everywhere (so any process may create them first), writes that report CAS conflicts as
 * data, and a watch of the leader key that every kind of process shares.
 */
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { Kvm, type KV, type KvEntry } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { Buckets, LEADER_KEY } from '../../protocol/buckets.js';
import { decode, encode as encodeEntry } from '../../protocol/codec.js';
import { LeaderRecord, epochOf } from '../../protocol/leader.js';
import { defineUnion, message } from '../../protocol/union.js';
import { KvError } from './errors.js';
import { jetStreamReplicas } from './replicas.js';

/** The result of a conditional write: the new revision, or a conflict (the key changed meanwhile). */
export type CasResult = { kind: 'ok'; revision: number } | { kind: 'conflict' };

/** Opens (creating if missing) the cluster's leader bucket. */
export function openLeaderBucket(nc: NatsConnection, cluster: string, timeoutMs = 2000): Promise<KV> {
  return openBucket(nc, new Buckets(cluster).leader(), timeoutMs);
}

/** Opens (creating if missing) the cluster's registry bucket. */
export function openRegistryBucket(nc: NatsConnection, cluster: string, timeoutMs = 2000): Promise<KV> {
  return openBucket(nc, new Buckets(cluster).registry(), timeoutMs);
}

async function openBucket(nc: NatsConnection, name: string, timeoutMs: number): Promise<KV> {
  const replicas = jetStreamReplicas(); // a bad setting is not retryable: outside the try
  try {
    // History 1, no max age, the replica count of NESOS_JETSTREAM_REPLICAS: every process
    // asks for the same settings, so whoever comes first creates the bucket and the others
    // open it.
    return await new Kvm(nc).create(name, { history: 1, timeout: timeoutMs, replicas });
  } catch (cause) {
    throw new KvError(`cannot open KV bucket ${name}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** True when `e` is JetStream refusing a write because the key's revision was not the expected one. */
export function isWrongRevision(e: unknown): boolean {
  return (
    e instanceof JetStreamApiError &&
    (e.code === JetStreamApiCodes.StreamWrongLastSequence || e.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

/** `create` that reports "the key exists" as a conflict. Other failures throw. */
export async function casCreate(kv: KV, key: string, value: Uint8Array): Promise<CasResult> {
  try {
    return { kind: 'ok', revision: await kv.create(key, value) };
  } catch (e) {
    if (isWrongRevision(e)) return { kind: 'conflict' };
    throw e;
  }
}

/** `update` on `revision` that reports a changed key as a conflict. Other failures throw. */
export async function casUpdate(kv: KV, key: string, value: Uint8Array, revision: number, timeoutMs?: number): Promise<CasResult> {
  try {
    return { kind: 'ok', revision: await kv.update(key, value, revision, timeoutMs) };
  } catch (e) {
    if (isWrongRevision(e)) return { kind: 'conflict' };
    throw e;
  }
}

const LeaderEntry = defineUnion('LeaderEntry', [message('LEADER', { record: LeaderRecord })]);

/** The leader key's value, decoded; undefined when absent, deleted or not a valid record. */
export function leaderOf(entry: KvEntry | null): { record: LeaderRecord; revision: number; epoch: number } | undefined {
  if (entry === null || entry.operation !== 'PUT') return undefined;
  const decoded = decode(LeaderEntry, entry.value);
  if (!decoded.ok) return undefined;
  return { record: decoded.value.record, revision: entry.revision, epoch: epochOf(decoded.value.record, entry.revision) };
}

/** Encodes a leader record as the leader key's value. */
export function encodeLeader(record: LeaderRecord): Uint8Array {
  return encodeEntry({ type: 'LEADER', record });
}

/** What a leader watch reports: the key's state at `revision`. */
export type LeaderChange =
  | { kind: 'record'; record: LeaderRecord; revision: number; epoch: number }
  | { kind: 'absent'; revision: number };

/** A running watch of the leader key. */
export interface LeaderWatch {
  /** Stops watching. */
  stop(): void;
}

/**
 * Watches the leader key: `onChange` gets its current state first, then every change. The
 * watch survives JetStream hiccups (it is an ordered consumer that re-creates itself).
 */
export async function watchLeader(kv: KV, onChange: (change: LeaderChange) => void): Promise<LeaderWatch> {
  const iterator = await kv.watch({ key: LEADER_KEY });
  void (async () => {
    for await (const entry of iterator) {
      const leader = leaderOf(entry);
      onChange(leader === undefined ? { kind: 'absent', revision: entry.revision } : { kind: 'record', ...leader });
    }
  })().catch(() => undefined);
  return { stop: () => iterator.stop() };
}
