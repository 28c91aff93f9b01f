// The framework's update inbox (pure): one update per task at a time, in stream order,
// whatever order and how many times the consumer delivers them.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UpdateInbox, type InboxUpdate, type UpdateInboxOptions } from '../../actors/scheduler/update-inbox.js';
import { TaskSource, TaskState, type TaskState as State } from '../../protocol/task-state.js';
import type { StoredStatus } from '../../protocol/updates.js';

const S = TaskState;

/** An inbox whose hand-overs, acks and naks are recorded. */
function harness(mode: UpdateInboxOptions['mode'] = 'manual', extra: Partial<UpdateInboxOptions> = {}) {
  const handed: string[] = [];
  const settled: string[] = [];
  const inbox = new UpdateInbox({ mode, deliver: (s) => handed.push(s.uuid), ...extra });
  const update = (taskId: string, seq: number, state: State = S.RUNNING): InboxUpdate => ({
    status: status(taskId, seq, state),
    seq,
    ack: () => settled.push(`ack ${seq}`),
    nak: (delayMs) => settled.push(delayMs === undefined ? `nak ${seq}` : `nak ${seq} +${delayMs}`),
  });
  return { inbox, handed, settled, update };
}

function status(taskId: string, seq: number, state: State): StoredStatus {
  return { taskId, state, source: TaskSource.EXECUTOR, uuid: `u${seq}`, timestamp: seq };
}

describe('UpdateInbox', () => {
  it('hands over a task’s updates one at a time, in stream order: the next once the previous is acknowledged', () => {
    const { inbox, handed, settled, update } = harness();
    expect(inbox.receive(update('t1', 1, S.STARTING))).toBe('delivered');
    expect(inbox.receive(update('t1', 3, S.FINISHED))).toBe('queued');
    expect(inbox.receive(update('t1', 2, S.RUNNING))).toBe('queued'); // arrived out of order
    expect(handed).toEqual(['u1']);
    expect(inbox.acknowledge('u1')).toBe(true);
    expect(handed).toEqual(['u1', 'u2']);
    expect(inbox.acknowledge('u3')).toBe(false); // not handed over yet
    inbox.acknowledge('u2');
    inbox.acknowledge('u3');
    expect(handed).toEqual(['u1', 'u2', 'u3']);
    expect(settled).toEqual(['ack 1', 'ack 2', 'ack 3']);
    expect(inbox.held).toBe(0);
  });

  it('keeps tasks independent: an unacknowledged update holds back only its own task', () => {
    const { inbox, handed, update } = harness();
    inbox.receive(update('t1', 1));
    inbox.receive(update('t1', 2));
    inbox.receive(update('t2', 3));
    inbox.receive(update('t2', 4));
    expect(handed).toEqual(['u1', 'u3']);
    inbox.acknowledge('u3');
    expect(handed).toEqual(['u1', 'u3', 'u4']);
  });

  it('auto mode: acknowledges once the listeners resolved; after a failed listener gives the update back with a delay and hands it over again', () => {
    const { inbox, handed, settled, update } = harness('auto', { retryDelayMs: 250 });
    inbox.receive(update('t1', 1));
    inbox.receive(update('t1', 2));
    inbox.handled('u1', false);
    expect(settled).toEqual(['nak 1 +250']);
    expect(handed).toEqual(['u1']);
    expect(inbox.receive(update('t1', 1))).toBe('delivered'); // the stream's redelivery
    inbox.handled('u1', true);
    expect(settled).toEqual(['nak 1 +250', 'ack 1']);
    expect(handed).toEqual(['u1', 'u1', 'u2']);
  });

  it('manual mode: waits for acknowledge; hands a redelivered head over again only once framework code has seen it', () => {
    const { inbox, handed, settled, update } = harness('manual');
    inbox.receive(update('t1', 1));
    expect(inbox.receive(update('t1', 1))).toBe('copy'); // listeners still running: no second hand-over
    inbox.handled('u1', true);
    expect(settled).toEqual([]);
    expect(inbox.receive(update('t1', 1))).toBe('delivered'); // redelivered after the ack wait
    expect(handed).toEqual(['u1', 'u1']);
    inbox.acknowledge('u1');
    expect(settled).toEqual(['ack 1']);
  });

  it('acknowledges and drops a copy of an acknowledged update, and an update older than one handed over', () => {
    const { inbox, handed, settled, update } = harness();
    inbox.receive(update('t1', 5));
    inbox.acknowledge('u5');
    expect(inbox.receive(update('t1', 5))).toBe('duplicate');
    inbox.receive(update('t1', 8));
    expect(inbox.receive(update('t1', 6))).toBe('stale');
    expect(handed).toEqual(['u5', 'u8']);
    expect(settled).toEqual(['ack 5', 'ack 5', 'ack 6']);
  });

  it('keeps one copy of a waiting update delivered twice, the newest', () => {
    const { inbox, handed, settled, update } = harness();
    inbox.receive(update('t1', 1));
    inbox.receive(update('t1', 2));
    expect(inbox.receive(update('t1', 2))).toBe('copy');
    expect(inbox.held).toBe(2);
    inbox.acknowledge('u1');
    inbox.acknowledge('u2');
    expect(handed).toEqual(['u1', 'u2']);
    expect(settled).toEqual(['ack 1', 'ack 2']);
  });

  it('hands over only legal moves of each task: a later update after a terminal one, or STAGING after UNREACHABLE, is acknowledged and dropped', () => {
    const dropped: string[] = [];
    const { inbox, handed, settled, update } = harness('manual', { onIllegal: (s, after) => dropped.push(`${s.uuid} ${s.state} after ${after}`) });
    inbox.receive(update('t1', 1, S.RUNNING));
    inbox.receive(update('t1', 2, S.UNREACHABLE));
    inbox.receive(update('t1', 3, S.STAGING)); // not a move the lifecycle has
    inbox.receive(update('t1', 4, S.FINISHED));
    inbox.receive(update('t1', 5, S.UNREACHABLE)); // made by a master that had not seen FINISHED
    for (const uuid of ['u1', 'u2', 'u4']) inbox.acknowledge(uuid);
    expect(handed).toEqual(['u1', 'u2', 'u4']);
    expect(dropped).toEqual([`u3 ${S.STAGING} after ${S.UNREACHABLE}`, `u5 ${S.UNREACHABLE} after ${S.FINISHED}`]);
    expect(settled.slice().sort()).toEqual(['ack 1', 'ack 2', 'ack 3', 'ack 4', 'ack 5']);
    // the task has ended: an update arriving afterwards (newer than any) is dropped too
    expect(inbox.receive(update('t1', 9, S.RUNNING))).toBe('illegal');
    expect(handed).toEqual(['u1', 'u2', 'u4']);
  });

  it('remembers ended tasks (boundedly), so a late copy of their last update is dropped', () => {
    const { inbox, handed, update } = harness('manual', { rememberEnded: 2 });
    for (const [task, seq] of [['a', 1], ['b', 2], ['c', 3]] as const) {
      inbox.receive(update(task, seq, S.FINISHED));
      inbox.acknowledge(`u${seq}`);
    }
    expect(inbox.receive(update('c', 3, S.FINISHED))).toBe('duplicate');
    expect(inbox.receive(update('b', 2, S.FINISHED))).toBe('duplicate');
    expect(inbox.receive(update('a', 1, S.FINISHED))).toBe('delivered'); // forgotten: at-least-once
    expect(handed).toEqual(['u1', 'u2', 'u3', 'u1']);
  });

  it('after a restart, holds everything back until the updates an earlier process left unacknowledged are in, then hands over in order', () => {
    const { inbox, handed, settled, update } = harness();
    // the consumer says: 2 updates delivered before and not acknowledged, all at sequence ≤ 5
    inbox.holdFor(2, 5);
    expect(inbox.receive(update('t1', 7))).toBe('queued'); // newer, delivered at once
    expect(inbox.receive(update('t2', 8))).toBe('queued');
    expect(inbox.receive(update('t1', 2))).toBe('queued'); // a redelivery, after the ack wait
    expect(inbox.receive(update('t1', 2))).toBe('copy'); // counted once
    expect(handed).toEqual([]);
    expect(inbox.holding).toBe(true);
    inbox.receive(update('t1', 4));
    expect(inbox.holding).toBe(false);
    expect(handed).toEqual(['u2', 'u8']);
    inbox.acknowledge('u2');
    inbox.acknowledge('u4');
    expect(handed).toEqual(['u2', 'u8', 'u4', 'u7']);
    expect(settled).toEqual(['ack 2', 'ack 4']); // nothing dropped
  });

  it('stops holding back when released (the ack wait is over), and does not hold for nothing', () => {
    const { inbox, handed, update } = harness();
    inbox.holdFor(3, 5);
    inbox.receive(update('t1', 9));
    inbox.release();
    expect(handed).toEqual(['u9']);
    inbox.holdFor(0, 5);
    expect(inbox.holding).toBe(false);
    inbox.receive(update('t2', 10));
    expect(handed).toEqual(['u9', 'u10']);
  });

  it('hands each task’s updates over in increasing stream order and loses none but older ones, whatever the deliveries (property)', () => {
    // Three tasks with four updates each (sequences 1..12, a task's in order). The consumer
    // delivers and redelivers them in any order; framework code acknowledges heads at random
    // moments, sometimes after a failed listener (auto mode).
    const op = fc.oneof(
      fc.record({ kind: fc.constant('deliver' as const), seq: fc.integer({ min: 1, max: 12 }) }),
      fc.record({ kind: fc.constant('handle' as const), task: fc.integer({ min: 0, max: 2 }), ok: fc.boolean() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), fc.constantFrom<'auto' | 'manual'>('auto', 'manual'), (ops, mode) => {
        const handed: StoredStatus[] = [];
        const acked = new Set<number>();
        const inbox = new UpdateInbox({ mode, deliver: (s) => handed.push(s) });
        const deliver = (seq: number): void => {
          const task = `t${(seq - 1) % 3}`;
          inbox.receive({ status: status(task, seq, S.RUNNING), seq, ack: () => acked.add(seq), nak: () => undefined });
        };
        const settle = (task: string, ok: boolean): void => {
          const head = [...handed].reverse().find((s) => s.taskId === task);
          if (head === undefined || acked.has(head.timestamp)) return;
          if (mode === 'auto') inbox.handled(head.uuid, ok);
          else if (ok) inbox.acknowledge(head.uuid);
        };
        for (const o of ops) {
          if (o.kind === 'deliver') deliver(o.seq);
          else settle(`t${o.task}`, o.ok);
        }
        // Drain: the stream eventually delivers everything not acknowledged, in order, and
        // framework code acknowledges it.
        for (let seq = 1; seq <= 12; seq++) {
          if (!acked.has(seq)) deliver(seq);
          for (let i = 0; i < 12; i++) for (const t of ['t0', 't1', 't2']) settle(t, true);
        }
        for (const t of ['t0', 't1', 't2']) {
          const seqs = handed.filter((s) => s.taskId === t).map((s) => s.timestamp);
          // in order, a head possibly handed over again right after itself
          for (let i = 1; i < seqs.length; i++) expect(seqs[i]!).toBeGreaterThanOrEqual(seqs[i - 1]!);
          // the task's last update always arrives
          const last = Math.max(...[1, 2, 3, 4].map((k) => (k - 1) * 3 + Number(t.slice(1)) + 1));
          expect(seqs).toContain(last);
        }
        // everything ends acknowledged, and nothing is held
        expect([...acked].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        expect(inbox.held).toBe(0);
      }),
      { numRuns: 300 },
    );
  });
});
