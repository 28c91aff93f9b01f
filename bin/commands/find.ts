/**
 * Finding what a command names in the master's state: a task, agent or framework by id,
 * by a unique id prefix, or by a unique name or hostname. Errors say how to list the candidates.
 */
import type { MasterSnapshot } from '../../protocol/operator.js';
import type { TaskView } from '../../protocol/operator-api.js';
import { AmbiguousError, NotFoundError } from '../errors.js';

type Agent = MasterSnapshot['agents'][number];
type Framework = MasterSnapshot['frameworks'][number];

function pick<T>(kind: 'task' | 'agent' | 'framework', wanted: string, items: readonly T[], id: (t: T) => string, names: (t: T) => string[], fix: string): T {
  const exact = items.filter((t) => id(t) === wanted);
  if (exact.length === 1) return exact[0]!;
  if (exact.length > 1) throw new AmbiguousError(kind, wanted, exact.map(id));
  const byName = items.filter((t) => names(t).includes(wanted));
  if (byName.length === 1) return byName[0]!;
  if (byName.length > 1) throw new AmbiguousError(kind, wanted, byName.map(id));
  const byPrefix = items.filter((t) => id(t).startsWith(wanted));
  if (byPrefix.length === 1) return byPrefix[0]!;
  if (byPrefix.length > 1) throw new AmbiguousError(kind, wanted, byPrefix.map(id));
  throw new NotFoundError(kind, wanted, fix);
}

/** Every task the master holds, running first, then completed. */
export function allTasks(state: MasterSnapshot): TaskView[] {
  return [...state.tasks, ...state.completedTasks];
}

/** The task `wanted` (id, prefix or name), optionally of one framework. */
export function findTask(state: MasterSnapshot, wanted: string, frameworkId?: string): TaskView {
  const tasks = allTasks(state).filter((t) => frameworkId === undefined || t.frameworkId === frameworkId);
  // A task id may repeat across frameworks; the running one wins over completed ones.
  const running = state.tasks.filter((t) => t.taskId === wanted && (frameworkId === undefined || t.frameworkId === frameworkId));
  if (running.length === 1) return running[0]!;
  return pick('task', wanted, tasks, (t) => t.taskId, (t) => [t.name], 'List tasks with `nesos tasks --all` (completed tasks are kept only for a while).');
}

/** The agent `wanted` (id, prefix or hostname). */
export function findAgent(state: MasterSnapshot, wanted: string): Agent {
  return pick('agent', wanted, state.agents, (a) => a.id, (a) => [a.hostname], 'List agents with `nesos agents`.');
}

/** The framework `wanted` (id, prefix or name). */
export function findFramework(state: MasterSnapshot, wanted: string): Framework {
  return pick('framework', wanted, state.frameworks, (f) => f.id, (f) => [f.name], 'List frameworks with `nesos frameworks`.');
}
