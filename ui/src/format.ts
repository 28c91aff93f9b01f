/** Formatting for people: quantities, times, states. */

/** A resource quantity with its unit: mem and disk are in MB. */
export function quantity(name: string, n: number | undefined): string {
  const v = n ?? 0;
  if (name === 'mem' || name === 'disk') return v >= 1024 ? `${round(v / 1024)} GB` : `${round(v)} MB`;
  return String(round(v));
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** "3 s ago", "5 min ago", or a date for older times. `ms` is ms since the epoch. */
export function ago(ms: number | undefined, now = Date.now()): string {
  if (ms === undefined || ms <= 0) return '—';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}

/** A wall-clock time with seconds, e.g. 14:03:27. */
export function clock(ms: number | undefined): string {
  if (ms === undefined) return '—';
  return new Date(ms).toISOString().slice(11, 19);
}

/** TASK_RUNNING → RUNNING. */
export function shortState(state: string): string {
  return state.replace(/^TASK_/, '');
}

const TERMINAL = new Set(['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_ERROR', 'TASK_LOST', 'TASK_DROPPED', 'TASK_GONE', 'TASK_GONE_BY_OPERATOR']);

/** True for states a task never leaves. */
export function isTerminalState(state: string): boolean {
  return TERMINAL.has(state);
}

/** A CSS class for a task state: ok, bad, busy or idle. */
export function stateClass(state: string): string {
  if (state === 'TASK_FINISHED' || state === 'TASK_RUNNING' || state === 'active') return 'ok';
  if (TERMINAL.has(state) || state === 'unreachable' || state === 'TASK_UNREACHABLE') return 'bad';
  return 'busy';
}

/** Every task state, in lifecycle order. */
export const TASK_STATES = [
  'TASK_STAGING',
  'TASK_STARTING',
  'TASK_RUNNING',
  'TASK_KILLING',
  'TASK_FINISHED',
  'TASK_FAILED',
  'TASK_KILLED',
  'TASK_ERROR',
  'TASK_LOST',
  'TASK_DROPPED',
  'TASK_UNREACHABLE',
  'TASK_GONE',
  'TASK_GONE_BY_OPERATOR',
  'TASK_UNKNOWN',
] as const;
