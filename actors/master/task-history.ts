/**
 * Each task's status history in the master: the statuses applied to it, oldest first,
 * bounded. Kept in memory only, like the task table: a new leader starts every history
 * afresh from the tasks its agents report.
 */
import type { TaskStatus } from '../../protocol/schema.js';
import type { TaskRecord } from './state.js';

/** How many statuses a task keeps: the oldest are dropped beyond this. */
export const MAX_TASK_STATUSES = 32;

/**
 * Listings of the whole state (GET_STATE, GET_TASKS, /state, the event stream's SUBSCRIBED)
 * carry the histories while the master holds at most this many tasks (live and completed);
 * beyond, they leave them out: histories would double a large state and push GET_STATE over
 * NATS past its 4 MiB payload limit. Each task's latest `status` is always there.
 */
export const HISTORY_IN_LISTINGS_MAX_TASKS = 4000;

/** Records `status` as the task's latest status and appends it to its history. */
export function recordStatus(task: TaskRecord, status: TaskStatus): void {
  task.status = status;
  const history = task.statuses ?? (task.statuses = []);
  history.push(status);
  if (history.length > MAX_TASK_STATUSES) history.splice(0, history.length - MAX_TASK_STATUSES);
}
