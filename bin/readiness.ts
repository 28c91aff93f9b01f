/** Waiting for parts of a cluster to be ready: a TCP port, a master answering GET_STATE. */
import { createConnection } from 'node:net';
import type { NatsConnection } from '@nats-io/transport-node';
import { OperatorReply, type MasterSnapshot } from '../protocol/operator.js';
import { Subjects } from '../protocol/subjects.js';
import { request } from '../actors/runtime/request.js';

/** Resolves once something accepts TCP connections on host:port; rejects after `timeoutMs`. */
export async function waitForPort(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Asks the master for its state once. */
export async function getState(nc: NatsConnection, cluster: string, principal: string, timeoutMs = 2000): Promise<MasterSnapshot> {
  const reply = await request(nc, new Subjects(cluster).operatorCall(principal), { type: 'GET_STATE' }, OperatorReply, { timeoutMs });
  if (reply.type === 'REJECTED') throw new Error(`master refused GET_STATE: ${reply.code}: ${reply.reason}`);
  return reply.state;
}

/** Polls GET_STATE until `ready(state)` holds; rejects after `timeoutMs` with the last error. */
export async function waitForState(
  nc: NatsConnection,
  cluster: string,
  ready: (s: MasterSnapshot) => boolean,
  timeoutMs: number,
  principal = 'nesos-cli',
): Promise<MasterSnapshot> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const state = await getState(nc, cluster, principal, 1000);
      if (ready(state)) return state;
      last = new Error(`cluster not ready: ${state.agents.length} agents, ${state.frameworks.length} frameworks`);
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw last instanceof Error ? last : new Error(String(last));
    await new Promise((r) => setTimeout(r, 100));
  }
}
