// The chaos invariant checker over hand-made histories: a clean one passes, and for each
// invariant a history that breaks it is caught (so every check is shown able to fail).
import { describe, expect, it } from 'vitest';
import { convergenceProblems } from '../../bin/chaos/cluster-invariants.js';
import { checkInvariants } from '../../bin/chaos/invariants.js';
import { parseJournal } from '../../bin/chaos/journal.js';
import { buildReport, formatReport } from '../../bin/chaos/report.js';
import type { ChaosHistory, InjectedFault, JournalEntry, MasterSample, TaskKind } from '../../bin/chaos/types.js';
import type { TaskState } from '../../protocol/task-state.js';

let uuid = 0;
const launch = (taskId: string, at: number, kind: TaskKind = 'true', agentId = 'agent-1'): JournalEntry => ({ t: 'launch', at, taskId, kind, agentId });
const accept = (taskIds: string[], at: number, outcome: 'ok' | 'failed' = 'ok'): JournalEntry => ({ t: 'accept', at, taskIds, outcome });
const update = (taskId: string, state: TaskState, at: number, extra: Partial<Extract<JournalEntry, { t: 'update' }>> = {}): JournalEntry => ({
  t: 'update',
  at,
  taskId,
  state,
  uuid: `u${++uuid}`,
  source: 'SOURCE_EXECUTOR',
  agentId: 'agent-1',
  ...extra,
});
const answer = (taskId: string, state: TaskState, at: number): JournalEntry => ({ t: 'update', at, taskId, state, source: 'SOURCE_MASTER' });

function sample(at: number, tasks: MasterSample['tasks'], offers: MasterSample['offers'] = []): MasterSample {
  return { at, masterId: 'master-1', epoch: 5, agents: [{ id: 'agent-1', status: 'active', resources: 'cpus:1;mem:256' }], tasks, offers };
}

/** A run where two tasks finished cleanly and the cluster converged. */
function clean(): ChaosHistory {
  return {
    faults: [{ at: 1500, kind: 'kill-leader', target: 'master-1', pid: 10, outcome: 'injected', restoredAt: 3000 }],
    journal: [
      { t: 'start', at: 0, incarnation: 1, pid: 1, frameworkId: 'fw' },
      { t: 'subscribed', at: 10, masterId: 'master-1', epoch: 5 },
      launch('a', 100),
      launch('b', 100, 'killed'),
      accept(['a', 'b'], 110),
      update('a', 'TASK_STARTING', 200),
      update('b', 'TASK_STARTING', 210),
      update('a', 'TASK_RUNNING', 300),
      update('b', 'TASK_RUNNING', 310),
      { t: 'kill', at: 320, taskId: 'b' },
      update('b', 'TASK_KILLING', 330),
      update('a', 'TASK_FINISHED', 400),
      update('b', 'TASK_KILLED', 500),
    ],
    masterSamples: [sample(250, [
      { taskId: 'a', agentId: 'agent-1', state: 'TASK_RUNNING', resources: 'cpus:0.1;mem:32' },
      { taskId: 'b', agentId: 'agent-1', state: 'TASK_RUNNING', resources: 'cpus:0.1;mem:32' },
    ], [{ id: 'o1', agentId: 'agent-1', frameworkId: 'fw', resources: 'cpus:0.8;mem:192', createdAt: 240 }])],
    processSamples: [{ at: 250, runs: [{ taskId: 'a', sandbox: '/w/a/runs/1' }, { taskId: 'b', sandbox: '/w/b/runs/1' }] }],
    sandboxRuns: { a: 1, b: 1 },
    convergence: { lastFaultEndedAt: 3000, boundMs: 30_000, convergedAt: 4000, problems: [] },
  };
}

const invariantsOf = (h: ChaosHistory): string[] => checkInvariants(h).map((v) => v.invariant);

describe('checkInvariants', () => {
  it('finds nothing wrong in a clean run, redeliveries (same uuid) and reconciliation answers included', () => {
    const h = clean();
    const running = h.journal.find((e) => e.t === 'update' && e.taskId === 'a' && e.state === 'TASK_RUNNING')!;
    h.journal.push(running, answer('a', 'TASK_FINISHED', 600)); // a redelivery, and an answer
    expect(checkInvariants(h)).toEqual([]);
  });

  describe('terminal-seen', () => {
    it('catches a launched task that never reached a terminal state', () => {
      const h = clean();
      h.journal = h.journal.filter((e) => !(e.t === 'update' && e.taskId === 'a' && e.state === 'TASK_FINISHED'));
      const [v, ...rest] = checkInvariants(h);
      expect(rest).toEqual([]);
      expect(v).toMatchObject({ invariant: 'terminal-seen', taskId: 'a' });
      expect(v?.message).toContain('last saw TASK_RUNNING');
    });

    it('catches a task of which nothing at all was heard', () => {
      const h = clean();
      h.journal.push(launch('c', 700), accept(['c'], 710));
      expect(checkInvariants(h)).toMatchObject([{ invariant: 'terminal-seen', taskId: 'c', message: expect.stringContaining('no update at all') }]);
    });

    it('counts a terminal state seen only as a reconciliation answer (and the report says so)', () => {
      const h = clean();
      h.journal = h.journal.filter((e) => !(e.t === 'update' && e.taskId === 'a' && e.state === 'TASK_FINISHED'));
      h.journal.push(answer('a', 'TASK_FINISHED', 900));
      expect(checkInvariants(h)).toEqual([]);
      expect(buildReport(meta, h, []).tasks.terminalOnlyByReconciliation).toBe(1);
    });

    it('accepts TASK_UNKNOWN for a task whose ACCEPT got no answer, or across a leader change; not otherwise', () => {
      const h = clean();
      h.journal.push(launch('c', 700), accept(['c'], 710, 'failed'), answer('c', 'TASK_UNKNOWN', 4000));
      h.journal.push(launch('d', 1000), accept(['d'], 1010), answer('d', 'TASK_UNKNOWN', 4000)); // the leader was killed at 1500
      expect(checkInvariants(h)).toEqual([]);
      h.journal.push(launch('e', 5000), accept(['e'], 5010), answer('e', 'TASK_UNKNOWN', 8000));
      expect(checkInvariants(h)).toMatchObject([{ invariant: 'terminal-seen', taskId: 'e', message: expect.stringContaining('no leader change') }]);
    });

    it('does not take TASK_UNKNOWN for an answer once the task was seen running', () => {
      const h = clean();
      h.journal.push(launch('c', 700), accept(['c'], 710), update('c', 'TASK_RUNNING', 800), answer('c', 'TASK_UNKNOWN', 4000));
      expect(invariantsOf(h)).toEqual(['terminal-seen']);
    });
  });

  describe('lifecycle-order', () => {
    it('catches an update after a terminal one', () => {
      const h = clean();
      h.journal.push(update('a', 'TASK_UNREACHABLE', 700, { source: 'SOURCE_MASTER', reason: 'REASON_AGENT_UNREACHABLE' }));
      const [v] = checkInvariants(h);
      expect(v).toMatchObject({ invariant: 'lifecycle-order', taskId: 'a' });
      expect(v?.message).toContain('TASK_UNREACHABLE (REASON_AGENT_UNREACHABLE) arrived after TASK_FINISHED');
      expect(v?.message).toContain('TASK_STARTING → TASK_RUNNING → TASK_FINISHED → TASK_UNREACHABLE');
    });

    it('catches updates out of order (RUNNING after KILLING)', () => {
      const h = clean();
      const i = h.journal.findIndex((e) => e.t === 'update' && e.taskId === 'b' && e.state === 'TASK_RUNNING');
      const [running] = h.journal.splice(i, 1);
      h.journal.splice(h.journal.findIndex((e) => e.t === 'update' && e.taskId === 'b' && e.state === 'TASK_KILLING') + 1, 0, running!);
      expect(invariantsOf(h)).toEqual(['lifecycle-order']);
    });

    it('allows what partition-awareness allows: UNREACHABLE, then the agent comes back with the task', () => {
      const h = clean();
      const i = h.journal.findIndex((e) => e.t === 'update' && e.taskId === 'a' && e.state === 'TASK_FINISHED');
      h.journal.splice(i, 0, update('a', 'TASK_UNREACHABLE', 350, { source: 'SOURCE_MASTER' }), update('a', 'TASK_RUNNING', 360));
      expect(checkInvariants(h)).toEqual([]);
    });
  });

  describe('no-double-run', () => {
    it('catches a task with processes in two sandboxes at once', () => {
      const h = clean();
      h.processSamples.push({ at: 260, runs: [{ taskId: 'a', sandbox: '/w1/a/runs/1' }, { taskId: 'a', sandbox: '/w2/a/runs/1' }] });
      expect(checkInvariants(h)).toMatchObject([{ invariant: 'no-double-run', taskId: 'a', at: 260 }]);
    });

    it('does not count two processes of one sandbox (a task and its health check) twice', () => {
      const h = clean();
      h.processSamples.push({ at: 260, runs: [{ taskId: 'a', sandbox: '/w/a/runs/1' }, { taskId: 'a', sandbox: '/w/a/runs/1' }] });
      expect(checkInvariants(h)).toEqual([]);
    });

    it('catches a task id run twice (two sandbox runs) even if never seen at once', () => {
      const h = clean();
      h.sandboxRuns.b = 2;
      expect(checkInvariants(h)).toMatchObject([{ invariant: 'no-double-run', taskId: 'b', message: expect.stringContaining('2 times') }]);
    });
  });

  describe('allocation-within-resources', () => {
    it('catches an agent whose tasks and offers hold more than it has', () => {
      const h = clean();
      h.masterSamples.push(sample(300, [{ taskId: 'a', agentId: 'agent-1', state: 'TASK_RUNNING', resources: 'cpus:0.5;mem:32' }], [{ id: 'o2', agentId: 'agent-1', frameworkId: 'fw', resources: 'cpus:0.6;mem:32', createdAt: 290 }]));
      // cpus: 0.5 + 0.6 = 1.1 > 1
      const [v, ...rest] = checkInvariants(h);
      expect(rest).toEqual([]);
      expect(v).toMatchObject({ invariant: 'allocation-within-resources', agentId: 'agent-1', at: 300 });
      expect(v?.message).toContain('1 tasks and 1 offers');
    });

    it('does not count tasks in a terminal state', () => {
      const h = clean();
      h.masterSamples.push(sample(300, [{ taskId: 'a', agentId: 'agent-1', state: 'TASK_FINISHED', resources: 'cpus:1;mem:256' }, { taskId: 'b', agentId: 'agent-1', state: 'TASK_RUNNING', resources: 'cpus:1;mem:256' }]));
      expect(checkInvariants(h)).toEqual([]);
    });
  });

  describe('converged', () => {
    it('catches a cluster that never converged, with what did not hold', () => {
      const h = clean();
      h.convergence = { lastFaultEndedAt: 3000, boundMs: 30_000, problems: ['2 masters lead: master-1, master-2'] };
      expect(checkInvariants(h)).toMatchObject([{ invariant: 'converged', message: expect.stringContaining('2 masters lead') }]);
    });

    it('catches one that converged too late', () => {
      const h = clean();
      h.convergence = { lastFaultEndedAt: 3000, boundMs: 30_000, convergedAt: 40_000, problems: [] };
      expect(invariantsOf(h)).toEqual(['converged']);
    });
  });
});

describe('convergenceProblems', () => {
  const base = {
    now: 100_000,
    masters: [{ name: 'master-1', leading: true }, { name: 'master-2', leading: false }],
    state: sample(100_000, [], [{ id: 'o1', agentId: 'agent-1', frameworkId: 'fw', resources: 'cpus:1', createdAt: 99_000 }]),
    liveAgents: ['agent-1'],
    connectedFrameworks: ['fw'],
    offerStuckMs: 10_000,
  };

  it('is empty when one master leads, every live agent is active and offers are fresh', () => {
    expect(convergenceProblems(base)).toEqual([]);
  });

  it('names each condition that does not hold', () => {
    expect(convergenceProblems({ ...base, masters: [{ name: 'master-1', leading: true }, { name: 'master-2', leading: true }] })).toEqual(['2 masters lead: master-1, master-2']);
    expect(convergenceProblems({ ...base, masters: [{ name: 'master-1', leading: undefined }] })).toEqual(['masters not answering PING: master-1', '0 masters lead']);
    expect(convergenceProblems({ ...base, liveAgents: ['agent-1', 'agent-2'] })).toEqual(['agent agent-2 is not registered']);
    expect(convergenceProblems({ ...base, now: 120_000 })).toEqual(['offer o1 has been outstanding for 21000 ms']);
    expect(convergenceProblems({ ...base, connectedFrameworks: [] })).toEqual(['offer o1 is held for framework fw, which is not connected']);
    expect(convergenceProblems({ ...base, state: undefined })).toEqual(['no master answers GET_STATE']);
  });
});

const meta = { seed: 7, durationMs: 45_000, natsCluster: false, masters: 3, agents: 3, dir: '/tmp/x', command: 'npm run chaos -- --duration 45 --seed 7' };

describe('the report', () => {
  it('counts faults, tasks and updates, and prints the seed to reproduce a violation', () => {
    const h = clean();
    h.faults.push({ at: 2000, kind: 'kill-executor', outcome: 'skipped', reason: 'no executor to hit' } satisfies InjectedFault);
    const violations = [{ invariant: 'converged' as const, message: 'the cluster did not converge' }];
    const r = buildReport(meta, h, violations);
    expect(r).toMatchObject({
      ok: false,
      seed: 7,
      faults: { injected: 1, skipped: 1, byKind: { 'kill-leader': 1 }, skippedByKind: { 'kill-executor': 1 } },
      tasks: { launched: 2, terminal: 2, byTerminalState: { TASK_FINISHED: 1, TASK_KILLED: 1 }, killRequested: 1, vanished: 0 },
      updates: { stream: 7, duplicates: 0, reconciliationAnswers: 0 },
      framework: { incarnations: 1, subscriptions: 1 },
      convergence: { convergedAfterMs: 1000 },
    });
    const text = formatReport(r);
    expect(text).toContain('1 VIOLATION');
    expect(text).toContain('[converged] the cluster did not converge');
    expect(text).toContain('reproduce:   npm run chaos -- --duration 45 --seed 7');
    expect(formatReport(buildReport(meta, h, []))).toContain('every invariant held');
  });
});

describe('the journal', () => {
  it('skips a line torn by SIGKILL', () => {
    const text = `${JSON.stringify(launch('a', 1))}\n${JSON.stringify(accept(['a'], 2))}\n{"t":"upd`;
    expect(parseJournal(text)).toEqual([launch('a', 1), accept(['a'], 2)]);
  });
});
