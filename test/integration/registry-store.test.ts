// The registry's writes survive a JetStream outage longer than a few retries: a write queued
// while nats-server is down keeps being retried while the master leads, and lands once the
// server is back (before, it was given up after five attempts, ~1.5 s, and the next leader
// would not have known the change). A master that stops leading drops what is still waiting.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterEach, describe, expect, it } from 'vitest';
import { RegistryStore } from '../../actors/master/registry-store.js';
import { silentLogger } from '../../actors/runtime/logger.js';
import { waitForPort } from '../../bin/readiness.js';
import { ROOT } from '../helpers/cluster.js';
import { freePort } from '../helpers/ports.js';
import { startProcess, stopProcess, type TestProcess } from '../helpers/processes.js';

const processes: TestProcess[] = [];
const connections: NatsConnection[] = [];
let dir = '';

afterEach(async () => {
  for (const nc of connections.splice(0)) await nc.close().catch(() => undefined);
  for (const p of processes.splice(0).reverse()) await stopProcess(p);
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

async function startNats(port: number): Promise<TestProcess> {
  const p = startProcess('nats-server', 'nats-server', ['-c', join(ROOT, 'nats.conf'), '-p', String(port)], join(dir, 'nats.log'), { NESOS_NATS_STORE_DIR: join(dir, 'nats') });
  processes.push(p);
  await waitForPort('127.0.0.1', port, 10_000);
  return p;
}

describe('registry store', () => {
  it('retries a write through a 2 s outage of nats-server and lands it; once closed, drops what waits', async () => {
    dir = mkdtempSync(join(tmpdir(), 'nesos-registry-test-'));
    const port = await freePort();
    const cluster = `r${process.pid}${port}`;
    const first = await startNats(port);
    const nc = await connect({ servers: `nats://127.0.0.1:${port}`, name: 'test', maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    connections.push(nc);
    const store = await RegistryStore.open(nc, cluster, silentLogger(), () => true);
    store.write([{ op: 'put-role', role: { role: 'before', weight: 1 } }]);
    await store.flush();

    // nats-server goes away; a write queued now fails attempt after attempt.
    await stopProcess(first);
    store.write([{ op: 'put-role', role: { role: 'during', weight: 2 } }]);
    await new Promise((r) => setTimeout(r, 2000)); // longer than the five attempts (~1.5 s) that used to be all
    expect(store.backlog).toBe(1);

    // Back, with the same JetStream store: the write lands.
    await startNats(port);
    await store.flush();
    const contents = await store.load();
    expect(contents.roles?.map((r) => r.role).sort()).toEqual(['before', 'during']);

    // A store that stops leading gives up a write that cannot be made.
    const [second] = processes.slice(-1);
    await stopProcess(second!);
    store.write([{ op: 'put-role', role: { role: 'after', weight: 3 } }]);
    await new Promise((r) => setTimeout(r, 300));
    store.close();
    await store.flush();
    expect(store.backlog).toBe(0);
  }, 60_000);
});
