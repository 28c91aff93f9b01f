/**
 * Fault targets of an attached cluster: its masters (leader or standby, by PING) and
 * agents on this machine are paused and resumed through the `ResumeGuard`, never killed;
 * the run's own workload framework is killed and restarted, or paused and resumed; the
 * framework's executors on this machine are killed (their agent notices).
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { LocalProcess } from './attach-procs.js';
import type { ChaosCluster } from './cluster.js';
import { executorTarget, runProcessTarget } from './cluster-targets.js';
import { pingMaster } from './probe.js';
import { executorsOf, isAlive, scanProcesses } from './procs.js';
import type { ResumeGuard } from './resume-guard.js';
import type { FaultTarget, TargetSource } from './targets.js';
import type { FaultKind } from './types.js';

/** A process of the attached cluster: paused, then resumed; any other signal is refused. */
export function pausedTarget(p: LocalProcess, guard: ResumeGuard): FaultTarget {
  return {
    name: p.id ?? `${p.role} pid ${p.pid}`,
    hit(signal) {
      if (signal !== 'SIGSTOP') throw new Error(`nesos chaos --attach only pauses the cluster's ${p.role}s`);
      guard.pause(p.pid);
      return p.pid;
    },
    restore() {
      return guard.resume(p.pid) ? 'SIGCONT' : 'SIGCONT (the process was gone)';
    },
  };
}

/** The sandbox directory part that marks the processes of framework `frameworkId`. */
export function frameworkCwd(frameworkId: string): (cwd: string) => boolean {
  const marker = `/frameworks/${frameworkId}/`;
  return (cwd) => cwd.includes(marker);
}

/** An attached cluster as a target source. */
export class AttachTargets implements TargetSource {
  constructor(
    private readonly nc: NatsConnection,
    private readonly cluster: string,
    /** The cluster's masters and agents on this machine (found at the start). */
    private readonly local: readonly LocalProcess[],
    /** Ids of the local agents the master had registered at the start. */
    private readonly registeredAgents: ReadonlySet<string>,
    /** Holds the run's own workload framework. */
    private readonly own: ChaosCluster,
    private readonly frameworkId: string,
    private readonly guard: ResumeGuard,
  ) {}

  private running(role: LocalProcess['role']): LocalProcess[] {
    return this.local.filter((p) => p.role === role && p.id !== undefined && !this.guard.isPaused(p.pid) && isAlive(p.pid));
  }

  /** See `TargetSource.candidates`. */
  async candidates(kind: FaultKind): Promise<FaultTarget[]> {
    switch (kind) {
      case 'stop-leader':
      case 'stop-standby': {
        const masters = this.running('master');
        const leading = await Promise.all(masters.map((m) => pingMaster(this.nc, this.cluster, m.id as string)));
        const wantLeader = kind === 'stop-leader';
        return masters.filter((_, i) => (wantLeader ? leading[i] === true : leading[i] === false)).map((m) => pausedTarget(m, this.guard));
      }
      case 'stop-agent':
        return this.running('agent').filter((a) => this.registeredAgents.has(a.id as string)).map((a) => pausedTarget(a, this.guard));
      case 'kill-executor':
        return executorsOf(scanProcesses(frameworkCwd(this.frameworkId)), this.frameworkId).map((e) => executorTarget(e.pid, e.executorId));
      case 'kill-framework':
      case 'stop-framework':
        return this.own.byRole('framework').filter((p) => p.state === 'running' && this.own.alive(p)).map((p) => runProcessTarget(this.own, p));
      default:
        return []; // never planned: attachKinds refuses them
    }
  }
}
