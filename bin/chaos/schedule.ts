/**
 * The fault schedule: pure, from a seed. The fault window (`warmupMs` to `durationMs −
 * MAX_HOLD_MS`, so that every process is restored by the end of the phase) is cut into
 * slots of the mean gap (shorter when needed for every kind to fit), one fault at a
 * drawn moment of each; the first slots take every kind once
 * (in an order drawn from the seed) so that a run long enough exercises each, the others a
 * kind drawn by weight. Which process a fault hits is decided at run time among those
 * alive then (`pickTarget`), from the fault's own draw, so a seed replays the same choices
 * when the same processes are up.
 */
import { createRng, shuffle, type Rng } from '../../actors/runtime/rng.js';
import type { FaultKind, PlannedFault } from './types.js';

/** How long each kind of fault holds its process down, in ms: [min, max]. */
export const HOLD_MS: Readonly<Record<FaultKind, readonly [number, number]>> = {
  // Around the 2 s lease: sometimes a paused leader is replaced, sometimes not.
  'kill-leader': [1000, 4000],
  'stop-leader': [1000, 4000],
  'kill-standby': [1000, 4000],
  'stop-standby': [1000, 4000],
  // Around 5 missed heartbeats (5 s): sometimes the agent becomes unreachable first.
  'kill-agent': [1000, 7000],
  'stop-agent': [2000, 8000],
  // The agent notices on its own; nothing to restore.
  'kill-executor': [0, 0],
  'kill-framework': [500, 3000],
  'stop-framework': [1000, 5000],
  'kill-nats': [2000, 6000],
};

/** The longest hold of any kind: faults start at least this long before the window ends. */
export const MAX_HOLD_MS = Math.max(...Object.values(HOLD_MS).map(([, max]) => max));

/** How often each kind is drawn once every kind had its turn (relative weights). */
export const FAULT_WEIGHTS: Readonly<Record<FaultKind, number>> = {
  'kill-leader': 2,
  'stop-leader': 1,
  'kill-standby': 1,
  'stop-standby': 1,
  'kill-agent': 2,
  'stop-agent': 2,
  'kill-executor': 3,
  'kill-framework': 2,
  'stop-framework': 1,
  'kill-nats': 2,
};

/** What the schedule is made from. */
export interface ScheduleOptions {
  seed: number;
  /** Length of the fault phase, ms. */
  durationMs: number;
  /** Kinds to inject (e.g. without `kill-nats` on a single nats-server). */
  kinds: readonly FaultKind[];
  /** No fault before this, ms (default 3000): the workload gets going first. */
  warmupMs?: number;
  /** Mean gap between faults, ms (default 4000); shortened so that every kind fits in the window when it can. */
  meanGapMs?: number;
}

/** The faults of a run, in time order. Same options, same schedule. */
export function planFaults(options: ScheduleOptions): PlannedFault[] {
  const rng = createRng(options.seed);
  const warmup = options.warmupMs ?? 3000;
  const windowEnd = options.durationMs - MAX_HOLD_MS;
  if (options.kinds.length === 0 || windowEnd <= warmup) return [];
  const windowMs = windowEnd - warmup;
  const gap = Math.min(options.meanGapMs ?? 4000, windowMs / options.kinds.length);
  // Slot i is [warmup + i·gap, warmup + (i+1)·gap); each fault lands in the middle 80 % of its slot.
  const slots = Math.floor(windowMs / gap + 1e-9);
  const times = Array.from({ length: slots }, (_, i) => Math.round(warmup + (i + 0.1 + 0.8 * rng()) * gap));
  const firstRound = shuffle(options.kinds, rng);
  return times.map((atMs, i) => {
    const kind = firstRound[i] ?? weighted(options.kinds, rng);
    const [min, max] = HOLD_MS[kind];
    return { atMs, kind, pick: rng(), holdMs: Math.round(min + (max - min) * rng()) };
  });
}

/** Draws a kind by `FAULT_WEIGHTS`. */
function weighted(kinds: readonly FaultKind[], rng: Rng): FaultKind {
  const total = kinds.reduce((sum, k) => sum + FAULT_WEIGHTS[k], 0);
  let x = rng() * total;
  for (const k of kinds) {
    x -= FAULT_WEIGHTS[k];
    if (x < 0) return k;
  }
  return kinds[kinds.length - 1] as FaultKind;
}

/** The candidate a fault's draw chooses (candidates in a stable order, e.g. by name); undefined when there is none. */
export function pickTarget<T>(candidates: readonly T[], pick: number): T | undefined {
  if (candidates.length === 0) return undefined;
  return candidates[Math.min(candidates.length - 1, Math.floor(pick * candidates.length))];
}

/** The kinds a run injects: all of them, without `kill-nats` unless NATS is a cluster. */
export function faultKinds(natsCluster: boolean, all: readonly FaultKind[]): FaultKind[] {
  return all.filter((k) => natsCluster || k !== 'kill-nats');
}
