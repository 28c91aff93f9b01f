/**
 * The processes of a chaos run: nats-server (one, or three in a JetStream cluster), three
 * masters, the agents and the workload framework, each started through the `nesos up`
 * supervisor (own process group, log file, `setpriv --pdeathsig SIGKILL`), each of which
 * can be SIGKILLed and started again with the same arguments, or SIGSTOPped and resumed.
 * `stop()` resumes and stops them all and kills whatever is left under the run's
 * directory (executors and tasks run detached), whatever happened before.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { freePort } from '../ports.js';
import { NESOS_BIN } from '../paths.js';
import { Supervisor, type Child } from '../supervisor.js';
import { natsConfig, natsUrls, type NatsNode } from './nats-config.js';
import { isAlive, killProcessesUnder } from './procs.js';

/** What a process of the run is. */
export type Role = 'nats' | 'master' | 'agent' | 'framework';

/** One process of the run, restartable. */
export interface RunProcess {
  name: string;
  role: Role;
  /** `running`, `stopped` (SIGSTOP), or `down` (killed, or exited, until started again). */
  state: 'running' | 'stopped' | 'down';
  child?: Child;
  /** Starts it (again). */
  start(): void;
}

/** How to build the run's cluster. */
export interface ChaosClusterOptions {
  dir: string;
  cluster: string;
  masters: number;
  agents: number;
  agentResources: string;
  natsCluster: boolean;
  logLevel: string;
  logger: Logger;
}

/** The run's processes. */
export class ChaosCluster {
  readonly processes: RunProcess[] = [];
  readonly supervisor: Supervisor;
  natsNodes: NatsNode[] = [];
  private stopped = false;

  constructor(readonly o: ChaosClusterOptions) {
    this.supervisor = new Supervisor((child, how) => {
      const p = this.processes.find((x) => x.child === child);
      if (p !== undefined && p.state !== 'down') {
        p.state = 'down';
        o.logger.warn({ process: child.name, how }, 'process exited by itself');
      }
    });
    mkdirSync(join(o.dir, 'logs'), { recursive: true });
  }

  /** NATS URLs for clients: every server's. */
  get servers(): string[] {
    return natsUrls(this.natsNodes);
  }

  /** Flags every Nesos process of the run gets. */
  get common(): string[] {
    return ['--nats', this.servers.join(','), '--cluster', this.o.cluster, '--log-level', this.o.logLevel];
  }

  /** Environment of every Nesos process: three JetStream replicas on a NATS cluster. */
  get env(): NodeJS.ProcessEnv {
    return { NESOS_JETSTREAM_REPLICAS: this.o.natsCluster ? '3' : '1' };
  }

  /** Starts nats-server (or three) and prepares the masters and agents (`startRole` starts them, once NATS listens). */
  async start(): Promise<void> {
    const n = this.o.natsCluster ? 3 : 1;
    for (let i = 1; i <= n; i++) {
      this.natsNodes.push({ name: `nats-${i}`, clientPort: await freePort(), ...(this.o.natsCluster && { routePort: await freePort() }), storeDir: join(this.o.dir, `nats-${i}`) });
    }
    for (const node of this.natsNodes) {
      const conf = join(this.o.dir, `${node.name}.conf`);
      writeFileSync(conf, natsConfig(node, `nesos-${this.o.cluster}`, this.o.natsCluster ? this.natsNodes : []));
      this.add(node.name, 'nats', 'nats-server', ['-c', conf]);
    }
    for (let i = 1; i <= this.o.masters; i++) {
      this.add(`master-${i}`, 'master', process.execPath, [NESOS_BIN, 'master', '--id', `master-${i}`, '--no-http', ...this.common], false);
    }
    for (let i = 1; i <= this.o.agents; i++) {
      const args = [NESOS_BIN, 'agent', '--id', `agent-${i}`, '--work-dir', this.agentDir(i), '--resources', this.o.agentResources, ...this.common];
      this.add(`agent-${i}`, 'agent', process.execPath, args, false);
    }
  }

  /** Starts every process of `role` that is down. */
  startRole(role: Role): void {
    for (const p of this.byRole(role)) if (p.state === 'down') p.start();
  }

  /** Adds the workload framework and starts it. */
  addFramework(configPath: string, script: string): RunProcess {
    return this.add('framework', 'framework', process.execPath, [script, configPath]);
  }

  /** The work dir of agent `i`. */
  agentDir(i: number): string {
    return join(this.o.dir, `agent-${i}`);
  }

  /** The run's processes of one role, by name. */
  byRole(role: Role): RunProcess[] {
    return this.processes.filter((p) => p.role === role);
  }

  /** The process called `name`. */
  get(name: string): RunProcess | undefined {
    return this.processes.find((p) => p.name === name);
  }

  private add(name: string, role: Role, command: string, args: string[], startNow = true): RunProcess {
    const log = join(this.o.dir, 'logs', `${name}.log`);
    const p: RunProcess = {
      name,
      role,
      state: 'down',
      start: () => {
        if (this.stopped) return;
        p.child = this.supervisor.start(name, command, args, log, this.env);
        p.state = 'running';
      },
    };
    this.processes.push(p);
    if (startNow) p.start();
    return p;
  }

  /** Sends `signal` to one process (not its group: executors live in groups of their own). */
  signal(p: RunProcess, signal: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT'): number | undefined {
    const pid = p.child?.process.pid;
    if (pid === undefined) return undefined;
    try {
      process.kill(pid, signal);
    } catch {
      // gone already
    }
    if (signal === 'SIGKILL') p.state = 'down';
    else if (signal === 'SIGSTOP') p.state = 'stopped';
    else if (p.state === 'stopped') p.state = 'running';
    return pid;
  }

  /** True when the process runs (or is paused) and its pid is alive. */
  alive(p: RunProcess): boolean {
    const pid = p.child?.process.pid;
    return p.state !== 'down' && pid !== undefined && isAlive(pid);
  }

  /** Resumes and stops every process, then kills anything left under the run's directory. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const p of this.processes) if (p.state === 'stopped') this.signal(p, 'SIGCONT');
    await this.supervisor.stopAll(3000);
    await killProcessesUnder(this.o.dir);
  }
}
