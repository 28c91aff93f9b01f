/**
 * Invariants over what the framework saw (pure):
 *
 * - **terminal-seen**: every task it launched reached a terminal state it saw (through the
 *   updates stream or as a reconciliation answer). A task of which the master only ever
 *   said TASK_UNKNOWN counts as never launched when that can happen legitimately: its
 *   ACCEPT got no answer, or a fault that can change the leader (kill or stop of the
 *   leader, kill of a nats-server) came between its launch and the answer — the new
 *   leader rebuilds its tasks from the agents and never heard of a task that had not
 *   reached one. Otherwise a vanished task is a violation.
 * - **lifecycle-order**: each task's stream updates (repeats of a uuid left out) arrived in
 *   an order the task lifecycle allows, starting from TASK_STAGING; nothing after a
 *   terminal state.
 */
import { canTransition } from '../../protocol/task-lifecycle.js';
import { TaskState } from '../../protocol/task-state.js';
import { distinctStream, vanished, type TaskView } from './task-views.js';
import type { InjectedFault, Violation } from './types.js';

const LEADER_FAULTS = new Set(['kill-leader', 'stop-leader', 'kill-nats']);

/** terminal-seen: see the file's comment. */
export function checkTerminalSeen(views: readonly TaskView[], faults: readonly InjectedFault[]): Violation[] {
  const out: Violation[] = [];
  for (const v of views) {
    if (v.terminal !== undefined) continue;
    if (vanished(v)) {
      const answeredAt = v.answers[0]?.at ?? Number.POSITIVE_INFINITY;
      const leaderFault = faults.some((f) => f.outcome === 'injected' && LEADER_FAULTS.has(f.kind) && f.at >= v.launchedAt - 1000 && f.at <= answeredAt);
      if (v.accept !== 'ok' || leaderFault) continue;
      out.push({ invariant: 'terminal-seen', taskId: v.taskId, agentId: v.agentId, at: answeredAt, message: `task ${v.taskId} (${v.kind}) was accepted, then answered TASK_UNKNOWN with no leader change in between, and never reached a terminal state` });
      continue;
    }
    const last = v.stream.at(-1) ?? v.answers.at(-1);
    const lastSaid = last === undefined ? 'no update at all' : `last saw ${last.state}${last.reason !== undefined ? ` (${last.reason})` : ''}`;
    out.push({ invariant: 'terminal-seen', taskId: v.taskId, agentId: v.agentId, ...(last && { at: last.at }), message: `task ${v.taskId} (${v.kind}, accept ${v.accept}) never reached a terminal state the framework saw: ${lastSaid}` });
  }
  return out;
}

/** lifecycle-order: see the file's comment. */
export function checkLifecycleOrder(views: readonly TaskView[]): Violation[] {
  const out: Violation[] = [];
  for (const v of views) {
    let from: TaskState = TaskState.STAGING;
    const states: string[] = [];
    for (const u of distinctStream(v)) {
      states.push(u.state);
      if (!canTransition(from, u.state)) {
        out.push({ invariant: 'lifecycle-order', taskId: v.taskId, agentId: u.agentId ?? v.agentId, at: u.at, message: `task ${v.taskId} (${v.kind}): ${u.state}${u.reason !== undefined ? ` (${u.reason})` : ''} arrived after ${from}; updates in order seen: ${states.join(' → ')}` });
        break;
      }
      from = u.state;
    }
  }
  return out;
}
