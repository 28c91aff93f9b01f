// The source a master assembles (masterOperatorSource) on a real nats-server: sandbox reads
// reach the agent's files subject as the master's principal, and /files/read serves them;
// events derived from snapshots reach the event stream.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { masterOperatorSource, startOperatorHttp, type OperatorHttpServer } from '../../actors/http/index.js';
import { decode, encode } from '../../protocol/codec.js';
import { FilesCall } from '../../protocol/files.js';
import { Subjects } from '../../protocol/subjects.js';
import { TestCluster } from '../helpers/cluster.js';
import { FakeOperatorSource } from '../helpers/fake-operator-source.js';
import { SseReader } from '../helpers/sse-client.js';

let cluster: TestCluster;
let server: OperatorHttpServer;
const fake = new FakeOperatorSource({ masterId: 'm1' });
const subjectsSeen: string[] = [];

beforeAll(async () => {
  cluster = await TestCluster.start({ startActors: false });
  const agent = await cluster.connect();
  // A stand-in agent answering its files subject from a string.
  const content = Buffer.from('line one\nline two\n');
  agent.subscribe(new Subjects(cluster.name).agentFilesWildcard('a1'), {
    callback: (_err, msg) => {
      subjectsSeen.push(msg.subject);
      const call = decode(FilesCall, msg.data);
      if (!call.ok || call.value.type !== 'READ') {
        msg.respond(encode({ type: 'REJECTED', code: call.ok ? 'INVALID' : call.error.code, reason: call.ok ? 'READ only' : call.error.message }));
        return;
      }
      const { offset, length } = call.value;
      msg.respond(encode({ type: 'FILE_DATA', data: new Uint8Array(content.subarray(offset, offset + length)), offset, size: content.length }));
    },
  });
  await agent.flush();
  const nc = await cluster.connect();
  fake.addAgent('a1');
  fake.addFramework('f1');
  const source = masterOperatorSource({
    nc,
    cluster: cluster.name,
    role: () => fake.role(),
    snapshot: () => fake.snapshot(),
    call: (c) => fake.call(c),
    eventIntervalMs: 20,
  });
  server = await startOperatorHttp({ source, port: 0, uiDir: null, processMetrics: false });
}, 30_000);

afterAll(async () => {
  await server?.close();
  await cluster?.stop();
});

describe('masterOperatorSource', () => {
  it('reads sandbox files from the agent over NATS as principal "master"', async () => {
    const r = await fetch(`${server.url}/files/read?agent=a1&framework=f1&executor=t1&offset=9`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ data: 'line two\n', offset: 9, length: 9, size: 18 });
    expect(subjectsSeen).toEqual([new Subjects(cluster.name).agentFiles('a1', 'master')]);
  });

  it('answers 502 when no agent listens', async () => {
    const r = await fetch(`${server.url}/files/read?agent=a2&framework=f1&executor=t1`);
    expect(r.status).toBe(502);
  });

  it('derives events from snapshots while a client is connected', async () => {
    const s = await SseReader.open(`${server.url}/api/v1/events`);
    try {
      await s.waitFor('SUBSCRIBED');
      await new Promise((r) => setTimeout(r, 50));
      fake.launchTask('t1', 'f1', 'a1');
      fake.updateTask('t1', 'TASK_RUNNING');
      const added = await s.waitFor('TASK_ADDED', (e) => e.task.taskId === 't1');
      expect(added.task.frameworkId).toBe('f1');
      fake.updateTask('t1', 'TASK_FINISHED');
      await s.waitFor('TASK_UPDATED', (e) => e.task.taskId === 't1' && e.task.state === 'TASK_FINISHED');
    } finally {
      s.close();
    }
  });
});
