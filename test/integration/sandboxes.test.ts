// Sandboxes on real processes: the `latest` link, the files API over NATS (LIST, and a
// following READ of a running task's stdout), and the garbage collector removing finished
// sandboxes after a short --gc-delay while keeping those of running tasks.
import { existsSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from '../../actors/runtime/request.js';
import type { Scheduler } from '../../actors/scheduler/index.js';
import { FilesListReply, FilesReply } from '../../protocol/files.js';
import { Subjects } from '../../protocol/subjects.js';
import { TaskState } from '../../protocol/task-state.js';
import { connectFramework, offerFrom, recordUpdates, statesOf, terminalOf, until } from '../helpers/agent-tests.js';
import { TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;
let sched: Scheduler;

beforeAll(async () => {
  cluster = await TestCluster.start({ agents: 1, agentArgs: ['--gc-delay', '2secs', '--gc-disk-headroom', '0', '--disk-watch-interval', '200ms'] });
  sched = await connectFramework(cluster, 'sandboxes');
});

afterAll(async () => {
  await sched?.close();
  await cluster?.stop();
});

function executorDir(executorId: string): string {
  return join(cluster.dir, 'agent-1', 'agents', 'agent-1', 'frameworks', sched.frameworkId, 'executors', executorId);
}

async function files<T extends typeof FilesReply | typeof FilesListReply>(call: object, replies: T) {
  const nc = await cluster.connect();
  return request(nc, new Subjects(cluster.name).agentFiles('agent-1', 'test'), call, replies, { timeoutMs: 10_000 });
}

describe('sandboxes', () => {
  it('the files API lists a running task\'s sandbox and follows its stdout as it grows', async () => {
    const updates = recordUpdates(sched);
    const offer = await offerFrom(sched, 'agent-1');
    const [task] = await sched.launch(offer, [{ name: 'talker', command: 'i=0; while true; do echo "line $i"; i=$((i+1)); sleep 0.2; done', resources: 'cpus:0.1;mem:32' }], { refuseSeconds: 0.1 });
    const id = task!.taskId;
    await until(() => statesOf(updates, id).includes(TaskState.RUNNING), 'RUNNING');
    expect(existsSync(join(executorDir(id), 'runs', readlinkSync(join(executorDir(id), 'runs', 'latest'))))).toBe(true);

    const listing = await files({ type: 'LIST', frameworkId: sched.frameworkId, executorId: id }, FilesListReply);
    expect(listing.type === 'FILE_LIST' && listing.entries.map((e) => e.name)).toEqual(expect.arrayContaining(['executor.log', 'stderr', 'stdout']));

    // follow: read on from where the last read ended, waiting for more each time
    let offset = 0;
    let text = '';
    while (!text.includes('line 3\n')) {
      const reply = await files({ type: 'READ', frameworkId: sched.frameworkId, executorId: id, path: 'stdout', offset, length: 4096, waitMs: 5000 }, FilesReply);
      if (reply.type === 'REJECTED') throw new Error(`${reply.code}: ${reply.reason}`);
      text += Buffer.from(reply.data).toString();
      offset += reply.data.byteLength;
    }
    expect(text.startsWith('line 0\nline 1\nline 2\nline 3\n')).toBe(true);
    await sched.kill(id, { agentId: 'agent-1', gracePeriodMs: 0 });
    await until(() => terminalOf(updates, id) !== undefined, 'the kill');
  });

  it('removes a finished sandbox after --gc-delay, and keeps the sandbox of a running task', async () => {
    const updates = recordUpdates(sched);
    const offer = await offerFrom(sched, 'agent-1');
    const [done, running] = await sched.launch(
      offer,
      [
        { name: 'quick', command: 'echo bye', resources: 'cpus:0.1;mem:32' },
        { name: 'long', command: 'sleep 60', resources: 'cpus:0.1;mem:32' },
      ],
      { refuseSeconds: 0.1 },
    );
    await until(() => terminalOf(updates, done!.taskId) !== undefined && statesOf(updates, running!.taskId).includes(TaskState.RUNNING), 'one end, one start');
    expect(existsSync(executorDir(done!.taskId))).toBe(true);
    await until(() => !existsSync(executorDir(done!.taskId)), 'the finished sandbox to be collected', 15_000, () => cluster.logs());
    expect(existsSync(join(executorDir(running!.taskId), 'runs', 'latest', 'stdout'))).toBe(true);
    await sched.kill(running!.taskId, { agentId: 'agent-1', gracePeriodMs: 0 });
    await until(() => terminalOf(updates, running!.taskId) !== undefined, 'the kill');
  });
});
