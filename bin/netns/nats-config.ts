/**
 * The nats-server configuration of one host of a multi-host cluster (pure): clients, routes
 * and monitoring on the host's own address, JetStream with its own store, routes to every
 * host (itself included, as a real deployment lists one same file everywhere), and pings
 * frequent enough that a dead client is found in seconds. (A route across a cut link is not:
 * 2.9.10 does not ping a route it keeps forwarding to; the hosts' `tcp_retries2` ends it,
 * see `HOST_TCP_RETRIES2` in net.ts.)
 */

/** Ports every host uses (each host has its own addresses, so they never collide). */
export const NATS_PORTS = { client: 4222, route: 6222, monitor: 8222 } as const;

/** What one host's server needs to know. */
export interface HostNatsOptions {
  /** Server name, unique in the cluster (e.g. `nats-h1`). */
  name: string;
  /** The host's address: the server listens there. */
  address: string;
  /** Every host's address, this one's included. */
  peers: readonly string[];
  /** The NATS cluster's name. */
  clusterName: string;
  storeDir: string;
  /** Seconds between pings to clients and routes (default 1); after `pingMax` (default 3) unanswered the connection is closed. */
  pingIntervalS?: number;
  pingMax?: number;
}

/** The configuration text of one host's nats-server. */
export function hostNatsConfig(o: HostNatsOptions): string {
  const routes = o.peers.map((p) => `nats-route://${p}:${NATS_PORTS.route}`).join(', ');
  return [
    `# written by bin/netns (multi-host cluster); see docs/deployment.md`,
    `server_name: ${o.name}`,
    `listen: ${o.address}:${NATS_PORTS.client}`,
    `http: ${o.address}:${NATS_PORTS.monitor}`,
    `max_payload: 4MB`,
    `write_deadline: "2s"`,
    `ping_interval: "${o.pingIntervalS ?? 1}s"`,
    `ping_max: ${o.pingMax ?? 3}`,
    `jetstream {`,
    `  store_dir: ${JSON.stringify(o.storeDir)}`,
    `  max_memory_store: 256MB`,
    `  max_file_store: 2GB`,
    `}`,
    `cluster {`,
    `  name: ${o.clusterName}`,
    `  listen: ${o.address}:${NATS_PORTS.route}`,
    `  routes: [${routes}]`,
    `}`,
    ``,
  ].join('\n');
}

/** The client URL of the server on the host at `address`. */
export function natsUrlOf(address: string): string {
  return `nats://${address}:${NATS_PORTS.client}`;
}
