// Leader election, pure: the core driven with a simulated clock and scripted KV results,
// then several cores over a simulated KV with random delays, crashes and pauses, checking
// that two masters never act as leader at once and that a leader is always found again.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ElectionCore, type ElectionConfig, type ElectionEffect, type KeyObservation, type PingOutcome, type WriteOutcome } from '../../actors/master/election/core.js';
import type { LeaderRecord } from '../../protocol/leader.js';

const CONFIG: Omit<ElectionConfig, 'masterId'> = {
  leaseMs: 1000,
  renewIntervalMs: 100,
  safetyMarginMs: 250,
  probeIntervalMs: 50,
  noRespondersToTakeOver: 3,
};

function core(masterId = 'm1'): ElectionCore {
  return new ElectionCore({ ...CONFIG, masterId });
}

function kinds(effects: ElectionEffect[]): string[] {
  return effects.filter((e) => e.kind !== 'log').map((e) => e.kind);
}

function find<K extends ElectionEffect['kind']>(effects: ElectionEffect[], kind: K): Extract<ElectionEffect, { kind: K }> | undefined {
  return effects.find((e): e is Extract<ElectionEffect, { kind: K }> => e.kind === kind);
}

function record(masterId: string, epoch = 0): LeaderRecord {
  return { masterId, epoch, renewedAt: 0 };
}

const seen = (masterId: string, revision: number, epoch = 0): KeyObservation => ({ kind: 'record', record: record(masterId, epoch), revision });

/** Brings a core to leading at epoch `revision`, at time `now`. */
function leading(c: ElectionCore, revision: number, now = 0): void {
  c.tick(now); // read
  c.observe({ kind: 'absent', revision: 0 }, now);
  expect(kinds(c.tick(now))).toEqual(['create']);
  c.onWriteResult({ kind: 'ok', revision }, now);
}

describe('election core: acquiring and renewing', () => {
  it('reads the key first, creates it when absent, and leads with the winning revision as epoch', () => {
    const c = core();
    expect(kinds(c.tick(0))).toEqual(['read']);
    expect(kinds(c.observe({ kind: 'absent', revision: 0 }, 0))).toEqual([]);
    const create = find(c.tick(0), 'create');
    expect(create?.record).toMatchObject({ masterId: 'm1', epoch: 0 }); // epoch 0: "the revision of this write"
    const won = c.onWriteResult({ kind: 'ok', revision: 7 }, 10);
    expect(find(won, 'lead')?.epoch).toBe(7);
    // The first renewal goes out at once and writes the epoch into the record (not ready yet).
    const renewal = find(won, 'update');
    expect(renewal).toMatchObject({ revision: 7, record: { masterId: 'm1', epoch: 7, ready: false } });
    expect(c.state).toBe('leading');
    expect(c.epoch).toBe(7);
  });

  it('renews every renewIntervalMs on its last revision, one write at a time', () => {
    const c = core();
    leading(c, 7, 0);
    c.onWriteResult({ kind: 'ok', revision: 8 }, 5); // the first renewal
    expect(kinds(c.tick(50))).toEqual([]); // 50 < 100 since the last attempt at 0
    const r = find(c.tick(100), 'update');
    expect(r?.revision).toBe(8);
    expect(kinds(c.tick(250))).toEqual([]); // still waiting for that write's answer
    c.onWriteResult({ kind: 'ok', revision: 9 }, 260);
    expect(find(c.tick(260), 'update')?.revision).toBe(9);
  });

  it('stops acting lease - margin after the last successful renewal was sent, before any standby may take over', () => {
    const c = core();
    leading(c, 7, 0); // acquired by a write sent at 0
    c.onWriteResult({ kind: 'error', error: 'timeout' }, 500);
    // lease 1000 - margin 250 = 750 ms after the write sent at 0.
    expect(c.mayAct(749)).toBe(true);
    expect(c.mayAct(750)).toBe(false);
    const down = c.tick(750);
    expect(find(down, 'step-down')?.reason).toMatch(/could not be renewed/);
    expect(c.state).toBe('steppingDown');
    expect(c.mayAct(751)).toBe(false);
  });

  it('counts a renewal from when it was sent, not when it was answered', () => {
    const c = core();
    leading(c, 7, 0);
    c.onWriteResult({ kind: 'ok', revision: 8 }, 700); // sent at 0, answered at 700
    expect(c.mayAct(749)).toBe(true);
    expect(c.mayAct(750)).toBe(false);
  });

  it('steps down at once when a renewal finds the key changed (someone took over)', () => {
    const c = core();
    leading(c, 7, 0);
    const down = c.onWriteResult({ kind: 'conflict' }, 20);
    expect(kinds(down)).toEqual(['step-down']);
    expect(c.mayAct(21)).toBe(false);
  });

  it('steps down when the watch shows another master at a newer revision, not for its own writes', () => {
    const c = core();
    leading(c, 7, 0);
    expect(kinds(c.observe(seen('m1', 8, 7), 10))).toEqual([]); // its own renewal
    expect(kinds(c.observe(seen('m2', 6), 10))).toEqual([]); // an older view
    expect(kinds(c.observe(seen('m2', 9), 20))).toEqual(['step-down']);
  });

  it('announces readiness: records say ready only after markReady, which renews at once', () => {
    const c = core();
    const won = c.onWriteResult({ kind: 'ok', revision: 7 }, 0); // (not through leading(): read/create skipped)
    expect(won).toEqual([]); // no write was pending: nothing happens
    leading(c, 7, 0);
    c.onWriteResult({ kind: 'ok', revision: 8 }, 1); // the first renewal, not ready yet
    const ready = find(c.markReady(5), 'update');
    expect(ready).toMatchObject({ revision: 8, record: { masterId: 'm1', epoch: 7, ready: true } });
    expect(c.markReady(6)).toEqual([]); // once
  });

  it('steps down when the shell could not start leading (a leader that serves nothing must not hold the lease)', () => {
    const c = core();
    leading(c, 7, 0);
    const down = c.onLeadFailed('the registry bucket did not open');
    expect(find(down, 'step-down')?.reason).toBe('could not start leading: the registry bucket did not open');
    expect(c.mayAct(1)).toBe(false);
    expect(c.onLeadFailed('again')).toEqual([]); // not leading any more
  });

  it('goes back to standby once the shell has stopped the leader, and may lead again', () => {
    const c = core();
    leading(c, 7, 0);
    c.onWriteResult({ kind: 'conflict' }, 20);
    const after = c.onSteppedDown(30);
    expect(c.state).toBe('standby');
    expect(kinds(after)).toEqual(['read']);
  });
});

describe('election core: standing by and taking over', () => {
  it('pings the leader every probeIntervalMs while its record keeps changing', () => {
    const c = core('m2');
    c.tick(0);
    c.observe(seen('m1', 5, 5), 0);
    expect(find(c.tick(0), 'ping')?.masterId).toBe('m1');
    expect(kinds(c.tick(10))).toEqual([]); // a ping is out
    c.onPingResult({ kind: 'answered', leading: true }, 12);
    expect(kinds(c.tick(49))).toEqual([]);
    expect(kinds(c.tick(50))).toEqual(['ping']);
  });

  it('takes over an expired lease with a CAS on the revision it saw', () => {
    const c = core('m2');
    c.tick(0);
    c.observe(seen('m1', 5, 5), 100); // seen first at 100
    expect(kinds(c.tick(100))).toEqual(['ping']);
    // A paused leader neither answers nor vanishes: pings time out, and are sent again.
    expect(kinds(c.onPingResult({ kind: 'timeout' }, 300))).toEqual(['ping']);
    expect(kinds(c.onPingResult({ kind: 'timeout' }, 1099))).toEqual(['ping']);
    const takeover = find(c.tick(1100), 'update'); // 1100 - 100 = lease
    expect(takeover).toMatchObject({ revision: 5, record: { masterId: 'm2', epoch: 0 } });
    expect(find(c.onWriteResult({ kind: 'ok', revision: 6 }, 1110), 'lead')?.epoch).toBe(6);
  });

  it('a renewal seen restarts the lease timer', () => {
    const c = core('m2');
    c.tick(0);
    c.observe(seen('m1', 5, 5), 0);
    c.observe(seen('m1', 6, 5), 900);
    c.onPingResult({ kind: 'answered', leading: true }, 950);
    expect(kinds(c.tick(1500)).includes('update')).toBe(false);
    c.onPingResult({ kind: 'timeout' }, 1850);
    expect(find(c.tick(1900), 'update')?.revision).toBe(6);
  });

  it('takes over at once after noRespondersToTakeOver pings without responders in a row', () => {
    const c = core('m2');
    c.tick(0);
    c.observe(seen('m1', 5, 5), 0);
    c.tick(0);
    // no responders, no responders, an answer: the count starts again
    c.onPingResult({ kind: 'no-responders' }, 1);
    c.tick(50);
    c.onPingResult({ kind: 'no-responders' }, 51);
    c.tick(100);
    c.onPingResult({ kind: 'answered', leading: true }, 101);
    for (const t of [150, 200]) {
      expect(kinds(c.tick(t))).toEqual(['ping']);
      expect(kinds(c.onPingResult({ kind: 'no-responders' }, t + 1))).toEqual([]);
    }
    c.tick(250);
    const third = c.onPingResult({ kind: 'no-responders' }, 251); // three in a row, at 251 ≪ lease
    expect(find(third, 'update')?.revision).toBe(5);
  });

  it('does not take over on "no responders" while the leader goes on renewing (a server that has just rejoined its cluster answers so)', () => {
    // The defaults' proportions: five pings between two renewals.
    const c = new ElectionCore({ ...CONFIG, renewIntervalMs: 250, leaseMs: 2000, safetyMarginMs: 500, masterId: 'm2' });
    c.tick(0);
    c.observe(seen('m1', 5, 5), 0);
    let revision = 5;
    for (let t = 0; t < 1000; t += 50) {
      // The leader renews every 250 ms: the record never stands still for 500 ms.
      if (t > 0 && t % 250 === 0) c.observe(seen('m1', ++revision, 5), t);
      const effects = [...c.tick(t), ...c.onPingResult({ kind: 'no-responders' }, t + 1)];
      expect(kinds(effects)).not.toContain('update');
    }
    expect(c.state).toBe('standby');
    // It stops renewing (gone for real): the next pings without responders take over.
    let takeover: number | undefined;
    for (let t = 1000; t < 1500 && takeover === undefined; t += 50) {
      takeover = find([...c.tick(t), ...c.onPingResult({ kind: 'no-responders' }, t + 1)], 'update')?.revision;
    }
    expect(takeover).toBe(revision);
  });

  it("names itself leader from its own successful writes, even when its watch delivers nothing (the watch's consumer may sit on a cut-off node)", () => {
    const c = core('m2');
    c.tick(0);
    c.observe(seen('m1', 5, 5), 0);
    // m1's lease runs out; m2 takes over on revision 5 and hears nothing from its watch.
    const takeover = find(c.tick(1000), 'update');
    expect(takeover?.revision).toBe(5);
    const elected = c.onWriteResult({ kind: 'ok', revision: 6 }, 1010);
    expect(c.state).toBe('leading');
    expect(c.leader).toEqual({ masterId: 'm2', epoch: 6 });
    // Its renewals keep it so (the record carries the epoch from now on).
    expect(find(elected, 'update')?.revision).toBe(6);
    c.onWriteResult({ kind: 'ok', revision: 7 }, 1020);
    expect(c.leader).toEqual({ masterId: 'm2', epoch: 6 });
    // A late watch event of an older revision changes nothing.
    c.observe(seen('m1', 5, 5), 1030);
    expect(c.leader).toEqual({ masterId: 'm2', epoch: 6 });
  });

  it('takes over at once when the leader named in the key says it does not lead', () => {
    const c = core('m2');
    c.tick(0);
    c.observe(seen('m1', 5, 5), 0);
    c.tick(0);
    expect(find(c.onPingResult({ kind: 'answered', leading: false }, 5), 'update')?.revision).toBe(5);
  });

  it('loses a takeover race without harm: it reads the key again and stays standby', () => {
    const c = core('m3');
    c.tick(0);
    c.observe(seen('m1', 5, 5), 0);
    c.tick(0);
    c.onPingResult({ kind: 'answered', leading: false }, 1);
    expect(kinds(c.onWriteResult({ kind: 'conflict' }, 2))).toEqual([]);
    expect(kinds(c.tick(3))).toEqual(['read']);
    expect(c.state).toBe('standby');
    c.observe(seen('m2', 6), 4); // m2 won
    expect(find(c.tick(60), 'ping')?.masterId).toBe('m2');
  });

  it('takes the key back at once when it names this master (left from an earlier run)', () => {
    const c = core('m1');
    c.tick(0);
    c.observe(seen('m1', 5, 3), 0);
    expect(find(c.tick(0), 'update')?.revision).toBe(5);
  });

  it('reads again after a failed read', () => {
    const c = core();
    expect(kinds(c.tick(0))).toEqual(['read']);
    c.onReadFailed();
    expect(kinds(c.tick(10))).toEqual(['read']);
  });

  it('stop gives up leadership (step-down) and ignores everything after', () => {
    const c = core();
    leading(c, 7, 0);
    expect(kinds(c.stop())).toEqual(['step-down']);
    expect(c.state).toBe('stopped');
    expect(c.tick(10)).toEqual([]);
  });
});

// ---- a simulated cluster -------------------------------------------------------------

interface SimNode {
  id: string;
  core: ElectionCore;
  alive: boolean;
  pausedUntil: number;
}

interface SimEvent {
  at: number;
  node: string;
  run: (node: SimNode, now: number) => ElectionEffect[];
}

/** A KV key with revisions and compare-and-set, as JetStream KV gives. */
class SimKv {
  revision = 0;
  current: { record: LeaderRecord; revision: number } | undefined;

  write(record: LeaderRecord, expected: number | undefined): WriteOutcome {
    const actual = this.current?.revision;
    if (expected === undefined ? actual !== undefined : actual !== expected) return { kind: 'conflict' };
    this.revision += 1;
    this.current = { record, revision: this.revision };
    return { kind: 'ok', revision: this.revision };
  }
}

/** Runs a cluster of election cores for `steps` steps; returns the violations of safety found. */
function simulate(ops: Array<{ dt: number; delays: number[]; fault: number; target: number }>): { overlaps: string[]; leaderAtEnd: boolean } {
  const nodes: SimNode[] = ['m1', 'm2', 'm3'].map((id) => ({ id, core: core(id), alive: true, pausedUntil: 0 }));
  const kv = new SimKv();
  let events: SimEvent[] = [];
  let now = 0;
  let d = 0;
  const overlaps: string[] = [];
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const delay = (list: number[]) => list[d++ % list.length]!;

  const perform = (node: SimNode, effects: ElectionEffect[], delays: number[]) => {
    for (const e of effects) {
      switch (e.kind) {
        case 'read': {
          const at = now + delay(delays);
          events.push({ at, node: node.id, run: (n, t) => n.core.observe(kv.current ? { kind: 'record', ...kv.current } : { kind: 'absent', revision: 0 }, t) });
          break;
        }
        case 'create':
        case 'update': {
          const applyAt = now + delay(delays);
          const expected = e.kind === 'create' ? undefined : e.revision;
          events.push({
            at: applyAt,
            node: '*kv',
            run: () => {
              const outcome = kv.write(e.record, expected);
              if (outcome.kind === 'ok') {
                for (const other of nodes) {
                  const snapshot = { kind: 'record' as const, ...kv.current! };
                  events.push({ at: applyAt + delay(delays), node: other.id, run: (n, t) => n.core.observe(snapshot, t) });
                }
              }
              events.push({ at: applyAt + delay(delays), node: node.id, run: (n, t) => n.core.onWriteResult(outcome, t) });
              return [];
            },
          });
          break;
        }
        case 'ping': {
          const target = byId.get(e.masterId);
          let outcome: PingOutcome;
          let at = now + delay(delays);
          if (target === undefined || !target.alive) outcome = { kind: 'no-responders' };
          else if (target.pausedUntil > at) {
            outcome = { kind: 'timeout' };
            at = now + 200;
          } else outcome = { kind: 'answered', leading: target.core.claimsLeadership(at) };
          events.push({ at, node: node.id, run: (n, t) => n.core.onPingResult(outcome, t) });
          break;
        }
        case 'step-down':
          events.push({ at: now + delay(delays), node: node.id, run: (n, t) => n.core.onSteppedDown(t) });
          break;
        default:
          break;
      }
    }
  };

  const check = () => {
    const acting = nodes.filter((n) => n.alive && n.pausedUntil <= now && n.core.mayAct(now)).map((n) => `${n.id}@${n.core.epoch}`);
    if (acting.length > 1) overlaps.push(`t=${now}: ${acting.join(', ')}`);
  };

  for (const op of ops) {
    now += op.dt;
    // Faults: crash (its key stays), pause for up to 3 s, or restart a crashed node.
    const target = nodes[op.target % nodes.length]!;
    if (op.fault === 1 && nodes.filter((n) => n.alive).length > 1) target.alive = false;
    if (op.fault === 2) target.pausedUntil = now + 500 + (op.delays[0]! * 50);
    if (op.fault === 3 && !target.alive) {
      target.alive = true;
      target.core = core(target.id);
    }
    events.sort((a, b) => a.at - b.at);
    const due = events.filter((e) => e.at <= now);
    events = events.filter((e) => e.at > now);
    for (const e of due) {
      if (e.node === '*kv') {
        e.run(nodes[0]!, now);
        continue;
      }
      const n = byId.get(e.node)!;
      if (!n.alive) continue;
      if (n.pausedUntil > now) {
        events.push({ ...e, at: n.pausedUntil }); // delivered when it resumes
        continue;
      }
      perform(n, e.run(n, now), op.delays);
      check();
    }
    for (const n of nodes) {
      if (!n.alive || n.pausedUntil > now) continue;
      perform(n, n.core.tick(now), op.delays);
      check();
    }
  }
  // Calm: no faults, short delays, for three leases: some live node must lead.
  for (const n of nodes) n.pausedUntil = 0;
  const calm = [1, 2, 3];
  for (let t = 0; t < 3000; t += 10) {
    now += 10;
    events.sort((a, b) => a.at - b.at);
    const due = events.filter((e) => e.at <= now);
    events = events.filter((e) => e.at > now);
    for (const e of due) {
      if (e.node === '*kv') e.run(nodes[0]!, now);
      else if (byId.get(e.node)!.alive) perform(byId.get(e.node)!, e.run(byId.get(e.node)!, now), calm);
      check();
    }
    for (const n of nodes) if (n.alive) perform(n, n.core.tick(now), calm);
    check();
  }
  return { overlaps, leaderAtEnd: nodes.some((n) => n.alive && n.core.mayAct(now)) };
}

describe('election core: a simulated cluster under faults', () => {
  it('never lets two live masters act as leader at once, and always elects one again', () => {
    const op = fc.record({
      dt: fc.integer({ min: 1, max: 60 }),
      delays: fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 4 }),
      fault: fc.constantFrom(0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3),
      target: fc.nat(2),
    });
    fc.assert(
      fc.property(fc.array(op, { minLength: 20, maxLength: 300 }), (ops) => {
        const { overlaps, leaderAtEnd } = simulate(ops);
        expect(overlaps).toEqual([]);
        expect(leaderAtEnd).toBe(true);
      }),
      { numRuns: 150, seed: 42 },
    );
  });
});
