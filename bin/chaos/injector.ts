/**
 * Carries out a fault schedule: at each fault's time it asks its `TargetSource` for the
 * candidates alive then, picks one by the fault's draw, sends SIGKILL or SIGSTOP, and after
 * the fault's hold restores it (restart, SIGCONT), or waits until it was restarted, when
 * the target says how. Every action is
 * recorded. Bounded: one pass over the schedule; `drain()` waits for every restore under way.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { pickTarget } from './schedule.js';
import { signalOf, type TargetSource } from './targets.js';
import type { InjectedFault, PlannedFault } from './types.js';

/** Injects faults and remembers what it did. */
export class Injector {
  readonly injected: InjectedFault[] = [];
  private readonly restores = new Set<Promise<void>>();
  /** Wall-clock ms when the last restore happened (or the last fault with nothing to restore). */
  lastFaultEndedAt = 0;

  constructor(
    private readonly source: TargetSource,
    private readonly log: Logger,
  ) {}

  /** Runs the schedule from `startedAt` (wall-clock ms); resolves after the last fault was injected, or on `abort`. */
  async run(schedule: readonly PlannedFault[], startedAt: number, abort: AbortSignal): Promise<void> {
    for (const fault of schedule) {
      const wait = startedAt + fault.atMs - Date.now();
      if (wait > 0) await sleep(wait, undefined, { signal: abort }).catch(() => undefined);
      if (abort.aborted) return;
      await this.inject(fault);
    }
  }

  /** Waits for every restart and SIGCONT under way. */
  async drain(): Promise<void> {
    while (this.restores.size > 0) await Promise.all([...this.restores]);
  }

  private async inject(fault: PlannedFault): Promise<void> {
    const at = Date.now();
    const target = pickTarget(await this.source.candidates(fault.kind), fault.pick);
    if (target === undefined) {
      this.injected.push({ at, kind: fault.kind, outcome: 'skipped', reason: `no ${fault.kind.split('-')[1]} to hit` });
      this.log.info({ kind: fault.kind }, 'fault skipped: no target');
      return;
    }
    const signal = signalOf(fault.kind);
    let pid: number;
    try {
      pid = target.hit(signal);
    } catch (e) {
      const reason = `${signal} to ${target.name} failed: ${e instanceof Error ? e.message : String(e)}`;
      this.injected.push({ at, kind: fault.kind, target: target.name, outcome: 'skipped', reason });
      this.log.warn({ kind: fault.kind, target: target.name, reason }, 'fault skipped');
      return;
    }
    const record: InjectedFault = { at, kind: fault.kind, target: target.name, pid, signal, outcome: 'injected' };
    this.injected.push(record);
    this.log.info({ kind: fault.kind, target: target.name, pid, holdMs: fault.holdMs }, 'fault injected');
    const restore = target.restore?.bind(target);
    if (restore === undefined) {
      this.lastFaultEndedAt = Math.max(this.lastFaultEndedAt, at);
      return;
    }
    const restoring = (async () => {
      await sleep(fault.holdMs);
      const restored = await restore();
      if (typeof restored === 'string') {
        record.restored = restored;
        record.restoredAt = Date.now();
      } else {
        record.restored = restored.how;
        record.restoredAt = restored.at ?? Date.now();
        if (restored.pid !== undefined) record.restartedPid = restored.pid;
      }
      this.lastFaultEndedAt = Math.max(this.lastFaultEndedAt, record.restoredAt);
      this.log.info({ kind: fault.kind, target: target.name, how: record.restored }, 'restored');
    })();
    this.restores.add(restoring);
    void restoring.finally(() => this.restores.delete(restoring));
  }
}
