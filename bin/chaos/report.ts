/**
 * The report of a run (pure): counts of what was injected and observed, the violations,
 * and how to reproduce it; as one JSON object and as a human summary.
 */
import { isTerminal } from '../../protocol/task-state.js';
import { distinctStream, taskViews, vanished } from './task-views.js';
import type { ChaosHistory, FaultKind, InjectedFault, Violation } from './types.js';

/** What an attached run worked on: the cluster, its processes found on this machine, the kinds used and left out. */
export interface AttachInfo {
  nats: string;
  cluster: string;
  /** The cluster's masters and agents found on this machine; `restartedBy`: the pid of the `nesos up` that restarts it (only those are killed). */
  local: Array<{ role: string; id?: string; pid: number; restartedBy?: number }>;
  /** The fault kinds used. */
  kinds: FaultKind[];
  /** The kinds left out, and why. */
  dropped: Array<{ kind: FaultKind; reason: string }>;
  /** Pids that were still paused at the end and were resumed then (empty when every restore happened on time). */
  resumedAtEnd: number[];
}

/** How the run was made: enough to reproduce it. */
export interface RunMeta {
  seed: number;
  durationMs: number;
  natsCluster: boolean;
  masters: number;
  agents: number;
  /** Where logs, journals and sandboxes are (kept with --keep, else removed). */
  dir: string;
  /** The command that reproduces the run. */
  command: string;
  /** Set when the run attached to a running cluster. */
  attach?: AttachInfo;
}

/** The report of a run. */
export interface ChaosReport {
  ok: boolean;
  /** `own`: the run started its cluster; `attach`: it ran against a running one (`attach` says which). */
  mode: 'own' | 'attach';
  attach?: AttachInfo;
  seed: number;
  durationMs: number;
  natsCluster: boolean;
  /** Counts, and `list`: every fault as injected or skipped (target, pid, signal, restore). */
  faults: { injected: number; skipped: number; byKind: Partial<Record<FaultKind, number>>; skippedByKind: Partial<Record<FaultKind, number>>; list: InjectedFault[] };
  tasks: {
    launched: number;
    terminal: number;
    byKind: Record<string, number>;
    byTerminalState: Record<string, number>;
    vanished: number;
    terminalOnlyByReconciliation: number;
    killRequested: number;
  };
  updates: { stream: number; duplicates: number; reconciliationAnswers: number };
  framework: { incarnations: number; subscriptions: number };
  masters: { samples: number; epochs: number[]; leaders: string[] };
  convergence: { convergedAfterMs: number | null; boundMs: number; problems: string[] };
  violations: Violation[];
  reproduce: string;
  dir: string;
}

function count<K extends string>(keys: readonly K[]): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  for (const k of keys) out[k] = (out[k] ?? 0) + 1;
  return out;
}

/** Builds the report of a run from what it recorded and what the checker found. */
export function buildReport(meta: RunMeta, history: ChaosHistory, violations: Violation[]): ChaosReport {
  const views = taskViews(history.journal);
  const injected = history.faults.filter((f) => f.outcome === 'injected');
  const skipped = history.faults.filter((f) => f.outcome === 'skipped');
  const stream = views.reduce((n, v) => n + v.stream.length, 0);
  const distinct = views.reduce((n, v) => n + distinctStream(v).length, 0);
  const c = history.convergence;
  return {
    ok: violations.length === 0,
    mode: meta.attach === undefined ? 'own' : 'attach',
    ...(meta.attach !== undefined && { attach: meta.attach }),
    seed: meta.seed,
    durationMs: meta.durationMs,
    natsCluster: meta.natsCluster,
    faults: { injected: injected.length, skipped: skipped.length, byKind: count(injected.map((f) => f.kind)), skippedByKind: count(skipped.map((f) => f.kind)), list: history.faults },
    tasks: {
      launched: views.length,
      terminal: views.filter((v) => v.terminal !== undefined).length,
      byKind: count(views.map((v) => v.kind)) as Record<string, number>,
      byTerminalState: count(views.flatMap((v) => (v.terminal !== undefined && isTerminal(v.terminal.state) ? [v.terminal.state] : []))) as Record<string, number>,
      vanished: views.filter(vanished).length,
      terminalOnlyByReconciliation: views.filter((v) => v.terminalOnlyByReconciliation).length,
      killRequested: views.filter((v) => v.killRequested).length,
    },
    updates: { stream, duplicates: stream - distinct, reconciliationAnswers: views.reduce((n, v) => n + v.answers.length, 0) },
    framework: {
      incarnations: history.journal.filter((e) => e.t === 'start').length,
      subscriptions: history.journal.filter((e) => e.t === 'subscribed').length,
    },
    masters: {
      samples: history.masterSamples.length,
      epochs: [...new Set(history.masterSamples.map((s) => s.epoch))].sort((a, b) => a - b),
      leaders: [...new Set(history.masterSamples.map((s) => s.masterId))],
    },
    convergence: { convergedAfterMs: c.convergedAt === undefined ? null : Math.max(0, c.convergedAt - c.lastFaultEndedAt), boundMs: c.boundMs, problems: c.problems },
    violations,
    reproduce: meta.command,
    dir: meta.dir,
  };
}

function pairs(record: Partial<Record<string, number>>): string {
  const entries = Object.entries(record).filter(([, n]) => n !== undefined && n > 0);
  return entries.length === 0 ? 'none' : entries.map(([k, n]) => `${k} ${n}`).join(', ');
}

function attachLines(a: AttachInfo, faults: readonly InjectedFault[]): string[] {
  const first = faults[0]?.at ?? 0;
  const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
  const done = faults.map((f) => {
    const when = `+${s(f.at - first)}`.padEnd(8);
    if (f.outcome === 'skipped') return `    ${when} ${f.kind}: skipped (${f.reason ?? 'no target'})`;
    const restored = f.restored === undefined ? (f.signal === 'SIGKILL' ? '' : ', NOT restored') : `, ${f.restored} after ${s((f.restoredAt ?? f.at) - f.at)}`;
    return `    ${when} ${f.kind}: ${f.signal ?? '?'} to ${f.target ?? '?'} (pid ${f.pid ?? '?'})${restored}`;
  });
  return [
    `  local:       ${a.local.map((p) => `${p.role} ${p.id ?? '(no id)'} pid ${p.pid}${p.restartedBy !== undefined ? ' (restarted by nesos up)' : ''}`).join(', ') || 'none'}`,
    `  fault kinds: ${a.kinds.join(', ')}`,
    ...a.dropped.map((d) => `  left out:    ${d.kind}: ${d.reason}`),
    `  actions:`,
    ...(done.length > 0 ? done : ['    none']),
    ...(a.resumedAtEnd.length > 0 ? [`  resumed at the end (SIGCONT): pids ${a.resumedAtEnd.join(', ')}`] : []),
  ];
}

/** The report for people: a few lines, the violations in full, the seed. */
export function formatReport(r: ChaosReport): string {
  const a = r.attach;
  const lines = [
    a === undefined
      ? `nesos chaos: seed ${r.seed}, ${r.durationMs / 1000} s of faults, ${r.natsCluster ? '3 nats-servers' : '1 nats-server'}`
      : `nesos chaos --attach: cluster "${a.cluster}" at ${a.nats}, seed ${r.seed}, ${r.durationMs / 1000} s of faults`,
    ...(a === undefined ? [] : attachLines(a, r.faults.list)),
    `  faults:      ${r.faults.injected} injected (${pairs(r.faults.byKind)})${r.faults.skipped > 0 ? `; ${r.faults.skipped} skipped (${pairs(r.faults.skippedByKind)})` : ''}`,
    `  tasks:       ${r.tasks.launched} launched, ${r.tasks.terminal} reached a terminal state (${pairs(r.tasks.byTerminalState)}); ${r.tasks.vanished} unknown to the master; ${r.tasks.terminalOnlyByReconciliation} ended only by reconciliation`,
    `  by kind:     ${pairs(r.tasks.byKind)}`,
    `  updates:     ${r.updates.stream} from the stream (${r.updates.duplicates} redelivered), ${r.updates.reconciliationAnswers} reconciliation answers`,
    `  framework:   ${r.framework.incarnations} processes, ${r.framework.subscriptions} subscriptions`,
    `  masters:     leaders seen ${r.masters.leaders.join(', ') || 'none'}; epochs ${r.masters.epochs.join(', ') || 'none'}`,
    `  convergence: ${r.convergence.convergedAfterMs === null ? `NOT within ${r.convergence.boundMs} ms` : `${r.convergence.convergedAfterMs} ms after the last fault (bound ${r.convergence.boundMs} ms)`}`,
  ];
  if (r.ok) {
    lines.push(`  result:      every invariant held`);
  } else {
    lines.push(`  result:      ${r.violations.length} VIOLATION${r.violations.length === 1 ? '' : 'S'}`);
    for (const v of r.violations.slice(0, 50)) lines.push(`    [${v.invariant}] ${v.message}`);
    if (r.violations.length > 50) lines.push(`    … and ${r.violations.length - 50} more (see the JSON line)`);
    lines.push(`  reproduce:   ${r.reproduce}`);
  }
  lines.push(`  files:       ${r.dir}`);
  return lines.join('\n');
}
