/**
 * A cluster for benchmarks: its own nats-server (free port, JetStream store in a temp
 * dir), its own cluster name, masters and agents as real processes from dist/, all stopped
 * by `stop()`. Logs go to the temp dir, which is removed unless NESOS_KEEP_BENCH_DIRS=1.
 * With NESOS_BENCH_PROFILE_DIR=<dir>, masters, agents (and bench:scale's simulator) write CPU profiles there when they
 * stop (`node --cpu-prof`; open them in Chrome's DevTools).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NATS_CONF, NESOS_BIN } from '../../bin/paths.js';
import { freePort } from '../../bin/ports.js';
import { waitForPort } from '../../bin/readiness.js';
import { Supervisor, stopChild, type Child } from '../../bin/supervisor.js';

/** Node flags for the cluster's processes: CPU profiles when NESOS_BENCH_PROFILE_DIR is set. */
export function nodeFlags(): string[] {
  const dir = process.env.NESOS_BENCH_PROFILE_DIR;
  return dir === undefined || dir === '' ? [] : ['--cpu-prof', '--cpu-prof-dir', dir];
}

/** A running benchmark cluster. */
export class BenchCluster {
  readonly name = `b${randomBytes(4).toString('hex')}`;
  readonly dir = mkdtempSync(join(tmpdir(), 'nesos-bench-'));
  readonly supervisor = new Supervisor(() => undefined);
  natsUrl = '';
  readonly masters = new Map<string, Child>();
  readonly agents: Child[] = [];

  /** Starts nats-server and waits for its port. */
  static async start(): Promise<BenchCluster> {
    const c = new BenchCluster();
    const port = await freePort();
    c.natsUrl = `nats://127.0.0.1:${port}`;
    mkdirSync(join(c.dir, 'nats'));
    c.supervisor.start('nats-server', 'nats-server', ['-c', NATS_CONF, '-p', String(port)], join(c.dir, 'nats.log'), { NESOS_NATS_STORE_DIR: join(c.dir, 'nats') });
    await waitForPort('127.0.0.1', port, 10_000);
    return c;
  }

  /** Flags every Nesos process of this cluster gets. */
  get common(): string[] {
    return ['--nats', this.natsUrl, '--cluster', this.name, '--log-level', process.env.NESOS_BENCH_LOG_LEVEL ?? 'warn'];
  }

  /** Starts a master process with `id` (with Node flags from NESOS_BENCH_MASTER_NODE_ARGS, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`). */
  startMaster(id: string, extra: string[] = []): Child {
    const nodeArgs = (process.env.NESOS_BENCH_MASTER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
    const child = this.supervisor.start(id, process.execPath, [...nodeFlags(), ...nodeArgs, NESOS_BIN, 'master', '--id', id, '--http-port', '0', ...this.common, ...extra], join(this.dir, `${id}.log`));
    this.masters.set(id, child);
    return child;
  }

  /** Starts an agent process with its own work dir. */
  startAgent(id: string, resources: string, extra: string[] = []): Child {
    const child = this.supervisor.start(id, process.execPath, [...nodeFlags(), NESOS_BIN, 'agent', '--id', id, '--work-dir', join(this.dir, id), '--resources', resources, ...this.common, ...extra], join(this.dir, `${id}.log`));
    this.agents.push(child);
    return child;
  }

  /** Stops one process (SIGTERM, SIGKILL after `graceMs`). */
  stopOne(child: Child, graceMs = 2000): Promise<void> {
    return stopChild(child, graceMs);
  }

  /** Stops everything (SIGKILL after 2 s, or 15 s when profiling: a starved process takes long to write its profile) and removes the temp dir. */
  async stop(): Promise<void> {
    await this.supervisor.stopAll(nodeFlags().length > 0 ? 15_000 : 2000);
    if (process.env.NESOS_KEEP_BENCH_DIRS !== '1') rmSync(this.dir, { recursive: true, force: true });
  }
}
