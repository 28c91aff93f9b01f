import { afterEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { AllocatorActor, type AllocatorActorOptions } from '../../actors/allocator/actor.js';
import type { OfferDecision } from '../../actors/allocator/core.js';
import { DrfSorter } from '../../actors/allocator/drf-sorter.js';
import { createRng } from '../../actors/runtime/rng.js';
import { Resources } from '../../protocol/resources.js';

const r = (text: string): Resources => Resources.parse(text);

/** An actor on a manual clock that records every batch of offers. */
function harness(options: Partial<AllocatorActorOptions> = {}) {
  const clock = { now: 0 };
  const batches: OfferDecision[][] = [];
  const actor = new AllocatorActor({
    clock: () => clock.now,
    rng: createRng(1),
    onOffers: (d) => batches.push(d),
    ...options,
  });
  const offered = (): string[][] => batches.map((b) => b.map((d) => `${d.frameworkId}@${d.agentId}`).sort());
  return { actor, clock, batches, offered };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('AllocatorActor: coalescing', () => {
  it('turns many triggers queued together into one run', async () => {
    const { actor, offered } = harness();
    void actor.addFramework('f1', { roles: ['*'] });
    void actor.addFramework('f2', { roles: ['*'] });
    for (const id of ['s1', 's2', 's3', 's4']) void actor.addAgent(id, r('cpus:1;mem:128'));
    void actor.revive('f1');
    await actor.whenIdle();
    // 7 triggers, 1 run, after all of them: 4 equal agents alternate f1, f2, f1, f2
    expect(actor.runs).toBe(1);
    expect(offered()).toHaveLength(1);
    expect(offered()[0]?.filter((o) => o.startsWith('f1@'))).toHaveLength(2);
    expect(offered()[0]?.filter((o) => o.startsWith('f2@'))).toHaveLength(2);
  });

  it('runs on the next turn of the event loop: calls that arrive meanwhile are in the run (a burst of REVIVEs)', async () => {
    const { actor, offered } = harness();
    for (const id of ['f1', 'f2', 'f3']) void actor.addFramework(id, { roles: ['*'], suppressed: true });
    for (const id of ['s1', 's2', 's3', 's4', 's5', 's6']) void actor.addAgent(id, r('cpus:1;mem:128'));
    await actor.whenIdle();
    const before = actor.runs;
    // the first REVIVE is applied (and asks for a run) before the others are even posted
    await actor.revive('f1');
    void actor.revive('f2');
    await actor.revive('f3');
    await actor.whenIdle();
    // one run, after all three: the agents are shared out, not all offered to f1
    expect(actor.runs).toBe(before + 1);
    expect(offered()).toHaveLength(1);
    for (const f of ['f1', 'f2', 'f3']) expect(offered()[0]?.filter((o) => o.startsWith(`${f}@`))).toHaveLength(2);
  });

  it('visits only the agents a change concerns (allocation candidates); framework changes visit all', async () => {
    const { actor, clock, offered } = harness();
    void actor.addFramework('f1', { roles: ['*'] });
    for (const id of ['s1', 's2']) void actor.addAgent(id, r('cpus:1;mem:128'));
    await actor.whenIdle();
    expect(offered()).toEqual([['f1@s1', 'f1@s2']]);
    // both declined, refused for 2 s
    void actor.recoverResources('f1', 's1', r('cpus:1;mem:128'), 2);
    void actor.recoverResources('f1', 's2', r('cpus:1;mem:128'), 2);
    await actor.whenIdle();
    clock.now = 3000; // both filters have run out
    // a change of s1 visits s1 only; s2 waits for a run over all agents
    void actor.recoverResources('f1', 's1', Resources.empty());
    await actor.whenIdle();
    expect(offered().at(-1)).toEqual(['f1@s1']);
    void actor.activateFramework('f1');
    await actor.whenIdle();
    expect(offered().at(-1)).toEqual(['f1@s2']);
  });

  it('queues a requested run by itself, without anyone waiting for it', async () => {
    const { actor, offered } = harness();
    void actor.addFramework('f1', { roles: ['*'] });
    void actor.addAgent('s1', r('cpus:1;mem:128'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(actor.runs).toBe(1);
    expect(offered()).toEqual([['f1@s1']]);
  });

  it('runs again for a trigger that comes after the run', async () => {
    const { actor, offered } = harness();
    await actor.addFramework('f1', { roles: ['*'] });
    await actor.whenIdle();
    // a run happened, with no agents: no offers, onOffers not called
    expect(actor.runs).toBe(1);
    await actor.addAgent('s1', r('cpus:2;mem:256'));
    await actor.whenIdle();
    expect(actor.runs).toBe(2);
    expect(offered()).toEqual([['f1@s1']]);
  });

  it('does not run for calls that cannot produce offers', async () => {
    const { actor } = harness();
    await actor.addFramework('f1', { roles: ['*'] });
    await actor.addAgent('s1', r('cpus:1;mem:128'));
    await actor.whenIdle();
    const before = actor.runs;
    void actor.suppress('f1');
    void actor.deactivateFramework('f1');
    void actor.deactivateAgent('s1');
    void actor.removeAgent('s1');
    await actor.whenIdle();
    expect(actor.runs).toBe(before);
  });

  it('applies calls in order: a read sees every call queued before it', async () => {
    const { actor, clock } = harness();
    void actor.addFramework('f1', { roles: ['*'] });
    void actor.addAgent('s1', r('cpus:4;mem:1024'));
    clock.now = 1000;
    void actor.recoverResources('f1', 's1', r('cpus:4;mem:1024'), 5);
    // the read is queued before the run the calls requested
    const available = await actor.read((core) => core.available('s1').toString());
    expect(available).toBe('cpus:4;mem:1024');
    await actor.whenIdle();
    // recover came before any run: f1 filtered on s1 until 1000 + 5000 → nothing offered
    expect(actor.runs).toBe(1);
    expect(await actor.read((core) => core.filterCount())).toBe(1);
    await expect(actor.read((core) => core.available('nope'))).rejects.toThrow('unknown agent nope');
  });
});

describe('AllocatorActor: the periodic run', () => {
  it('runs every allocationIntervalMs once started, and picks up expired filters', async () => {
    vi.useFakeTimers({ now: 0 });
    const { actor, offered } = harness({ clock: () => Date.now(), allocationIntervalMs: 1000 });
    void actor.addFramework('f1', { roles: ['*'] });
    void actor.addAgent('s1', r('cpus:1;mem:128'));
    await actor.whenIdle();
    expect(actor.runs).toBe(1);
    expect(offered()).toEqual([['f1@s1']]);

    actor.start();
    // declined at t = 0, refused for 2.5 s → filtered until 2500
    await actor.recoverResources('f1', 's1', r('cpus:1;mem:128'), 2.5);
    await actor.whenIdle();
    expect(actor.runs).toBe(2);
    // ticks at 1000 and 2000: runs, but still filtered
    await vi.advanceTimersByTimeAsync(2000);
    expect(actor.runs).toBe(4);
    expect(offered()).toHaveLength(1);
    // tick at 3000: 3000 ≥ 2500, filter expired → offered again
    await vi.advanceTimersByTimeAsync(1000);
    expect(actor.runs).toBe(5);
    expect(offered()).toEqual([['f1@s1'], ['f1@s1']]);
    await actor.stop();
  });

  it('defaults to one run a second and does not run before start', async () => {
    vi.useFakeTimers({ now: 0 });
    const { actor } = harness();
    await vi.advanceTimersByTimeAsync(5000);
    expect(actor.runs).toBe(0);
    actor.start();
    await vi.advanceTimersByTimeAsync(999);
    expect(actor.runs).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(actor.runs).toBe(1);
    await vi.advanceTimersByTimeAsync(4000);
    expect(actor.runs).toBe(5);
    await actor.stop();
  });
});

describe('AllocatorActor: stop', () => {
  it('drains queued calls and the run they requested, then stops the timer and drops calls', async () => {
    vi.useFakeTimers({ now: 0 });
    const { actor, offered } = harness({ allocationIntervalMs: 100 });
    actor.start();
    void actor.addFramework('f1', { roles: ['*'] });
    void actor.addAgent('s1', r('cpus:1;mem:128'));
    const stopped = actor.stop();
    // nothing has run yet: the mailbox drains on a microtask
    expect(actor.runs).toBe(0);
    await stopped;
    // the queued calls and their run completed before stop resolved
    expect(actor.runs).toBe(1);
    expect(offered()).toEqual([['f1@s1']]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(actor.runs).toBe(1);
    await actor.addAgent('s2', r('cpus:1;mem:128'));
    await actor.whenIdle();
    expect(actor.runs).toBe(1);
    expect(await actor.read((core) => core.agentIds())).toEqual(['s1']);
  });
});

describe('AllocatorActor: resilience', () => {
  it('logs and counts a bad call, and carries on', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
    const { actor, offered } = harness({ logger });
    await actor.removeAgent('nope');
    await actor.suppress('ghost');
    expect(actor.failures).toBe(2);
    const logged = lines.map((l) => JSON.parse(l) as { op: string; err: { type: string }; actor: string });
    expect(logged.map((l) => [l.op, l.err.type, l.actor])).toEqual([
      ['removeAgent', 'UnknownAgentError', 'allocator'],
      ['suppress', 'UnknownFrameworkError', 'allocator'],
    ]);
    void actor.addFramework('f1', { roles: ['*'] });
    void actor.addAgent('s1', r('cpus:1;mem:128'));
    await actor.whenIdle();
    expect(offered()).toEqual([['f1@s1']]);
  });

  it('survives an onOffers that throws', async () => {
    let calls = 0;
    const { actor } = harness({
      onOffers: () => {
        calls += 1;
        throw new Error('boom');
      },
    });
    void actor.addFramework('f1', { roles: ['*'] });
    void actor.addAgent('s1', r('cpus:1;mem:128'));
    await actor.whenIdle();
    void actor.addAgent('s2', r('cpus:1;mem:128'));
    await actor.whenIdle();
    // two runs, each with an offer, each callback threw
    expect([actor.runs, calls, actor.failures]).toEqual([2, 2, 2]);
  });

  it('passes the sorter factory and minAllocatable through to the core', async () => {
    const made: DrfSorter[] = [];
    const sorterFactory = (): DrfSorter => {
      const sorter = new DrfSorter();
      made.push(sorter);
      return sorter;
    };
    const { actor, offered } = harness({ sorterFactory, minAllocatable: [r('cpus:2')] });
    void actor.addFramework('f1', { roles: ['*'] });
    void actor.addAgent('small', r('cpus:1;mem:4096'));
    void actor.addAgent('big', r('cpus:2;mem:64'));
    await actor.whenIdle();
    // only 'big' has cpus:2
    expect(offered()).toEqual([['f1@big']]);
    // made[0] orders roles, made[1] the frameworks of role '*'
    expect(made[1]?.allocation('f1')).toEqual(new Map([['cpus', 2], ['mem', 64]]));
  });
});

describe('AllocatorActor: roles, quota, operations, offer timeouts', () => {
  it('applies weights and quota through the mailbox and runs after them', async () => {
    const { actor, batches } = harness();
    void actor.addFramework('fa', { roles: ['a'] });
    void actor.addFramework('fb', { roles: ['b'] }, new Map());
    await actor.whenIdle();
    await actor.setQuota('b', { guarantees: { cpus: 2 } });
    await actor.setWeight('a', 3);
    void actor.addAgent('s1', r('cpus:2;mem:128'));
    void actor.addAgent('s2', r('cpus:2;mem:128'));
    await actor.whenIdle();
    // b's guarantee (2 cpus) is served first: one agent to fb; the other to fa
    expect(batches.flat().map((d) => `${d.frameworkId}(${d.role}) ${d.resources.toString()}`).sort()).toEqual([
      'fa(a) cpus:2;mem:128',
      'fb(b) cpus:2;mem:128',
    ]);
    const roles = await actor.read((core) => core.roles().map((v) => [v.role, v.weight, v.consumed]));
    expect(roles).toEqual([
      ['a', 3, undefined],
      ['b', 1, { cpus: 2, mem: 128 }],
    ]);
  });

  it('rejects bad quota, weights and operations to the caller, and carries on', async () => {
    const { actor } = harness();
    void actor.addAgent('s1', r('cpus:2;mem:128'));
    await expect(actor.setQuota('a/b', { guarantees: { cpus: 1 } })).rejects.toMatchObject({ name: 'InvalidQuotaError' });
    await expect(actor.setWeight('a', -1)).rejects.toMatchObject({ name: 'InvalidWeightError' });
    await expect(actor.applyOperation('s1', { type: 'RESERVE', resources: r('cpus(a,dynamic):3') })).rejects.toMatchObject({
      name: 'InsufficientResourcesError',
    });
    await actor.applyOperation('s1', { type: 'RESERVE', resources: r('cpus(a,dynamic):1') });
    expect(await actor.read((core) => core.totalOf('s1').toString())).toBe('cpus:1;cpus(a,dynamic):1;mem:128');
    await actor.stop();
    await expect(actor.setWeight('a', 2)).rejects.toMatchObject({ name: 'ActorStoppedError' });
  });

  it('reports offers that outstay the offer timeout after a run', async () => {
    const clock = { now: 0 };
    const expired: string[] = [];
    const { actor } = harness({ clock: () => clock.now, offerTimeoutMs: 5000, onExpired: (list) => expired.push(...list.map((e) => `${e.frameworkId}@${e.agentId}`)) });
    void actor.addFramework('f1', { roles: ['*'] });
    void actor.addAgent('s1', r('cpus:1;mem:128'));
    await actor.whenIdle();
    clock.now = 5000;
    // a run at t = 5 000: the offer made at 0 is 5 s old
    void actor.addAgent('s2', r('cpus:0.001'));
    await actor.whenIdle();
    expect(expired).toEqual(['f1@s1']);
  });

  it('passes suppress and revive per role through', async () => {
    const { actor, offered } = harness();
    void actor.addFramework('m', { roles: ['a', 'b'] });
    void actor.suppress('m', ['a']);
    void actor.addAgent('s1', r('cpus:1;mem:128;cpus(a):1'));
    await actor.whenIdle();
    expect(offered()).toEqual([['m@s1']]);
    void actor.revive('m', ['a']);
    await actor.whenIdle();
    // the reservation for a is offered now
    expect(offered()).toEqual([['m@s1'], ['m@s1']]);
    expect(await actor.read((core) => core.holdingsOn('s1', 'm').get('a')?.toString())).toBe('cpus(a):1');
  });
});
