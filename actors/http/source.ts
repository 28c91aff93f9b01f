/**
 * Building an `OperatorSource` from the parts a master has: its role, a snapshot, its
 * operator-call handler and its NATS connection. Events come from snapshots (SnapshotEventFeed)
 * unless the master supplies its own `subscribeEvents`; sandbox reads go to the agents over
 * NATS. This is the whole wiring a master needs:
 *
 *     const http = await startOperatorHttp({
 *       port, logger,
 *       source: masterOperatorSource({ nc, cluster, role, snapshot, call, metrics }),
 *     });
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { ClusterState, OperatorApiCall, OperatorApiReply } from '../../protocol/operator-api.js';
import type { OperatorChangeEvent } from '../../protocol/operator-events.js';
import { natsAgentStateReader, natsFileReader } from './nats-files.js';
import { SnapshotEventFeed } from './snapshot-feed.js';
import type { MasterMetrics, MasterRole, OperatorSource } from './types.js';

/** The parts of a master that `masterOperatorSource` assembles. */
export interface MasterSourceParts {
  /** The master's NATS connection (for sandbox reads). */
  nc: NatsConnection;
  /** The cluster's name. */
  cluster: string;
  /** Principal the master reads sandboxes as (default "master"). */
  principal?: string;
  /** Who leads. */
  role: () => MasterRole;
  /** The cluster state now. */
  snapshot: () => Promise<ClusterState>;
  /** The master's operator-call handler (REJECTED UNKNOWN_TYPE for calls it does not implement). */
  call: (call: OperatorApiCall) => Promise<OperatorApiReply>;
  /** Counters for /metrics. */
  metrics?: () => MasterMetrics;
  /** The master's own change events; default: derived from snapshots every `eventIntervalMs`. */
  subscribeEvents?: (listener: (event: OperatorChangeEvent) => void) => () => void;
  /** Time between snapshots for derived events (default 250 ms). */
  eventIntervalMs?: number;
  /** Called when a snapshot for derived events fails. */
  onError?: (error: unknown) => void;
}

/** Assembles an `OperatorSource` from a master's parts. */
export function masterOperatorSource(parts: MasterSourceParts): OperatorSource {
  let subscribe = parts.subscribeEvents;
  if (subscribe === undefined) {
    const feed = new SnapshotEventFeed({
      snapshot: parts.snapshot,
      intervalMs: parts.eventIntervalMs ?? 250,
      ...(parts.onError !== undefined && { onError: parts.onError }),
    });
    subscribe = (listener) => feed.subscribe(listener);
  }
  const readFile = natsFileReader(parts.nc, parts.cluster, parts.principal ?? 'master');
  return {
    role: parts.role,
    snapshot: parts.snapshot,
    call: parts.call,
    subscribeEvents: subscribe,
    readFile,
    agentState: natsAgentStateReader(parts.nc, parts.cluster, parts.principal ?? 'master'),
    ...(parts.metrics !== undefined && { metrics: parts.metrics }),
  };
}
