/**
 * What a fault can hit, whatever owns it: a process of the run's own cluster (restarted
 * after a kill), a process of an attached cluster (resumed after a stop, or restarted by
 * its `nesos up` after a kill), an executor (not restored). The injector asks a `TargetSource` for the candidates of a fault's kind.
 */
import type { FaultKind } from './types.js';

/** The signal a fault sends. */
export type FaultSignal = 'SIGKILL' | 'SIGSTOP';

/** How a target was restored: what happened, and the new process's pid and when it was seen, when it was restarted. */
export type Restored = string | { how: string; pid?: number; at?: number };

/** One process a fault may hit. */
export interface FaultTarget {
  /** What the report calls it: `master-2`, `agent-1`, `framework`, `executor <id>`. */
  name: string;
  /** Sends `signal`; resolves with the pid signalled. Throws when it cannot (the injector records a skip). */
  hit(signal: FaultSignal): number;
  /** Undoes the fault after its hold (restart, SIGCONT), or waits for it to be undone, and says how; absent when nothing is restored. */
  restore?(): Restored | Promise<Restored>;
}

/** Finds the candidates of a fault. */
export interface TargetSource {
  /** Who a fault of `kind` may hit now, in a stable order (the fault's draw picks one). */
  candidates(kind: FaultKind): Promise<FaultTarget[]>;
}

/** The signal a fault of `kind` sends. */
export function signalOf(kind: FaultKind): FaultSignal {
  return kind.startsWith('stop-') ? 'SIGSTOP' : 'SIGKILL';
}
