/**
 * Tests of `nesos up` itself: each `nesos up` on a port and cluster name of its own, its data
 * under one temp dir per test file; `stopAll` stops every process the file started (and
 * anything left working under the dir) and removes the dir.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '../../actors/runtime/nats.js';
import { NESOS_BIN } from './cluster.js';
import { freePort } from './ports.js';
import { killProcessesUnder, startProcess, stopProcess, type TestProcess } from './processes.js';

/** A running `nesos up`. */
export interface UpCluster {
  up: TestProcess;
  natsUrl: string;
  cluster: string;
  /** Its `--data-dir`. */
  data: string;
}

/** Polls `get` every 100 ms until it gives a value (not undefined, null or false); throws after `timeoutMs`. */
export async function until<T>(get: () => T | Promise<T>, what: string, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (v !== undefined && v !== null && v !== false) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The pid of each child in the summary `nesos up` printed. */
export function summaryPids(out: string): Map<string, number> {
  return new Map([...out.matchAll(/^ {2}(\S+)\s+pid (\d+)\s+log /gm)].map((m) => [m[1] as string, Number(m[2])]));
}

/** The processes one test file starts: `nesos up`s and the commands run against them. */
export class UpProcesses {
  /** Where every process's data and log go. */
  readonly dir: string;
  private readonly started: TestProcess[] = [];
  private readonly connections: NatsConnection[] = [];

  constructor(prefix: string) {
    this.dir = mkdtempSync(join(tmpdir(), prefix));
  }

  /** Starts `nesos up` on a port and cluster of its own; resolves once it printed its summary. */
  async startUp(name: string, extra: string[], agentResources: string): Promise<UpCluster> {
    const port = await freePort();
    const cluster = `t${randomBytes(5).toString('hex')}`;
    const data = join(this.dir, name);
    const up = this.nesos(name, ['up', '--port', String(port), '--cluster', cluster, '--data-dir', data, '--http-port', '0', '--agent-resources', agentResources, ...extra]);
    await until(() => /is up/.test(up.output()) || up.hasExited, `${name} to report the cluster up`, 45_000);
    if (up.hasExited) throw new Error(`nesos up exited:\n${up.output()}`);
    return { up, natsUrl: `nats://127.0.0.1:${port}`, cluster, data };
  }

  /** Starts `nesos <args>`, its output in `<dir>/<name>.log`. */
  nesos(name: string, args: string[]): TestProcess {
    const p = startProcess(name, process.execPath, [NESOS_BIN, ...args], join(this.dir, `${name}.log`));
    this.started.push(p);
    return p;
  }

  /** Keeps `nc` to be closed by `stopAll`. */
  track(nc: NatsConnection): NatsConnection {
    this.connections.push(nc);
    return nc;
  }

  /** Closes the connections, stops every process (latest first, SIGKILL after `graceMs`), kills what is left under the dir, removes it. */
  async stopAll(graceMs: number): Promise<void> {
    for (const nc of this.connections) await nc.close().catch(() => undefined);
    for (const p of this.started.reverse()) await stopProcess(p, graceMs);
    await killProcessesUnder(this.dir);
    if (process.env.NESOS_KEEP_TEST_DIRS !== '1') rmSync(this.dir, { recursive: true, force: true });
  }
}
