// Spare executors, in the agent core: how many are kept and when (registered, active, with a
// backoff after spares that ended on their own), which launch binds one (a new default
// executor, the oldest spare; never a command or custom executor), and that a spare is
// never checkpointed.
import { describe, expect, it } from 'vitest';
import type { AgentEffect } from '../../actors/agent/core.js';
import { AGENT_ID, AgentHarness, EPOCH, HEARTBEAT_MS, framework, ofKind, task } from '../harness/agent-harness.js';

function group(h: AgentHarness, executorId = 'g1', ids = ['t1', 't2']): AgentEffect[] {
  return h.master({ type: 'RUN_TASK_GROUP', frameworkId: 'f1', framework: framework('f1'), executorId, tasks: ids.map((id) => task(id)) });
}

const started = (effects: readonly AgentEffect[]): string[] => ofKind(effects, 'start-spare').map((e) => e.spareId);
const launches = (effects: readonly AgentEffect[]) => ofKind(effects, 'launch-executor');

/** A registered agent keeping `spares` spares, its first spares started. */
function agent(spares = 1): { h: AgentHarness; first: string[] } {
  const h = new AgentHarness({ spareExecutors: spares });
  h.register();
  return { h, first: started(h.tick(10)) };
}

describe('agent core: spare executors', () => {
  it('keeps none by default', () => {
    const h = new AgentHarness();
    h.register();
    expect(started(h.tick(10))).toEqual([]);
    expect(launches(group(h))[0]?.spareId).toBeUndefined();
    expect(h.core.view().spares).toEqual([]);
  });

  it('starts its spares once registered, not before, and not again while they live', () => {
    const h = new AgentHarness({ spareExecutors: 2 });
    const registering = h.tick(10);
    expect(registering.some((e) => e.kind === 'send-master' && e.message.type === 'REGISTER_AGENT')).toBe(true);
    expect(started(registering)).toEqual([]);
    h.reply('REGISTER_AGENT', { type: 'AGENT_REGISTERED', epoch: EPOCH, agentId: AGENT_ID, masterId: 'm', heartbeatIntervalMs: HEARTBEAT_MS });
    const first = started(h.tick(10));
    expect(first).toHaveLength(2);
    expect(new Set(first).size).toBe(2);
    expect(started(h.tick(100))).toEqual([]);
    expect(h.core.view().spares.map((s) => s.spareId)).toEqual(first);
  });

  it('a new default executor binds the oldest spare; another spare is started at the next tick', () => {
    const { h, first } = agent();
    const launch = launches(group(h))[0];
    expect(launch).toMatchObject({ executorId: 'g1', executorKind: 'default', spareId: first[0] });
    expect(h.core.view().spares).toEqual([]);
    const next = started(h.tick(10));
    expect(next).toHaveLength(1);
    expect(next[0]).not.toBe(first[0]);
  });

  it('a group for a running default executor binds nothing (no new process)', () => {
    const { h, first } = agent();
    group(h, 'g1', ['t1']);
    started(h.tick(10));
    const spares = h.core.view().spares.map((s) => s.spareId);
    const effects = group(h, 'g1', ['t2']);
    expect(launches(effects)).toEqual([]);
    expect(h.core.view().spares.map((s) => s.spareId)).toEqual(spares);
    expect(spares).not.toContain(first[0]);
  });

  it('a command task starts its own executor and leaves the spare alone', () => {
    const { h, first } = agent();
    const launch = launches(h.runTask('c1'))[0];
    expect(launch).toMatchObject({ executorKind: 'command' });
    expect(launch?.spareId).toBeUndefined();
    expect(h.core.view().spares.map((s) => s.spareId)).toEqual(first);
  });

  it('with no spare at hand (all bound), a default executor starts as before', () => {
    const { h } = agent();
    expect(launches(group(h, 'g1', ['t1']))[0]?.spareId).toBeDefined();
    expect(launches(group(h, 'g2', ['t2']))[0]?.spareId).toBeUndefined();
  });

  it('a spare that ended on its own is replaced after a backoff that doubles, reset by a bind', () => {
    const { h, first } = agent();
    const waits: number[] = [];
    let spare = first[0]!;
    for (let i = 0; i < 4; i++) {
      expect(h.core.onSpareExited(spare, { exitCode: 1 }, h.now)).toEqual([expect.objectContaining({ kind: 'log', level: 'warn' })]);
      let waited = 0;
      let next: string[] = [];
      while ((next = started(h.tick(10))).length === 0) waited += 10;
      waits.push(waited + 10);
      spare = next[0]!;
    }
    expect(waits).toEqual([100, 200, 400, 800]);
    // bound: the count of failures starts again
    expect(launches(group(h))[0]?.spareId).toBe(spare);
    const replacement = started(h.tick(10))[0]!;
    h.core.onSpareExited(replacement, { signal: 'SIGKILL' }, h.now);
    expect(started(h.tick(90))).toEqual([]);
    expect(started(h.tick(10))).toHaveLength(1);
  });

  it('the exit of a spare already bound or unknown changes nothing', () => {
    const { h, first } = agent();
    group(h);
    expect(h.core.onSpareExited(first[0]!, { exitCode: 0 }, h.now)).toEqual([]);
    expect(h.core.onSpareExited('nope', { exitCode: 0 }, h.now)).toEqual([]);
    expect(started(h.tick(10))).toHaveLength(1); // no backoff
  });

  it('lets its spares go while draining, and keeps them again once reactivated', () => {
    const { h, first } = agent();
    const effects = h.master({ type: 'DRAIN_AGENT' });
    const stops = [...ofKind(effects, 'stop-spare'), ...ofKind(h.tick(10), 'stop-spare')];
    expect(stops.map((s) => s.spareId)).toEqual(first);
    expect(h.core.view().spares).toEqual([expect.objectContaining({ spareId: first[0], stopping: true })]);
    expect(ofKind(h.tick(10), 'stop-spare')).toEqual([]); // once
    // stopped as asked: no backoff, and none started while draining
    expect(h.core.onSpareExited(first[0]!, { exitCode: 0 }, h.now)).toEqual([expect.objectContaining({ level: 'debug' })]);
    expect(started(h.tick(10))).toEqual([]);
    h.master({ type: 'REACTIVATE_AGENT' });
    expect(started(h.tick(10))).toHaveLength(1);
  });

  it('stopSpares lets every spare go (the agent stopping), once', () => {
    const { h, first } = agent(2);
    expect(ofKind(h.core.stopSpares('stopping'), 'stop-spare').map((s) => s.spareId)).toEqual(first);
    expect(h.core.stopSpares('stopping')).toEqual([]);
    // a stopping spare is never bound
    expect(launches(group(h))[0]?.spareId).toBeUndefined();
  });

  it('never checkpoints a spare; a bound one is checkpointed as the executor it became', () => {
    const { h, first } = agent();
    expect(JSON.stringify(h.core.checkpoint())).not.toContain(first[0]);
    group(h);
    const cp = h.core.checkpoint();
    expect(cp.executors.map((e) => e.executorId)).toEqual(['g1']);
    expect(JSON.stringify(cp)).not.toContain(first[0]);
  });
});
