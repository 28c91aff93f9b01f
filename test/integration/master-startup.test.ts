// A master started while JetStream is not serving yet (a JetStream cluster still forming,
// a server restarted without it) keeps trying to open the leader bucket instead of exiting,
// and leads once JetStream serves: here nats-server first runs without JetStream and is then
// restarted with it on the same port.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterEach, describe, expect, it } from 'vitest';
import { getState, waitForPort } from '../../bin/readiness.js';
import { NESOS_BIN, ROOT } from '../helpers/cluster.js';
import { freePort } from '../helpers/ports.js';
import { startProcess, stopProcess, type TestProcess } from '../helpers/processes.js';

const processes: TestProcess[] = [];
let nc: NatsConnection | undefined;
let dir = '';

afterEach(async () => {
  await nc?.close().catch(() => undefined);
  nc = undefined;
  for (const p of processes.reverse()) await stopProcess(p);
  processes.length = 0;
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

async function until(done: () => boolean | Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${processes.map((p) => `--- ${p.name}\n${p.output().slice(-3000)}`).join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('master start-up', () => {
  it('a master started before JetStream serves keeps trying, and leads once it does', async () => {
    dir = mkdtempSync(join(tmpdir(), 'nesos-startup-test-'));
    const port = await freePort();
    const cluster = `s${process.pid}${port}`;
    // nats-server without JetStream: every JetStream request is refused.
    const bare = startProcess('nats-bare', 'nats-server', ['-a', '127.0.0.1', '-p', String(port)], join(dir, 'nats-bare.log'));
    processes.push(bare);
    await waitForPort('127.0.0.1', port, 10_000);

    const master = startProcess('master-1', process.execPath, [NESOS_BIN, 'master', '--id', 'master-1', '--nats', `nats://127.0.0.1:${port}`, '--cluster', cluster, '--log-level', 'info'], join(dir, 'master-1.log'));
    processes.push(master);
    await until(() => master.output().includes('cannot open or watch the leader bucket yet'), 'the master to report that it retries', 20_000);
    await until(() => (master.output().match(/cannot open or watch the leader bucket yet/g) ?? []).length >= 2, 'a second attempt', 20_000);
    // It retried rather than exiting.
    expect(master.hasExited).toBe(false);

    // The same port, now with JetStream (the project's nats.conf).
    await stopProcess(bare);
    const full = startProcess('nats-server', 'nats-server', ['-c', join(ROOT, 'nats.conf'), '-p', String(port)], join(dir, 'nats.log'), { NESOS_NATS_STORE_DIR: join(dir, 'nats') });
    processes.push(full);
    await waitForPort('127.0.0.1', port, 10_000);

    nc = await connect({ servers: `nats://127.0.0.1:${port}`, name: 'test' });
    const conn = nc;
    await until(async () => (await getState(conn, cluster, 'test', 1000).catch(() => undefined))?.masterId === 'master-1', 'master-1 to lead', 30_000);
    expect(master.hasExited).toBe(false);
  }, 90_000);
});
