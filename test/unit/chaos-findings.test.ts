// Bugs `nesos chaos` found, each kept as a regression check (one marked `it.fails` while
// it is open: once a fix lands, vitest reports it passing unexpectedly — then drop `.fails`).
import { describe, expect, it } from 'vitest';
import { Resources } from '../../protocol/resources.js';
import { canTransition } from '../../protocol/task-lifecycle.js';
import { TaskReason, TaskState } from '../../protocol/task-state.js';
import { MasterHarness, published } from '../harness/master-harness.js';

const S = TaskState;

describe('found by nesos chaos', () => {
  // Seed 101, 120 s (`npm run chaos -- --duration 120 --seed 101`): agent-3 was SIGSTOPped
  // for 6.9 s; the framework launched on it meanwhile (the master had not missed 5
  // heartbeats yet); the master published TASK_UNREACHABLE; agent-3 resumed, got the
  // RUN_TASK and registered again with the task still TASK_STAGING; the master published
  // TASK_STAGING (REASON_RECONCILIATION, with a uuid: a stream update). The framework saw
  // UNREACHABLE → STAGING, which the task lifecycle forbids (TASK_TRANSITIONS[UNREACHABLE]
  // has no STAGING). actors/master/agents.ts reconcileReportedTasks sets
  // `existing.state = r.state` without asking the lifecycle and setStatusFromAgent
  // publishes it.
  it('a task UNREACHABLE whose agent comes back with it STAGING is not reported STAGING (an illegal move)', () => {
    const h = new MasterHarness();
    h.registerAgent('a1');
    h.subscribe('f1', ['PARTITION_AWARE']);
    const { offerId } = h.offer('f1', 'a1');
    h.launch('f1', offerId, { taskId: 't1', agentId: 'a1' });
    h.now += 6000; // 5 missed heartbeats
    expect(published(h.core.onTick(h.now), 'f1')[0]?.state).toBe(S.UNREACHABLE);
    const back = h.agent({
      type: 'REGISTER_AGENT',
      agent: { id: 'a1', hostname: 'a1.local', resources: Resources.parse('cpus:4;mem:4096').toWire(), attributes: {} },
      tasks: [{ frameworkId: 'f1', task: h.core.state.tasks.get('f1/t1')!.info, state: S.STAGING }],
    });
    for (const status of published(back.effects, 'f1')) {
      expect(status.reason).toBe(TaskReason.RECONCILIATION);
      expect(canTransition(S.UNREACHABLE, status.state), `UNREACHABLE → ${status.state}`).toBe(true);
    }
    // the master knows the task is staging again, and the agent's RUNNING (a legal move from UNREACHABLE for the framework) is taken
    expect(h.core.state.tasks.get('f1/t1')?.state).toBe(S.STAGING);
  });

  // Seed 202, --nats-cluster: the agent published RUNNING then FINISHED; the leader had
  // read only RUNNING when it declared the agent unreachable, and published UNREACHABLE
  // after FINISHED. The master's updates now say which update they follow (the stream
  // refuses them when the task has a newer one, tested in update-stream.test.ts), and an
  // update read late from an unreachable agent's task is answered by the core again.
  it("a master-made update names the task's last update the master applied; one read later from an unreachable agent is decided again", () => {
    const h = new MasterHarness();
    h.registerAgent('a1');
    h.subscribe('f1', ['PARTITION_AWARE']);
    const { offerId } = h.offer('f1', 'a1');
    h.launch('f1', offerId, { taskId: 't1', agentId: 'a1' });
    const running = h.update('a1', 'f1', 't1', S.RUNNING);
    h.now += 6000; // 5 missed heartbeats
    const tick = h.core.onTick(h.now);
    const unreachable = tick.find((e) => e.kind === 'publish-update');
    expect(unreachable).toMatchObject({ kind: 'publish-update', status: { state: S.UNREACHABLE }, afterSeq: running.seq });
    // the stream refused it: the agent's FINISHED came first; read now, it ends the task, and nothing more is said
    const finished = h.update('a1', 'f1', 't1', S.FINISHED);
    expect(published(finished.effects, 'f1')).toEqual([]);
    expect(h.core.state.completedTasks.get('f1/t1')?.state).toBe(S.FINISHED);
    // and the shell, about to publish the UNREACHABLE decided on RUNNING's sequence, learns it is stale
    expect(h.core.appliedAfter('f1', 't1', running.seq)).toBe(true);
    expect(h.core.appliedAfter('f1', 't1', finished.seq)).toBe(false);
    // a second task whose late update is not terminal: the framework hears UNREACHABLE again, after that update
    h.registerAgent('a2');
    const second = h.offer('f1', 'a2');
    h.launch('f1', second.offerId, { taskId: 't2', agentId: 'a2' });
    h.update('a2', 'f1', 't2', S.STARTING);
    h.now += 6000;
    h.core.onTick(h.now);
    const late = h.update('a2', 'f1', 't2', S.RUNNING);
    const again = late.effects.find((e) => e.kind === 'publish-update');
    expect(again).toMatchObject({ status: { state: S.UNREACHABLE }, afterSeq: late.seq });
    expect(h.core.state.tasks.get('f1/t2')?.state).toBe(S.UNREACHABLE);
  });

  // Seed 107812, 600 s: a task UNREACHABLE came back silently STAGING and went out of
  // reach again; the framework was told UNREACHABLE twice (no such move in the lifecycle).
  it('does not tell a framework UNREACHABLE twice in a row', () => {
    const h = new MasterHarness();
    h.registerAgent('a1');
    h.subscribe('f1', ['PARTITION_AWARE']);
    const { offerId } = h.offer('f1', 'a1');
    h.launch('f1', offerId, { taskId: 't1', agentId: 'a1' });
    h.now += 6000;
    expect(published(h.core.onTick(h.now), 'f1').map((s) => s.state)).toEqual([S.UNREACHABLE]);
    h.agent({
      type: 'REGISTER_AGENT',
      agent: { id: 'a1', hostname: 'a1.local', resources: Resources.parse('cpus:4;mem:4096').toWire(), attributes: {} },
      tasks: [{ frameworkId: 'f1', task: h.core.state.tasks.get('f1/t1')!.info, state: S.STAGING }],
    });
    h.now += 6000;
    expect(published(h.core.onTick(h.now), 'f1')).toEqual([]);
    expect(h.core.state.tasks.get('f1/t1')?.state).toBe(S.UNREACHABLE);
  });
});
