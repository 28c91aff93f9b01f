/**
 * Carries out a fault schedule on the run's processes: at each fault's time it finds the
 * candidates alive then (the leader by PING, standbys, agents, the framework's executors
 * in /proc, the framework, nats-servers), picks one by the fault's draw, sends SIGKILL or
 * SIGSTOP, and after the fault's hold starts it again or sends SIGCONT. Bounded: one pass
 * over the schedule; `drain()` waits for every restore under way.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { ChaosCluster, RunProcess } from './cluster.js';
import { pingMaster } from './probe.js';
import { executorsOf, isUnder, scanProcesses } from './procs.js';
import { pickTarget } from './schedule.js';
import type { FaultKind, InjectedFault, PlannedFault } from './types.js';

/** A target found for a fault: a run process, or an executor (not restarted). */
type Target = { kind: 'process'; process: RunProcess } | { kind: 'executor'; pid: number; executorId: string };

/** Injects faults and remembers what it did. */
export class Injector {
  readonly injected: InjectedFault[] = [];
  private readonly restores = new Set<Promise<void>>();
  /** Wall-clock ms when the last restore happened (or the last fault with nothing to restore). */
  lastFaultEndedAt = 0;

  constructor(
    private readonly cluster: ChaosCluster,
    private readonly nc: NatsConnection,
    private readonly frameworkId: string,
    private readonly log: Logger,
    /** Where the executors may be looked for (by working directory). */
    private readonly keepCwd: (cwd: string) => boolean = (cwd) => isUnder(cwd, cluster.o.dir),
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
    const candidates = await this.candidates(fault.kind);
    const target = pickTarget(candidates, fault.pick);
    if (target === undefined) {
      this.injected.push({ at, kind: fault.kind, outcome: 'skipped', reason: `no ${fault.kind.split('-')[1]} to hit` });
      this.log.info({ kind: fault.kind }, 'fault skipped: no target');
      return;
    }
    if (target.kind === 'executor') {
      try {
        process.kill(target.pid, 'SIGKILL');
      } catch {
        // it ended meanwhile
      }
      this.injected.push({ at, kind: fault.kind, target: `executor ${target.executorId}`, pid: target.pid, outcome: 'injected' });
      this.lastFaultEndedAt = Math.max(this.lastFaultEndedAt, at);
      this.log.info({ kind: fault.kind, executor: target.executorId, pid: target.pid }, 'fault injected');
      return;
    }
    const p = target.process;
    const stop = fault.kind.startsWith('stop-');
    const pid = this.cluster.signal(p, stop ? 'SIGSTOP' : 'SIGKILL');
    const record: InjectedFault = { at, kind: fault.kind, target: p.name, ...(pid !== undefined && { pid }), outcome: 'injected' };
    this.injected.push(record);
    this.log.info({ kind: fault.kind, target: p.name, pid, holdMs: fault.holdMs }, 'fault injected');
    const restore = (async () => {
      await sleep(fault.holdMs);
      if (stop) this.cluster.signal(p, 'SIGCONT');
      else if (p.state === 'down') p.start();
      record.restoredAt = Date.now();
      this.lastFaultEndedAt = Math.max(this.lastFaultEndedAt, record.restoredAt);
      this.log.info({ kind: fault.kind, target: p.name }, stop ? 'resumed' : 'restarted');
    })();
    this.restores.add(restore);
    void restore.finally(() => this.restores.delete(restore));
  }

  /** Who a fault of `kind` may hit now, in a stable order. */
  private async candidates(kind: FaultKind): Promise<Target[]> {
    const running = (ps: RunProcess[]): Target[] => ps.filter((p) => p.state === 'running' && this.cluster.alive(p)).map((p) => ({ kind: 'process', process: p }));
    switch (kind) {
      case 'kill-leader':
      case 'stop-leader':
      case 'kill-standby':
      case 'stop-standby': {
        const masters = running(this.cluster.byRole('master')) as Array<Extract<Target, { kind: 'process' }>>;
        const leading = await Promise.all(masters.map((m) => pingMaster(this.nc, this.cluster.o.cluster, m.process.name)));
        const wantLeader = kind.endsWith('leader');
        return masters.filter((_, i) => (wantLeader ? leading[i] === true : leading[i] === false));
      }
      case 'kill-agent':
      case 'stop-agent':
        return running(this.cluster.byRole('agent'));
      case 'kill-framework':
      case 'stop-framework':
        return running(this.cluster.byRole('framework'));
      case 'kill-nats':
        return this.cluster.o.natsCluster ? running(this.cluster.byRole('nats')) : [];
      case 'kill-executor':
        return executorsOf(scanProcesses(this.keepCwd), this.frameworkId).map((e) => ({ kind: 'executor', ...e }));
    }
  }
}
