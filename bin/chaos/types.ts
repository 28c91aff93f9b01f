/**
 * What a chaos run plans and records: the faults it injects, the observations it makes
 * (the framework's journal, the master's state, the task processes it sees) and what the
 * invariant checker says about them. Plain data, shared by the pure planner and checker
 * and by the shells that produce the observations.
 */
import type { TaskState } from '../../protocol/task-state.js';

/** Every kind of fault a run can inject. */
export const FAULT_KINDS = [
  'kill-leader',
  'stop-leader',
  'kill-standby',
  'stop-standby',
  'kill-agent',
  'stop-agent',
  'kill-executor',
  'kill-framework',
  'stop-framework',
  'kill-nats',
] as const;
/** One kind of fault: SIGKILL (then a restart, except executors) or SIGSTOP (then SIGCONT) of one process. */
export type FaultKind = (typeof FAULT_KINDS)[number];

/** A fault of the schedule: when, what, which candidate, and how long until the process is restored. */
export interface PlannedFault {
  /** Milliseconds after the start of the fault phase. */
  atMs: number;
  /** What to do to which kind of process. */
  kind: FaultKind;
  /** In [0, 1): the candidate chosen among those alive at the time (`pickTarget`). */
  pick: number;
  /** Until the restart (kill) or SIGCONT (stop), in ms; 0 for executors, which are not restarted. */
  holdMs: number;
}

/** A fault as it was injected (or skipped, when no process could take it). */
export interface InjectedFault {
  /** Wall-clock ms. */
  at: number;
  kind: FaultKind;
  /** The process's name (`master-2`, `agent-1`, `framework`, `nats-3`, `executor <task>`), absent when skipped. */
  target?: string;
  pid?: number;
  /** The signal sent, when injected. */
  signal?: 'SIGKILL' | 'SIGSTOP';
  outcome: 'injected' | 'skipped';
  /** Why it was skipped. */
  reason?: string;
  /** Wall-clock ms of the restart or SIGCONT, when there was one. */
  restoredAt?: number;
  /** How it was restored (`SIGCONT`, `restarted`, …), when it was. */
  restored?: string;
  /** The pid of the process that replaced the killed one, when it was restarted. */
  restartedPid?: number;
}

/** The workload's kinds of task. */
export const TASK_KINDS = ['true', 'short', 'long', 'failing', 'killed', 'healthy', 'unhealthy'] as const;
/** One kind of task the workload framework launches. */
export type TaskKind = (typeof TASK_KINDS)[number];

/** One line of the workload framework's journal (append-only JSON lines). */
export type JournalEntry =
  | { t: 'start'; at: number; incarnation: number; pid: number; frameworkId: string }
  | { t: 'subscribed'; at: number; masterId: string; epoch: number }
  | { t: 'launch'; at: number; taskId: string; kind: TaskKind; agentId: string }
  | { t: 'accept'; at: number; taskIds: string[]; outcome: 'ok' | 'failed'; error?: string }
  | { t: 'kill'; at: number; taskId: string }
  | { t: 'update'; at: number; taskId: string; state: TaskState; uuid?: string; agentId?: string; reason?: string; healthy?: boolean; source: string }
  | { t: 'drained'; at: number; unsettled: number };

/** What GET_STATE said at one moment, reduced to what the checker needs. */
export interface MasterSample {
  at: number;
  masterId: string;
  epoch: number;
  agents: Array<{ id: string; status: string; resources: string }>;
  tasks: Array<{ taskId: string; agentId: string; state: TaskState; resources: string }>;
  offers: Array<{ id: string; agentId: string; frameworkId: string; resources: string; createdAt: number }>;
}

/** The task processes alive at one moment: each task's id and its sandbox run directory. */
export interface ProcessSample {
  at: number;
  runs: Array<{ taskId: string; sandbox: string }>;
}

/** Whether the cluster settled after the last fault. */
export interface Convergence {
  /** Wall-clock ms when the last fault was over (its process restored). */
  lastFaultEndedAt: number;
  /** The bound it had, in ms. */
  boundMs: number;
  /** Wall-clock ms when every condition held, absent if it never did within the bound. */
  convergedAt?: number;
  /** What still did not hold at the last probe (empty once converged). */
  problems: string[];
}

/** Everything a run recorded: the checker's input. */
export interface ChaosHistory {
  faults: InjectedFault[];
  journal: JournalEntry[];
  masterSamples: MasterSample[];
  processSamples: ProcessSample[];
  /** Sandbox run directories found per task id at the end (across every agent). */
  sandboxRuns: Record<string, number>;
  convergence: Convergence;
}

/** The invariants a run is checked against. */
export const INVARIANTS = ['terminal-seen', 'lifecycle-order', 'no-double-run', 'allocation-within-resources', 'converged'] as const;
/** One invariant. */
export type Invariant = (typeof INVARIANTS)[number];

/** One broken invariant, precisely. */
export interface Violation {
  invariant: Invariant;
  message: string;
  taskId?: string;
  agentId?: string;
  /** Wall-clock ms of the observation that shows it, when there is one. */
  at?: number;
}
