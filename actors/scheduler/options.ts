/**
 * The options of `Scheduler.connect`: one interface, every field documented with its
 * default, and `resolveOptions` that fills the defaults in and checks the values, so a
 * mistake is reported at `connect` with a message naming the field.
 */
import { randomUUID } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { isValidToken } from '../../protocol/subjects.js';
import { FrameworkInfo, type FrameworkCapability } from '../../protocol/schema.js';
import { InvalidOptionsError } from './errors.js';

/** How status updates are acknowledged. */
export type AcknowledgeMode = 'auto' | 'manual';

/** Who the framework is (Mesos's FrameworkInfo). */
export interface FrameworkOptions {
  /** Name shown to operators. */
  name: string;
  /** Identity the framework calls with; default: `name` (which must then be 1-128 of A-Z a-z 0-9 _ ~ -). */
  principal?: string;
  /** An existing framework's id, to fail over to it (resubscribe); default: a new `fw-<uuid>`. */
  id?: string;
  /** Roles the framework gets offers for; default `['*']`. */
  roles?: string[];
  /** Capabilities; default none. `PARTITION_AWARE` turns TASK_LOST into TASK_UNREACHABLE/GONE. */
  capabilities?: FrameworkCapability[];
  /** How long the master keeps the framework's tasks after it disconnects; default 0 (killed at once). */
  failoverTimeoutSeconds?: number;
  /** Default user tasks run as on agents; default: the agent's choice. */
  user?: string;
  /** Host the framework runs on, shown to operators; default: none. */
  hostname?: string;
}

/** Options of `Scheduler.connect`. Only `framework.name` is required. */
export interface SchedulerOptions {
  /** NATS server URL(s); default `nats://127.0.0.1:4222`. Ignored when `nc` is given. */
  servers?: string | string[];
  /** Cluster name, the second token of every subject; default `local`. */
  cluster?: string;
  /** Who the framework is. */
  framework: FrameworkOptions;
  /** A NATS connection to reuse; the SDK then does not close it. Default: the SDK opens its own. */
  nc?: NatsConnection;
  /** Root logger; the SDK logs through a child. Default: pino on stderr (level from NESOS_LOG_LEVEL, else info). */
  logger?: Logger;
  /** Time to wait for the master's answer to each call; default 2000 ms. */
  requestTimeoutMs?: number;
  /** Time to wait for SUBSCRIBED after SUBSCRIBE; default 5000 ms. */
  subscribeTimeoutMs?: number;
  /** `auto`: acknowledge an update once every `update` listener has resolved; `manual`: call `acknowledge`. Default `auto`. */
  acknowledge?: AcknowledgeMode;
  /**
   * An update not acknowledged within this long is delivered again (the ack wait of the
   * framework's consumer of the updates stream); what a process closed or died without
   * acknowledging reaches the framework's next process this long after it was delivered.
   * Default 10000 ms (Mesos resends after 10 s).
   */
  updateRedeliveryMs?: number;
  /** Ask for the state of every task (implicit RECONCILE) after each (re)subscribe; default true. */
  reconcileOnSubscribe?: boolean;
  /** Resubscribe when no event at all arrived for this many heartbeat intervals; default 5. */
  missedHeartbeats?: number;
  /** First pause between resubscribe attempts, doubled each time, ±50 % jitter; default 250 ms. */
  resubscribeBackoffMs?: number;
  /** Longest pause between resubscribe attempts; default 10000 ms. */
  maxResubscribeBackoffMs?: number;
  /** Events each `events()` iterator buffers before dropping the oldest; default 1024. */
  eventBufferSize?: number;
  /** Random source in [0, 1) for the jitter; default Math.random. */
  random?: () => number;
  /** Watch the leader KV key and resubscribe as soon as a new master leads; default true. */
  followLeader?: boolean;
  /** Longest random pause before resubscribing to a newly elected leader; default 100 ms. */
  resubscribeJitterMs?: number;
}

/** The options with every default filled in. */
export interface ResolvedOptions {
  servers: string | string[];
  cluster: string;
  framework: FrameworkInfo;
  nc: NatsConnection | undefined;
  logger: Logger | undefined;
  requestTimeoutMs: number;
  subscribeTimeoutMs: number;
  acknowledge: AcknowledgeMode;
  updateRedeliveryMs: number;
  reconcileOnSubscribe: boolean;
  missedHeartbeats: number;
  resubscribeBackoffMs: number;
  maxResubscribeBackoffMs: number;
  eventBufferSize: number;
  random: () => number;
  followLeader: boolean;
  resubscribeJitterMs: number;
}

/** The default of every optional setting. */
export const DEFAULTS = {
  servers: 'nats://127.0.0.1:4222',
  cluster: 'local',
  roles: ['*'],
  capabilities: [] as FrameworkCapability[],
  failoverTimeoutSeconds: 0,
  requestTimeoutMs: 2000,
  subscribeTimeoutMs: 5000,
  acknowledge: 'auto',
  updateRedeliveryMs: 10_000,
  reconcileOnSubscribe: true,
  missedHeartbeats: 5,
  resubscribeBackoffMs: 250,
  maxResubscribeBackoffMs: 10_000,
  eventBufferSize: 1024,
  followLeader: true,
  resubscribeJitterMs: 100,
} as const;

/** Makes a new framework id: `fw-<uuid>`. */
export function newFrameworkId(): string {
  return `fw-${randomUUID()}`;
}

/** Fills in defaults and checks every value; throws InvalidOptionsError naming the field. */
export function resolveOptions(options: SchedulerOptions, makeId: () => string = newFrameworkId): ResolvedOptions {
  const cluster = options.cluster ?? DEFAULTS.cluster;
  if (!isValidToken(cluster)) throw new InvalidOptionsError(`cluster "${cluster}" must be 1-128 of A-Z a-z 0-9 _ ~ -`);
  const resolved: ResolvedOptions = {
    servers: options.servers ?? DEFAULTS.servers,
    cluster,
    framework: frameworkInfo(options.framework, makeId),
    nc: options.nc,
    logger: options.logger,
    requestTimeoutMs: positive('requestTimeoutMs', options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs),
    subscribeTimeoutMs: positive('subscribeTimeoutMs', options.subscribeTimeoutMs ?? DEFAULTS.subscribeTimeoutMs),
    acknowledge: options.acknowledge ?? DEFAULTS.acknowledge,
    updateRedeliveryMs: positive('updateRedeliveryMs', options.updateRedeliveryMs ?? DEFAULTS.updateRedeliveryMs),
    reconcileOnSubscribe: options.reconcileOnSubscribe ?? DEFAULTS.reconcileOnSubscribe,
    missedHeartbeats: positive('missedHeartbeats', options.missedHeartbeats ?? DEFAULTS.missedHeartbeats),
    resubscribeBackoffMs: positive('resubscribeBackoffMs', options.resubscribeBackoffMs ?? DEFAULTS.resubscribeBackoffMs),
    maxResubscribeBackoffMs: positive('maxResubscribeBackoffMs', options.maxResubscribeBackoffMs ?? DEFAULTS.maxResubscribeBackoffMs),
    eventBufferSize: positive('eventBufferSize', options.eventBufferSize ?? DEFAULTS.eventBufferSize),
    random: options.random ?? Math.random,
    followLeader: options.followLeader ?? DEFAULTS.followLeader,
    resubscribeJitterMs: options.resubscribeJitterMs ?? DEFAULTS.resubscribeJitterMs,
  };
  if (resolved.acknowledge !== 'auto' && resolved.acknowledge !== 'manual') {
    throw new InvalidOptionsError(`acknowledge must be 'auto' or 'manual', got ${String(resolved.acknowledge)}`);
  }
  if (!Number.isInteger(resolved.missedHeartbeats)) throw new InvalidOptionsError('missedHeartbeats must be an integer');
  if (!Number.isInteger(resolved.eventBufferSize)) throw new InvalidOptionsError('eventBufferSize must be an integer');
  return resolved;
}

function frameworkInfo(fw: FrameworkOptions | undefined, makeId: () => string): FrameworkInfo {
  if (fw === undefined || typeof fw.name !== 'string') throw new InvalidOptionsError('framework.name is required');
  const principal = fw.principal ?? fw.name;
  if (!isValidToken(principal)) {
    throw new InvalidOptionsError(
      `framework.principal "${principal}" must be 1-128 of A-Z a-z 0-9 _ ~ -` +
        (fw.principal === undefined ? ' (it defaults to framework.name; set it explicitly)' : ''),
    );
  }
  const parsed = FrameworkInfo.safeParse({
    id: fw.id ?? makeId(),
    name: fw.name,
    principal,
    roles: fw.roles ?? [...DEFAULTS.roles],
    capabilities: fw.capabilities ?? [...DEFAULTS.capabilities],
    failoverTimeoutSeconds: fw.failoverTimeoutSeconds ?? DEFAULTS.failoverTimeoutSeconds,
    ...(fw.user !== undefined && { user: fw.user }),
    ...(fw.hostname !== undefined && { hostname: fw.hostname }),
  });
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `framework.${i.path.join('.')}: ${i.message}`).join('; ');
    throw new InvalidOptionsError(detail, { cause: parsed.error });
  }
  return parsed.data;
}

function positive(field: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionsError(`${field} must be a number > 0, got ${String(value)}`);
  }
  return value;
}
