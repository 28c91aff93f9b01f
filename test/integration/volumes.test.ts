// Persistent volumes on a real agent: a framework of role eng reserves disk, creates a
// volume and launches a task that writes into it; a later task using the same volume reads
// the file; DESTROY makes the agent remove the volume's directory.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Resources, buildTaskInfo, type Offer, type Scheduler } from '../../actors/scheduler/index.js';
import { TaskState } from '../../protocol/task-state.js';
import { connectFramework, offerFrom, recordUpdates, terminalOf, until } from '../helpers/agent-tests.js';
import { TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;
let sched: Scheduler;

beforeAll(async () => {
  cluster = await TestCluster.start({ agents: 1 });
  sched = await connectFramework(cluster, 'volumes', { framework: { name: 'volumes', roles: ['eng'] } });
});

afterAll(async () => {
  await sched?.close();
  await cluster?.stop();
});

const VOLUME = Resources.parse('disk(eng,dynamic)[data1:state]:64');

/** The next offer from agent-1 that holds the volume (others are declined briefly by `offerFrom`'s next call). */
async function offerWithVolume(): Promise<Offer> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const offer = await offerFrom(sched, 'agent-1');
    if (Resources.fromWire(offer.resources).contains(VOLUME)) return offer;
    await sched.decline([offer.id], { refuseSeconds: 0.1 });
    if (Date.now() > deadline) throw new Error(`no offer with the volume\n${cluster.logs()}`);
  }
}

describe('persistent volumes', () => {
  it('a file written into a volume by one task is read by a later one; DESTROY removes the directory', async () => {
    const updates = recordUpdates(sched);
    const dir = join(cluster.dir, 'agent-1', 'volumes', 'roles', 'eng', 'data1');

    const first = await offerFrom(sched, 'agent-1');
    const writer = buildTaskInfo(first, { name: 'writer', command: 'echo persisted > state/file', resources: Resources.parse('cpus:0.1;mem:32').add(VOLUME) });
    await sched.accept([first.id], [
      { type: 'RESERVE', resources: Resources.parse('disk(eng,dynamic):64').toWire() },
      { type: 'CREATE', volumes: VOLUME.toWire() },
      { type: 'LAUNCH', tasks: [writer] },
    ], { refuseSeconds: 0.1 });
    await until(() => terminalOf(updates, writer.taskId) !== undefined, 'the writer to end', 30_000, () => cluster.logs());
    expect(terminalOf(updates, writer.taskId)?.state).toBe(TaskState.FINISHED);
    expect(readFileSync(join(dir, 'file'), 'utf8')).toBe('persisted\n');

    // a later task, in another executor and sandbox, finds the file (exit 1 otherwise)
    const second = await offerWithVolume();
    const [reader] = await sched.launch(second, [{ name: 'reader', command: 'test "$(cat state/file)" = persisted', resources: Resources.parse('cpus:0.1;mem:32').add(VOLUME) }], { refuseSeconds: 0.1 });
    await until(() => terminalOf(updates, reader!.taskId) !== undefined, 'the reader to end', 30_000, () => cluster.logs());
    expect(terminalOf(updates, reader!.taskId)).toMatchObject({ state: TaskState.FINISHED, exitCode: 0 });
    expect(existsSync(dir)).toBe(true); // kept after both tasks ended

    const third = await offerWithVolume();
    await sched.accept([third.id], [{ type: 'DESTROY', volumes: VOLUME.toWire() }], { refuseSeconds: 0.1 });
    await until(() => !existsSync(dir), 'the volume directory to be removed', 30_000, () => cluster.logs());
  }, 120_000);
});
