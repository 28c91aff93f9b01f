/**
 * A Nesos cluster spread over the hosts of a virtual network: on each host a nats-server
 * (one JetStream cluster over all hosts, replicas 3), a master and an agent, each started
 * inside the host's namespace through the `nesos up` supervisor (own process group, log
 * file, `setpriv --pdeathsig SIGKILL`). Every Nesos process is given only its own host's
 * NATS server, as on real hosts: cut off, a host keeps its local bus but loses the others.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { NESOS_BIN } from '../paths.js';
import { waitForPort } from '../readiness.js';
import { Supervisor, type Child } from '../supervisor.js';
import { killProcessesUnder } from '../chaos/procs.js';
import { NATS_PORTS, hostNatsConfig, natsUrlOf } from './nats-config.js';
import type { Host, VirtualNetwork } from './net.js';

/** HTTP port of every master (on its host's address). */
export const MASTER_HTTP_PORT = 5050;

/** How to build the cluster. */
export interface MultiHostOptions {
  /** Holds `logs/`, each host's NATS store and agent work dir. */
  dir: string;
  /** Cluster name (subject prefix); default a random `mh<8 hex>`. */
  cluster?: string;
  /** Extra flags of every master (e.g. shorter heartbeats for tests). */
  masterArgs?: string[];
  /** Extra flags of every agent. */
  agentArgs?: string[];
  /** Resources of every agent; default `cpus:2;mem:1024;disk:1024;ports:[31000-31100]`. */
  agentResources?: string;
  logLevel?: string;
}

/** The processes of one host. */
export interface HostProcesses {
  host: Host;
  /** `nats://<address>:4222`. */
  natsUrl: string;
  /** `http://<address>:5050`. */
  httpUrl: string;
  masterId: string;
  agentId: string;
  nats?: Child;
  master?: Child;
  agent?: Child;
}

/** The cluster's processes on the network's hosts. */
export class MultiHostCluster {
  readonly cluster: string;
  readonly hosts: HostProcesses[];
  private readonly supervisor = new Supervisor(() => undefined);

  constructor(
    readonly net: VirtualNetwork,
    readonly o: MultiHostOptions,
  ) {
    this.cluster = o.cluster ?? `mh${randomBytes(4).toString('hex')}`;
    this.hosts = net.hosts.map((host) => ({
      host,
      natsUrl: natsUrlOf(host.address),
      httpUrl: `http://${host.address}:${MASTER_HTTP_PORT}`,
      masterId: `master-${host.name}`,
      agentId: `agent-${host.name}`,
    }));
    mkdirSync(join(o.dir, 'logs'), { recursive: true });
  }

  /** Every host's NATS URL. */
  get natsUrls(): string[] {
    return this.hosts.map((h) => h.natsUrl);
  }

  /** Environment of every Nesos process: three JetStream replicas (or one per host, if fewer). */
  get env(): NodeJS.ProcessEnv {
    return { NESOS_JETSTREAM_REPLICAS: String(Math.min(3, this.hosts.length)) };
  }

  /** The host processes of host `name` (`h1`…) or of the master `masterId`. */
  find(nameOrMaster: string): HostProcesses {
    const h = this.hosts.find((x) => x.host.name === nameOrMaster || x.masterId === nameOrMaster || x.agentId === nameOrMaster);
    if (h === undefined) throw new RangeError(`no host, master or agent "${nameOrMaster}" in this cluster`);
    return h;
  }

  /** The log file of process `name` (`nats-h1`, `master-h1`, `agent-h1`). */
  logFile(name: string): string {
    return join(this.o.dir, 'logs', `${name}.log`);
  }

  /** Starts every nats-server and waits until each listens, then every master and agent. */
  async start(timeoutMs = 20_000): Promise<void> {
    const addresses = this.hosts.map((h) => h.host.address);
    for (const h of this.hosts) {
      const name = `nats-${h.host.name}`;
      const conf = join(this.o.dir, `${name}.conf`);
      writeFileSync(conf, hostNatsConfig({ name, address: h.host.address, peers: addresses, clusterName: `nesos-${this.cluster}`, storeDir: join(this.o.dir, h.host.name, 'nats') }));
      h.nats = this.spawn(h.host, name, 'nats-server', ['-c', conf]);
    }
    await Promise.all(this.hosts.map((h) => waitForPort(h.host.address, NATS_PORTS.client, timeoutMs)));
    for (const h of this.hosts) h.master = this.startMaster(h);
    for (const h of this.hosts) h.agent = this.startAgent(h);
  }

  private common(h: HostProcesses): string[] {
    return ['--nats', h.natsUrl, '--cluster', this.cluster, '--log-level', this.o.logLevel ?? 'info'];
  }

  private startMaster(h: HostProcesses): Child {
    const peers = this.hosts.filter((x) => x !== h).map((x) => x.httpUrl);
    const args = [NESOS_BIN, 'master', '--id', h.masterId, '--http-host', h.host.address, '--http-port', String(MASTER_HTTP_PORT), ...(peers.length > 0 ? ['--peers', peers.join(',')] : [])];
    return this.spawn(h.host, h.masterId, process.execPath, [...args, ...this.common(h), ...(this.o.masterArgs ?? [])]);
  }

  private startAgent(h: HostProcesses): Child {
    const resources = this.o.agentResources ?? 'cpus:2;mem:1024;disk:1024;ports:[31000-31100]';
    const args = [NESOS_BIN, 'agent', '--id', h.agentId, '--hostname', h.host.address, '--work-dir', join(this.o.dir, h.host.name, 'agent'), '--resources', resources];
    return this.spawn(h.host, h.agentId, process.execPath, [...args, ...this.common(h), ...(this.o.agentArgs ?? [])]);
  }

  private spawn(host: Host, name: string, command: string, args: string[]): Child {
    const [file, argv] = this.net.command(host, command, args);
    return this.supervisor.start(name, file, argv, this.logFile(name), this.env);
  }

  /** Every process started so far. */
  children(): readonly Child[] {
    return this.supervisor.list();
  }

  /** Stops every process (agents and masters first, nats-servers last) and kills what is left under the directory. */
  async stop(): Promise<void> {
    await this.supervisor.stopAll(3000);
    await killProcessesUnder(this.o.dir);
  }
}
