/**
 * nats-server configurations for a chaos run (pure): one server like `nats.conf`, or three
 * on loopback joined by routes into one JetStream cluster, each with its own store.
 */

/** Ports and store of one nats-server of a chaos run. */
export interface NatsNode {
  name: string;
  clientPort: number;
  /** Route port; only for a cluster. */
  routePort?: number;
  storeDir: string;
}

/** The configuration text of `node`; with `peers` (every node of the cluster, itself included), a cluster member. */
export function natsConfig(node: NatsNode, clusterName: string, peers: readonly NatsNode[] = []): string {
  const lines = [
    `# written by nesos chaos`,
    `server_name: ${node.name}`,
    `listen: 127.0.0.1:${node.clientPort}`,
    `max_payload: 4MB`,
    `write_deadline: "2s"`,
    `jetstream {`,
    `  store_dir: ${JSON.stringify(node.storeDir)}`,
    `  max_memory_store: 256MB`,
    `  max_file_store: 2GB`,
    `}`,
  ];
  if (peers.length > 0 && node.routePort !== undefined) {
    const routes = peers.map((p) => `nats-route://127.0.0.1:${p.routePort}`).join(', ');
    lines.push(`cluster {`, `  name: ${clusterName}`, `  listen: 127.0.0.1:${node.routePort}`, `  routes: [${routes}]`, `}`);
  }
  return lines.join('\n') + '\n';
}

/** The NATS URLs clients of the run are given, every server's. */
export function natsUrls(nodes: readonly NatsNode[]): string[] {
  return nodes.map((n) => `nats://127.0.0.1:${n.clientPort}`);
}
