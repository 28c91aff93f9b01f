// Inverse offers on the master's pure core (Mesos's maintenance primitives): frameworks that
// hold resources on a DRAINING agent are asked to release it by the window's start; their
// answers (ACCEPT / DECLINE, with refuse_seconds) are recorded per agent and shown in the
// maintenance status; inverse offers are rescinded when the window changes, the agent goes
// DOWN or away, or they time out, and come again once an answer's filter has run out.
import { describe, expect, it } from 'vitest';
import { decode, encode } from '../../protocol/codec.js';
import type { MasterEffect } from '../../actors/master/effects.js';
import { SchedulerCall, SchedulerEvent } from '../../protocol/scheduler.js';
import type { InverseOffer } from '../../protocol/schema.js';
import { TaskState as S } from '../../protocol/task-state.js';
import { MaintenanceStatusReply } from '../../protocol/operator-api.js';
import { EPOCH, MasterHarness, events, rejection } from '../harness/master-harness.js';

const HOUR = 3_600_000;
/** The harness's clock starts here (ms). */
const T0 = 1_000_000;

/** Agents a1 and a2; framework f1 (failover timeout 1 h) runs task t1 on a1; f2 is subscribed and holds nothing. */
function cluster() {
  const h = new MasterHarness();
  h.registerAgent('a1');
  h.registerAgent('a2');
  h.subscribe('f1', ['PARTITION_AWARE'], 3600);
  h.subscribe('f2');
  const { offerId } = h.offer('f1', 'a1', 'cpus:2;mem:1024');
  h.launch('f1', offerId, { taskId: 't1', agentId: 'a1' });
  h.update('a1', 'f1', 't1', S.RUNNING);
  return h;
}

/** Schedules `agentIds` from one hour from now for two hours (unless told otherwise). */
function schedule(h: MasterHarness, agentIds: string[], start = T0 + HOUR, durationMs = 2 * HOUR) {
  return h.operator({ type: 'UPDATE_MAINTENANCE_SCHEDULE', windows: [{ agentIds, start, durationMs }] });
}

/** The inverse offers sent to one framework by these effects. */
function inverseOffers(effects: readonly MasterEffect[], frameworkId: string): InverseOffer[] {
  return events(effects, frameworkId).flatMap((e) => (e.type === 'INVERSE_OFFERS' ? e.inverseOffers : []));
}

/** The ids of the inverse offers rescinded from one framework by these effects. */
function rescinded(effects: readonly MasterEffect[], frameworkId: string): string[] {
  return events(effects, frameworkId).flatMap((e) => (e.type === 'RESCIND_INVERSE_OFFER' ? [e.inverseOfferId] : []));
}

/** The maintenance status of one agent as GET_MAINTENANCE_STATUS answers it. */
function statusOf(h: MasterHarness, agentId: string) {
  const { reply } = h.operator({ type: 'GET_MAINTENANCE_STATUS' });
  // Parsed with the reply's schema: what the core answers is what the protocol allows.
  return reply.type === 'MAINTENANCE_STATUS' ? MaintenanceStatusReply.parse(reply).agents.find((a) => a.agentId === agentId) : undefined;
}

/** Time passes to `at`: the active agents heartbeat and the frameworks answer their heartbeats (so that only maintenance changes), then the core ticks. */
function tick(h: MasterHarness, at: number): MasterEffect[] {
  h.now = at;
  for (const agent of h.core.state.agents.values()) if (agent.status === 'active') h.agent({ type: 'HEARTBEAT', agentId: agent.id });
  for (const framework of h.core.state.frameworks.values()) if (framework.connected) h.core.onFrameworkHeartbeat(framework.id, true, at);
  return h.core.onTick(at);
}

function answer(h: MasterHarness, type: 'ACCEPT_INVERSE_OFFERS' | 'DECLINE_INVERSE_OFFERS', frameworkId: string, ids: string[], refuseSeconds?: number) {
  return h.call({ type, frameworkId, inverseOfferIds: ids, ...(refuseSeconds !== undefined && { filters: { refuseSeconds } }) });
}

describe('inverse offers are made', () => {
  it('scheduling an agent sends an inverse offer, in the same step, to each connected framework holding resources there, naming the agent and its window', () => {
    const h = cluster();
    const { effects } = schedule(h, ['a1']);
    // f1 runs t1 on a1: it is asked to release a1 from T0 + 1 h for 2 h. f2 holds nothing there.
    expect(inverseOffers(effects, 'f1')).toEqual([{ id: expect.any(String), frameworkId: 'f1', agentId: 'a1', hostname: 'a1.local', unavailability: { start: T0 + HOUR, durationMs: 2 * HOUR } }]);
    expect(inverseOffers(effects, 'f2')).toEqual([]);
    // Until it answers, the operator sees f1's answer as UNKNOWN, since the inverse offer was made (T0).
    expect(statusOf(h, 'a1')).toEqual({ agentId: 'a1', mode: 'DRAINING', statuses: [{ frameworkId: 'f1', status: 'UNKNOWN', updatedAt: T0 }] });
    // The inverse offer stands: later ticks do not repeat it.
    expect(inverseOffers(tick(h, T0 + 1000), 'f1')).toEqual([]);
  });

  it('an outstanding offer of the agent counts as holding resources there; an agent nobody holds gets no inverse offers', () => {
    const h = cluster();
    const { effects } = h.operator({ type: 'UPDATE_MAINTENANCE_SCHEDULE', windows: [{ agentIds: ['a1', 'a2'], start: T0, durationMs: HOUR }] });
    expect(inverseOffers(effects, 'f1').map((o) => o.agentId)).toEqual(['a1']);
    expect(inverseOffers(effects, 'f2')).toEqual([]);
    // a1 is offered to f2 (with its unavailability): f2 now holds resources there and is asked on the next tick.
    h.offer('f2', 'a1', 'cpus:1');
    expect(inverseOffers(tick(h, T0 + 100), 'f2').map((o) => o.agentId)).toEqual(['a1']);
    expect(statusOf(h, 'a2')).toEqual({ agentId: 'a2', mode: 'DRAINING' });
  });

  it('a task launched on a DRAINING agent brings its framework an inverse offer on the next tick', () => {
    const h = cluster();
    schedule(h, ['a2']);
    const { offerId } = h.offer('f2', 'a2', 'cpus:1;mem:128');
    // Offering a2 to f2 already makes f2 a holder; the next tick asks it.
    expect(inverseOffers(tick(h, T0 + 100), 'f2').map((o) => o.agentId)).toEqual(['a2']);
    h.launch('f2', offerId, { taskId: 't2', agentId: 'a2' });
    expect(statusOf(h, 'a2')?.statuses).toEqual([{ frameworkId: 'f2', status: 'UNKNOWN', updatedAt: T0 + 100 }]);
  });

  it('a disconnected framework is not asked; its outstanding inverse offers are dropped and it is asked again once it is back', () => {
    const h = cluster();
    const [io] = inverseOffers(schedule(h, ['a1']).effects, 'f1');
    // f1 misses its heartbeats: disconnected.
    h.core.onFrameworkHeartbeat('f1', false, h.now);
    h.core.onFrameworkHeartbeat('f1', false, h.now);
    const quiet = tick(h, T0 + 100);
    expect(rescinded(quiet, 'f1')).toEqual([]);
    expect(h.core.state.maintenance.inverseOffers.has(io!.id)).toBe(false);
    // It resubscribes: the next tick asks again (a new id).
    h.subscribe('f1', ['PARTITION_AWARE']);
    const again = inverseOffers(tick(h, T0 + 200), 'f1');
    expect(again.map((o) => o.agentId)).toEqual(['a1']);
    expect(again[0]?.id).not.toBe(io?.id);
  });
});

describe('frameworks answer', () => {
  it('ACCEPT is recorded with its time; the inverse offer closes; it is asked again only after refuse_seconds, and the answer stays ACCEPT', () => {
    const h = cluster();
    const [io] = inverseOffers(schedule(h, ['a1']).effects, 'f1');
    h.now = T0 + 2000;
    expect(answer(h, 'ACCEPT_INVERSE_OFFERS', 'f1', [io!.id], 30).reply).toEqual({ type: 'OK', epoch: EPOCH });
    expect(statusOf(h, 'a1')?.statuses).toEqual([{ frameworkId: 'f1', status: 'ACCEPT', updatedAt: T0 + 2000 }]);
    expect(h.core.state.maintenance.inverseOffers.size).toBe(0);
    // Answered at T0 + 2 000 with refuse_seconds 30: no inverse offer before T0 + 2 000 + 30 000 = T0 + 32 000.
    expect(inverseOffers(tick(h, T0 + 31_999), 'f1')).toEqual([]);
    const again = inverseOffers(tick(h, T0 + 32_000), 'f1');
    expect(again.map((o) => [o.agentId, o.unavailability])).toEqual([['a1', { start: T0 + HOUR, durationMs: 2 * HOUR }]]);
    expect(statusOf(h, 'a1')?.statuses).toEqual([{ frameworkId: 'f1', status: 'ACCEPT', updatedAt: T0 + 2000 }]);
  });

  it('DECLINE without filters refuses for the master\'s default 5 s, then the inverse offer comes again while the window applies', () => {
    const h = cluster();
    const [io] = inverseOffers(schedule(h, ['a1']).effects, 'f1');
    h.now = T0 + 500;
    answer(h, 'DECLINE_INVERSE_OFFERS', 'f1', [io!.id]);
    expect(statusOf(h, 'a1')?.statuses).toEqual([{ frameworkId: 'f1', status: 'DECLINE', updatedAt: T0 + 500 }]);
    // Declined at T0 + 500, default refuse 5 s: asked again from T0 + 500 + 5 000 = T0 + 5 500.
    expect(inverseOffers(tick(h, T0 + 5_499), 'f1')).toEqual([]);
    const [next] = inverseOffers(tick(h, T0 + 5_500), 'f1');
    expect(next?.agentId).toBe('a1');
    // A later ACCEPT replaces the DECLINE.
    h.now = T0 + 6_000;
    answer(h, 'ACCEPT_INVERSE_OFFERS', 'f1', [next!.id]);
    expect(statusOf(h, 'a1')?.statuses).toEqual([{ frameworkId: 'f1', status: 'ACCEPT', updatedAt: T0 + 6_000 }]);
  });

  it('a framework that released the agent is not asked again after its filter', () => {
    const h = cluster();
    const [io] = inverseOffers(schedule(h, ['a1']).effects, 'f1');
    answer(h, 'ACCEPT_INVERSE_OFFERS', 'f1', [io!.id], 1);
    h.update('a1', 'f1', 't1', S.FINISHED);
    // The 1 s filter ran out at T0 + 1 000; f1 holds nothing on a1 any more.
    expect(inverseOffers(tick(h, T0 + 10_000), 'f1')).toEqual([]);
    expect(statusOf(h, 'a1')?.statuses).toEqual([{ frameworkId: 'f1', status: 'ACCEPT', updatedAt: T0 }]);
  });

  it('refuses unknown inverse offers (UNKNOWN_INVERSE_OFFER) and another framework\'s (WRONG_FRAMEWORK), recording nothing of the call', () => {
    const h = cluster();
    const [mine] = inverseOffers(schedule(h, ['a1']).effects, 'f1');
    h.offer('f2', 'a1', 'cpus:1');
    const [theirs] = inverseOffers(tick(h, T0 + 100), 'f2');
    const unknown = rejection(() => answer(h, 'ACCEPT_INVERSE_OFFERS', 'f1', [mine!.id, 'inverse-offer-nope']));
    expect(unknown.code).toBe('UNKNOWN_INVERSE_OFFER');
    expect(unknown.message).toMatch(/inverse-offer-nope is unknown/);
    const foreign = rejection(() => answer(h, 'DECLINE_INVERSE_OFFERS', 'f1', [mine!.id, theirs!.id]));
    expect(foreign.code).toBe('WRONG_FRAMEWORK');
    // Nothing was recorded: both inverse offers stand, both answers are UNKNOWN.
    expect([...h.core.state.maintenance.inverseOffers.keys()].sort()).toEqual([mine!.id, theirs!.id].sort());
    expect(statusOf(h, 'a1')?.statuses?.map((s) => s.status)).toEqual(['UNKNOWN', 'UNKNOWN']);
    // An answered inverse offer cannot be answered twice.
    answer(h, 'ACCEPT_INVERSE_OFFERS', 'f1', [mine!.id]);
    expect(rejection(() => answer(h, 'DECLINE_INVERSE_OFFERS', 'f1', [mine!.id])).code).toBe('UNKNOWN_INVERSE_OFFER');
  });

  it('the calls are validated at decode: at least one id, refuse_seconds not negative', () => {
    const ok = decode(SchedulerCall, encode({ type: 'ACCEPT_INVERSE_OFFERS', frameworkId: 'f1', inverseOfferIds: ['i-1'], filters: { refuseSeconds: 0 } }));
    expect(ok.ok).toBe(true);
    expect(decode(SchedulerCall, encode({ type: 'DECLINE_INVERSE_OFFERS', frameworkId: 'f1', inverseOfferIds: [] })).ok).toBe(false);
    expect(decode(SchedulerCall, encode({ type: 'ACCEPT_INVERSE_OFFERS', frameworkId: 'f1', inverseOfferIds: ['i-1'], filters: { refuseSeconds: -1 } })).ok).toBe(false);
    const ev = decode(SchedulerEvent, encode({ type: 'INVERSE_OFFERS', epoch: 1, inverseOffers: [{ id: 'i', frameworkId: 'f', agentId: 'a', hostname: 'h', unavailability: { start: 5, durationMs: 0 } }] }));
    expect(ev.ok).toBe(false); // a window lasts a positive time
  });
});

describe('inverse offers are rescinded', () => {
  it('when the agent\'s window changes: rescinded, answers forgotten, a new inverse offer names the new window', () => {
    const h = cluster();
    const [io] = inverseOffers(schedule(h, ['a1']).effects, 'f1');
    answer(h, 'DECLINE_INVERSE_OFFERS', 'f1', [io!.id], 3600);
    const [next] = inverseOffers(tick(h, T0 + 3600_000), 'f1'); // the 1 h filter ran out
    h.now = T0 + 3600_000;
    const moved = schedule(h, ['a1'], T0 + 5 * HOUR, HOUR);
    expect(rescinded(moved.effects, 'f1')).toEqual([next!.id]);
    // The DECLINE was about the old window: forgotten, the new window is asked about at once.
    expect(inverseOffers(moved.effects, 'f1').map((o) => o.unavailability)).toEqual([{ start: T0 + 5 * HOUR, durationMs: HOUR }]);
    expect(statusOf(h, 'a1')?.statuses).toEqual([{ frameworkId: 'f1', status: 'UNKNOWN', updatedAt: T0 + 3600_000 }]);
  });

  it('not when the schedule changes elsewhere', () => {
    const h = cluster();
    const [io] = inverseOffers(schedule(h, ['a1']).effects, 'f1');
    const { effects } = h.operator({
      type: 'UPDATE_MAINTENANCE_SCHEDULE',
      windows: [
        { agentIds: ['a1'], start: T0 + HOUR, durationMs: 2 * HOUR },
        { agentIds: ['a2'], start: T0, durationMs: HOUR },
      ],
    });
    expect(rescinded(effects, 'f1')).toEqual([]);
    expect(h.core.state.maintenance.inverseOffers.has(io!.id)).toBe(true);
  });

  it('when the agent leaves the schedule, or goes DOWN', () => {
    const h = cluster();
    const [first] = inverseOffers(schedule(h, ['a1']).effects, 'f1');
    const cleared = h.operator({ type: 'UPDATE_MAINTENANCE_SCHEDULE', windows: [] });
    expect(rescinded(cleared.effects, 'f1')).toEqual([first!.id]);
    expect(h.core.state.maintenance.responses.size).toBe(0);

    const [second] = inverseOffers(schedule(h, ['a1']).effects, 'f1');
    answer(h, 'ACCEPT_INVERSE_OFFERS', 'f1', [second!.id]);
    h.offer('f1', 'a1', 'cpus:1'); // f1 holds a1 again after the task is gone
    const [third] = inverseOffers(tick(h, T0 + 5_000), 'f1');
    const down = h.operator({ type: 'START_MAINTENANCE', agentIds: ['a1'] });
    expect(rescinded(down.effects, 'f1')).toEqual([third!.id]);
    expect(statusOf(h, 'a1')).toEqual({ agentId: 'a1', mode: 'DOWN' });
    expect(inverseOffers(tick(h, T0 + 60_000), 'f1')).toEqual([]);
  });

  it('when the agent becomes unreachable', () => {
    const h = cluster();
    const [io] = inverseOffers(schedule(h, ['a1']).effects, 'f1');
    // At once, in the same step (not at the next tick); the tick has nothing left to rescind.
    expect(rescinded(h.core.markAgentUnreachable('a1', h.now), 'f1')).toEqual([io!.id]);
    expect(rescinded(tick(h, T0 + 100), 'f1')).toEqual([]);
  });

  it('after the offer timeout unanswered: rescinded and made again on the same tick; the answer stays UNKNOWN from the first', () => {
    const h = cluster();
    const [io] = inverseOffers(schedule(h, ['a1']).effects, 'f1');
    const timeout = h.core.config.offerTimeoutMs; // 60 000 ms by default
    // Made at T0: outstanding until T0 + 60 000.
    expect(rescinded(tick(h, T0 + timeout - 1), 'f1')).toEqual([]);
    const expired = tick(h, T0 + timeout);
    expect(rescinded(expired, 'f1')).toEqual([io!.id]);
    expect(inverseOffers(expired, 'f1').map((o) => o.agentId)).toEqual(['a1']);
    expect(statusOf(h, 'a1')?.statuses).toEqual([{ frameworkId: 'f1', status: 'UNKNOWN', updatedAt: T0 }]);
  });

  it('answers of a removed framework disappear from the status', () => {
    const h = cluster();
    const [io] = inverseOffers(schedule(h, ['a1']).effects, 'f1');
    answer(h, 'DECLINE_INVERSE_OFFERS', 'f1', [io!.id]);
    h.call({ type: 'TEARDOWN', frameworkId: 'f1' });
    tick(h, T0 + 100);
    expect(statusOf(h, 'a1')).toEqual({ agentId: 'a1', mode: 'DRAINING' });
  });
});
