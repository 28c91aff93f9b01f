// The simulator's shared-inbox requests on a real nats-server: answers reach the right
// request, a subject nobody listens on and one nobody answers fail as nc.request's do, and
// publishes to the updates stream come back with the stream's sequence, once per message id.
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NoRespondersError, RequestTimeoutError, UpdateStreamError } from '../../actors/runtime/errors.js';
import { ensureUpdateStream } from '../../actors/runtime/update-stream.js';
import { InboxRequests } from '../../actors/simulator/inbox.js';
import { Buckets } from '../../protocol/buckets.js';
import { decode, encode } from '../../protocol/codec.js';
import { Subjects } from '../../protocol/subjects.js';
import { TaskSource, TaskState } from '../../protocol/task-state.js';
import { UpdateRecord, type StatusUpdateRecord } from '../../protocol/updates.js';
import { TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;
let nc: NatsConnection;
let inbox: InboxRequests;

beforeAll(async () => {
  cluster = await TestCluster.start({ startActors: false });
  nc = await cluster.connect();
  inbox = new InboxRequests(nc, 20);
});

afterAll(async () => {
  inbox?.close();
  await cluster?.stop();
});

const text = new TextEncoder();
const read = (data: Uint8Array) => new TextDecoder().decode(data);

function record(frameworkId: string, taskId: string, uuid: string): StatusUpdateRecord {
  return { type: 'STATUS_UPDATE', frameworkId, status: { taskId, state: TaskState.RUNNING, source: TaskSource.EXECUTOR, uuid, timestamp: 1 } };
}

describe('InboxRequests', () => {
  it('gives each request its own answer, many at once', async () => {
    const sub = nc.subscribe('echo.>', { callback: (_e, m) => void m.respond(text.encode(`${m.subject}:${read(m.data)}`)) });
    await nc.flush();
    const answers = await Promise.all(Array.from({ length: 300 }, (_, i) => inbox.request(`echo.${i % 7}`, text.encode(String(i)), 5000)));
    expect(answers.map((m) => read(m.data))).toEqual(Array.from({ length: 300 }, (_, i) => `echo.${i % 7}:${i}`));
    expect(inbox.inFlight).toBe(0);
    sub.unsubscribe();
  });

  it('rejects with NoRespondersError when nobody listens, RequestTimeoutError when nobody answers', async () => {
    await expect(inbox.request('nobody.here', text.encode('x'), 5000)).rejects.toBeInstanceOf(NoRespondersError);
    const sub = nc.subscribe('silent', { callback: () => undefined });
    await nc.flush();
    const t0 = performance.now();
    await expect(inbox.request('silent', text.encode('x'), 200)).rejects.toBeInstanceOf(RequestTimeoutError);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(190);
    expect(inbox.inFlight).toBe(0);
    sub.unsubscribe();
  });

  it('publishes to the updates stream: the stream sequence, a message id stored once, the record as sent', async () => {
    const cluster1 = 'inbox1';
    await ensureUpdateStream(nc, cluster1);
    const subjects = new Subjects(cluster1);
    const r1 = record('fw1', 'task-1', 'uuid-1');
    const subject = subjects.statusUpdate('fw1', 'task-1');
    const seq1 = await inbox.publishToStream(subject, encode(r1), 'uuid-1', 5000);
    const again = await inbox.publishToStream(subject, encode(r1), 'uuid-1', 5000);
    const seq2 = await inbox.publishToStream(subject, encode(record('fw1', 'task-1', 'uuid-2')), 'uuid-2', 5000);
    expect(seq1).toBeGreaterThan(0);
    expect(again).toBe(seq1); // a duplicate within the window: acknowledged with the first copy's sequence
    expect(seq2).toBe(seq1 + 1);
    const jsm = await jetstreamManager(nc);
    const stored = await jsm.streams.getMessage(new Buckets(cluster1).updates(), { seq: seq1 });
    const decoded = decode(UpdateRecord, stored!.data);
    expect(decoded.ok && decoded.value).toEqual(r1);
    expect(stored!.header?.get('Nats-Msg-Id')).toBe('uuid-1');
  });

  it('fails a publish with UpdateStreamError when no stream takes the subject', async () => {
    const subject = new Subjects('inbox-nostream').statusUpdate('fw1', 'task-1');
    await expect(inbox.publishToStream(subject, encode(record('fw1', 'task-1', 'u')), 'u', 5000)).rejects.toBeInstanceOf(UpdateStreamError);
  });

  it('rejects what is still waiting when closed, and every request after', async () => {
    const own = new InboxRequests(nc, 1000);
    const sub = nc.subscribe('silent2', { callback: () => undefined });
    await nc.flush();
    const waiting = own.request('silent2', text.encode('x'), 60_000);
    own.close();
    await expect(waiting).rejects.toBeInstanceOf(RequestTimeoutError);
    await expect(own.request('silent2', text.encode('x'), 60_000)).rejects.toBeInstanceOf(RequestTimeoutError);
    sub.unsubscribe();
  });
});
