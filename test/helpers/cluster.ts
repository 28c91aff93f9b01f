/**
 * A test cluster of real processes: its own nats-server (free port, own JetStream store),
 * its own cluster name (subject prefix), work dirs under a fresh temp dir, a master and
 * agents started from the built CLI. `stop()` stops every process, even after a failure.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { getState, waitForPort, waitForState } from '../../bin/readiness.js';
import type { MasterSnapshot } from '../../protocol/operator.js';
import { freePort } from './ports.js';
import { killProcessesUnder, startProcess, stopProcess, type TestProcess } from './processes.js';

/** Repository root. */
export const ROOT = resolve(import.meta.dirname, '..', '..');
/** The built CLI. */
export const NESOS_BIN = join(ROOT, 'dist', 'bin', 'nesos.js');

/** Options of a test cluster. */
export interface TestClusterOptions {
  /** Masters to start (default 1); one leads, the others stand by. */
  masters?: number;
  agents?: number;
  /** Resources of every agent (default cpus:2;mem:1024;disk:1024;ports:[31000-31100]). */
  agentResources?: string;
  /** Extra flags for the master. */
  masterArgs?: string[];
  /** Extra flags for the agents. */
  agentArgs?: string[];
  /** Start the master and agents (default true); false gives just nats-server. */
  startActors?: boolean;
}

/** A running test cluster. */
export class TestCluster {
  readonly name = `t${randomBytes(5).toString('hex')}`;
  readonly dir = mkdtempSync(join(tmpdir(), 'nesos-test-'));
  readonly processes: TestProcess[] = [];
  port = 0;
  natsUrl = '';
  nats: TestProcess | undefined;
  /** The first master started (the leader of a one-master cluster). */
  master: TestProcess | undefined;
  masters: TestProcess[] = [];
  agents: TestProcess[] = [];
  private connections: NatsConnection[] = [];

  /** Starts nats-server, then (unless told otherwise) a master and the agents, and waits until they registered. */
  static async start(options: TestClusterOptions = {}): Promise<TestCluster> {
    if (!existsSync(NESOS_BIN)) throw new Error(`${NESOS_BIN} is missing: run \`npm run build\` first (npm test does)`);
    const c = new TestCluster();
    try {
      await c.startNats();
      if (options.startActors !== false) {
        for (let i = 1; i <= (options.masters ?? 1); i++) c.startMaster(options.masterArgs ?? [], `master-${i}`);
        for (let i = 1; i <= (options.agents ?? 2); i++) c.startAgent(`agent-${i}`, options.agentResources, options.agentArgs ?? []);
        await c.waitForAgents(options.agents ?? 2);
      }
      return c;
    } catch (e) {
      await c.stop();
      throw e;
    }
  }

  /** Flags every Nesos process of this cluster gets. */
  get commonArgs(): string[] {
    return ['--nats', this.natsUrl, '--cluster', this.name, '--log-level', process.env.NESOS_TEST_LOG_LEVEL ?? 'info'];
  }

  private async startNats(): Promise<void> {
    this.port = await freePort();
    this.natsUrl = `nats://127.0.0.1:${this.port}`;
    this.nats = this.track(
      startProcess('nats-server', 'nats-server', ['-c', join(ROOT, 'nats.conf'), '-p', String(this.port)], join(this.dir, 'nats.log'), {
        NESOS_NATS_STORE_DIR: join(this.dir, 'nats'),
      }),
    );
    await waitForPort('127.0.0.1', this.port, 10_000);
  }

  /** Starts a master process. */
  startMaster(extra: string[] = [], id = 'master-1'): TestProcess {
    const p = this.track(startProcess(id, process.execPath, [NESOS_BIN, 'master', '--id', id, '--http-port', '0', ...this.commonArgs, ...extra], join(this.dir, `${id}.log`)));
    this.master ??= p;
    this.masters.push(p);
    return p;
  }

  /** The process of the master that leads now (by the state it serves). */
  async leader(): Promise<TestProcess> {
    const state = await this.state();
    const p = this.masters.find((m) => m.name === state.masterId && !m.hasExited);
    if (p === undefined) throw new Error(`the leader ${state.masterId} is not one of this cluster's running masters`);
    return p;
  }

  /** The HTTP URL master `p` logged when it started listening (its log is written asynchronously: waits for it, at most 15 s). */
  async httpUrl(p: TestProcess): Promise<string> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const m = /"url":"([^"]+)","msg":"http server listening"/.exec(p.output());
      if (m?.[1] !== undefined) return m[1];
      if (Date.now() > deadline) throw new Error(`${p.name} logged no HTTP URL:\n${p.output().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Starts an agent process with its own work dir. */
  startAgent(id: string, resources = 'cpus:2;mem:1024;disk:1024;ports:[31000-31100]', extra: string[] = []): TestProcess {
    const p = this.track(
      startProcess(id, process.execPath, [NESOS_BIN, 'agent', '--id', id, '--work-dir', join(this.dir, id), '--resources', resources, ...this.commonArgs, ...extra], join(this.dir, `${id}.log`)),
    );
    this.agents.push(p);
    return p;
  }

  /** Starts a long-running `nesos <args>` process of this cluster (e.g. `simulate`); `stop()` stops it. */
  startNesos(name: string, args: string[]): TestProcess {
    return this.track(startProcess(name, process.execPath, [NESOS_BIN, ...args], join(this.dir, `${name}.log`)));
  }

  /** Runs the CLI once and returns its exit code and output. */
  async cli(args: string[], timeoutMs = 30_000): Promise<{ code: number | null; output: string }> {
    const p = this.track(startProcess(`cli-${args[0] ?? ''}`, process.execPath, [NESOS_BIN, ...args], join(this.dir, `cli-${randomBytes(3).toString('hex')}.log`)));
    const timer = setTimeout(() => void stopProcess(p, 1000), timeoutMs);
    const { code } = await p.exited;
    clearTimeout(timer);
    return { code, output: p.output() };
  }

  /** A NATS connection closed by `stop()`. */
  async connect(): Promise<NatsConnection> {
    const nc = await connect({ servers: this.natsUrl, name: 'test' });
    this.connections.push(nc);
    return nc;
  }

  /** The master's state now. */
  async state(): Promise<MasterSnapshot> {
    const nc = this.connections[0] ?? (await this.connect());
    return getState(nc, this.name, 'test');
  }

  /** Waits until `ready(state)` holds. */
  async waitFor(ready: (s: MasterSnapshot) => boolean, timeoutMs = 15_000): Promise<MasterSnapshot> {
    const nc = this.connections[0] ?? (await this.connect());
    return waitForState(nc, this.name, ready, timeoutMs, 'test');
  }

  /** Waits until `n` agents are active. */
  waitForAgents(n: number, timeoutMs = 15_000): Promise<MasterSnapshot> {
    return this.waitFor((s) => s.agents.filter((a) => a.status === 'active').length >= n, timeoutMs);
  }

  /** Logs of every process, for failure messages. */
  logs(): string {
    return this.processes.map((p) => `--- ${p.name} (${p.logFile})\n${p.output().slice(-4000)}`).join('\n');
  }

  /** Stops every process (agents first, nats-server last) and removes the temp dir. */
  async stop(): Promise<void> {
    for (const nc of this.connections) await nc.close().catch(() => undefined);
    this.connections = [];
    const order = [...this.processes].reverse().filter((p) => p !== this.nats);
    await Promise.all(order.map((p) => stopProcess(p)));
    if (this.nats !== undefined) await stopProcess(this.nats);
    // Executors and tasks run detached (their own process groups) in sandboxes under this
    // cluster's dir: any the agents left behind (an agent killed by a test) are killed here.
    await killProcessesUnder(this.dir);
    if (process.env.NESOS_KEEP_TEST_DIRS !== '1') rmSync(this.dir, { recursive: true, force: true });
  }

  private track(p: TestProcess): TestProcess {
    this.processes.push(p);
    return p;
  }
}
