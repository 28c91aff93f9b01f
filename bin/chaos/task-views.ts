/**
 * The framework's journal folded into one record per task: how it was launched, every
 * update it saw (stream updates, with uuid, apart from reconciliation answers, without),
 * and how it settled. Pure; used by the invariant checker and the report.
 */
import { isTerminal, TaskState } from '../../protocol/task-state.js';
import type { JournalEntry, TaskKind } from './types.js';

/** One update as the framework saw it. */
export interface SeenUpdate {
  at: number;
  state: TaskState;
  uuid?: string;
  agentId?: string;
  reason?: string;
  healthy?: boolean;
}

/** What the framework knows of one task. */
export interface TaskView {
  taskId: string;
  kind: TaskKind;
  agentId: string;
  launchedAt: number;
  /** How its ACCEPT ended: `ok`, `failed` (no answer or refused: it may or may not run), or `unknown` (the framework died first). */
  accept: 'ok' | 'failed' | 'unknown';
  /** Stream updates (with uuid) in the order seen, duplicates (same uuid) included. */
  stream: SeenUpdate[];
  /** Reconciliation answers (no uuid) in the order seen. */
  answers: SeenUpdate[];
  /** The first terminal state seen, by either path. */
  terminal?: SeenUpdate;
  /** True when a terminal state came only as a reconciliation answer, never through the stream. */
  terminalOnlyByReconciliation: boolean;
  /** True when the framework asked to kill it. */
  killRequested: boolean;
}

/** Folds a journal into task views, in launch order. */
export function taskViews(journal: readonly JournalEntry[]): TaskView[] {
  const views = new Map<string, TaskView>();
  for (const e of journal) {
    if (e.t === 'launch') {
      views.set(e.taskId, {
        taskId: e.taskId,
        kind: e.kind,
        agentId: e.agentId,
        launchedAt: e.at,
        accept: 'unknown',
        stream: [],
        answers: [],
        terminalOnlyByReconciliation: false,
        killRequested: false,
      });
    } else if (e.t === 'accept') {
      for (const id of e.taskIds) {
        const v = views.get(id);
        if (v !== undefined) v.accept = e.outcome;
      }
    } else if (e.t === 'kill') {
      const v = views.get(e.taskId);
      if (v !== undefined) v.killRequested = true;
    } else if (e.t === 'update') {
      const v = views.get(e.taskId);
      if (v === undefined) continue;
      const seen: SeenUpdate = { at: e.at, state: e.state, ...(e.uuid !== undefined && { uuid: e.uuid }), ...(e.agentId !== undefined && { agentId: e.agentId }), ...(e.reason !== undefined && { reason: e.reason }), ...(e.healthy !== undefined && { healthy: e.healthy }) };
      (e.uuid === undefined ? v.answers : v.stream).push(seen);
      if (v.terminal === undefined && isTerminal(e.state)) v.terminal = seen;
    }
  }
  for (const v of views.values()) {
    v.terminalOnlyByReconciliation = v.terminal !== undefined && !v.stream.some((u) => isTerminal(u.state));
  }
  return [...views.values()];
}

/** True when the only thing ever said of the task is TASK_UNKNOWN (the master never had it, or forgot it). */
export function vanished(v: TaskView): boolean {
  return v.terminal === undefined && v.stream.length === 0 && v.answers.length > 0 && v.answers.every((a) => a.state === TaskState.UNKNOWN);
}

/** The stream updates of a task with repeats of a uuid already seen left out, in the order seen. */
export function distinctStream(v: TaskView): SeenUpdate[] {
  const seen = new Set<string>();
  const out: SeenUpdate[] = [];
  for (const u of v.stream) {
    if (u.uuid === undefined || seen.has(u.uuid)) continue;
    seen.add(u.uuid);
    out.push(u);
  }
  return out;
}
