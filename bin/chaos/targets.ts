/**
 * What a fault can hit, whatever owns it: a process of the run's own cluster (restarted
 * after a kill), a process of an attached cluster (resumed after a stop), an executor (not
 * restored). The injector asks a `TargetSource` for the candidates of a fault's kind.
 */
import type { FaultKind } from './types.js';

/** The signal a fault sends. */
export type FaultSignal = 'SIGKILL' | 'SIGSTOP';

/** One process a fault may hit. */
export interface FaultTarget {
  /** What the report calls it: `master-2`, `agent-1`, `framework`, `executor <id>`. */
  name: string;
  /** Sends `signal`; resolves with the pid signalled. Throws when it cannot (the injector records a skip). */
  hit(signal: FaultSignal): number;
  /** Undoes the fault after its hold (restart, SIGCONT) and says how; absent when nothing is restored. */
  restore?(): string;
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
