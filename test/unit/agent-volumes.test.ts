// Persistent volumes on the agent: which volumes a task uses and where they live (pure), the
// core's effects (prepared before the executor starts, kept for live tasks, removed when the
// master's checkpointed resources no longer hold them), and the file system work in a temp
// dir (a link in the sandbox, the directory outliving the sandbox's removal).
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, lstatSync, mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { prepareVolumes, syncVolumes, volumeDir, volumesOf, volumesToRemove } from '../../actors/agent/volumes.js';
import { Resources } from '../../protocol/resources.js';
import { TaskState } from '../../protocol/task-state.js';
import { AgentHarness, ofKind } from '../harness/agent-harness.js';

const VOLUME = 'cpus:1;mem:128;disk(eng,dynamic)[data1:var/data]:64';
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('volumes, pure', () => {
  it('finds the volumes of a task and places them under volumes/roles (a / of a role as a space)', () => {
    const wire = Resources.parse('cpus:1;disk(eng/web,dynamic)[v1:data]:10;disk(eng)[v2]:5;disk(eng):5').toWire();
    expect(volumesOf(wire)).toEqual([
      { role: 'eng', id: 'v2', path: 'v2' },
      { role: 'eng/web', id: 'v1', path: 'data' },
    ]);
    expect(volumeDir('/w', 'eng/web', 'v1')).toBe('/w/volumes/roles/eng web/v1');
    expect(volumesToRemove(['eng/v1', 'eng web/v2', 'ops/v3'], [{ role: 'eng/web', id: 'v2' }, { role: 'ops', id: 'v3' }])).toEqual(['eng/v1']);
  });
});

describe('agent core: volumes', () => {
  it('prepares a task\'s volumes in its sandbox before its executor starts', () => {
    const h = new AgentHarness();
    h.register();
    const effects = h.runTask('t1', 'f1', { resources: Resources.parse(VOLUME).toWire() });
    expect(effects.map((e) => e.kind)).toEqual(['prepare-volumes', 'launch-executor']);
    expect(ofKind(effects, 'prepare-volumes')[0]).toMatchObject({ executorId: 't1', runId: 'run-1', dir: '', volumes: [{ role: 'eng', id: 'data1', path: 'var/data' }] });
  });

  it('prepares a group task\'s volumes in its own directory', () => {
    const h = new AgentHarness();
    h.register();
    const task = { taskId: 'g1', name: 'g1', agentId: 'a1', resources: Resources.parse(VOLUME).toWire(), command: { value: 'true', environment: {} } };
    const effects = h.master({ type: 'RUN_TASK_GROUP', frameworkId: 'f1', framework: { id: 'f1', name: 'f1', principal: 'p', roles: ['eng'], capabilities: [], failoverTimeoutSeconds: 0 }, executorId: 'e1', tasks: [task] });
    expect(ofKind(effects, 'prepare-volumes')[0]).toMatchObject({ dir: 'tasks/g1' });
  });

  it('keeps the volumes live tasks use and those the master lists; the rest go', () => {
    const h = new AgentHarness();
    h.launched('t1', 'f1', { resources: Resources.parse(VOLUME).toWire() });
    const listed = Resources.parse('disk(eng,dynamic)[other:x]:1').toWire();
    const sync = ofKind(h.master({ type: 'CHECKPOINT_RESOURCES', resources: listed }), 'sync-volumes');
    expect(sync).toEqual([{ kind: 'sync-volumes', keep: [{ role: 'eng', id: 'other', path: 'x' }, { role: 'eng', id: 'data1', path: 'var/data' }] }]);
    // once the task has ended, only what the master lists is kept
    h.update('t1', TaskState.FINISHED);
    expect(ofKind(h.master({ type: 'CHECKPOINT_RESOURCES', resources: [] }), 'sync-volumes')).toEqual([{ kind: 'sync-volumes', keep: [] }]);
  });
});

describe('volumes on the file system', () => {
  const work = mkdtempSync(join(tmpdir(), 'nesos-volumes-'));
  dirs.push(work);

  it('links the volume into the sandbox; it outlives the sandbox; sync removes only what is not kept', async () => {
    const sandbox = join(work, 'agents', 'a1', 'run-1');
    mkdirSync(sandbox, { recursive: true });
    const v = { role: 'eng/web', id: 'data1', path: 'var/data' };
    await prepareVolumes(work, sandbox, [v]);
    expect(lstatSync(join(sandbox, 'var/data')).isSymbolicLink()).toBe(true);
    writeFileSync(join(sandbox, 'var/data', 'f'), 'kept');
    await rm(sandbox, { recursive: true, force: true }); // what sandbox GC does
    expect(readFileSync(join(volumeDir(work, 'eng/web', 'data1'), 'f'), 'utf8')).toBe('kept');
    // prepared again in a later sandbox: same files
    const later = join(work, 'agents', 'a1', 'run-2');
    await prepareVolumes(work, later, [v]);
    expect(readFileSync(join(later, 'var/data', 'f'), 'utf8')).toBe('kept');
    await prepareVolumes(work, later, [{ role: 'ops', id: 'gone', path: 'g' }]);
    expect(await syncVolumes(work, [v])).toEqual(['ops/gone']);
    expect(existsSync(volumeDir(work, 'eng/web', 'data1'))).toBe(true);
    expect(existsSync(volumeDir(work, 'ops', 'gone'))).toBe(false);
  });

  it('refuses a path that leaves the sandbox', async () => {
    await expect(prepareVolumes(work, join(work, 's'), [{ role: 'eng', id: 'v', path: '../escape' }])).rejects.toThrow('may not contain ".."');
  });
});
