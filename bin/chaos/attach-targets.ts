/**
 * Fault targets of an attached cluster: its masters (leader or standby, by PING) and
 * agents on this machine are paused and resumed through the `ResumeGuard`, or, when a
 * `nesos up` restarts them, SIGKILLed and watched until their `nesos up` started them
 * again (same id, new pid); the run's own workload framework is killed and restarted, or
 * paused and resumed; the framework's executors on this machine are killed (their agent
 * notices). The cluster's processes are looked up in /proc at each fault (a restarted one
 * has a new pid).
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LocalProcess } from './attach-procs.js';
import type { ChaosCluster } from './cluster.js';
import { executorTarget, runProcessTarget } from './cluster-targets.js';
import { pingMaster } from './probe.js';
import { executorsOf, isAlive, scanProcesses } from './procs.js';
import type { ResumeGuard } from './resume-guard.js';
import type { FaultTarget, Restored, TargetSource } from './targets.js';
import type { FaultKind } from './types.js';

/** A process of the attached cluster: paused, then resumed; any other signal is refused. */
export function pausedTarget(p: LocalProcess, guard: ResumeGuard): FaultTarget {
  return {
    name: p.id ?? `${p.role} pid ${p.pid}`,
    hit(signal) {
      if (signal !== 'SIGSTOP') throw new Error(`nesos chaos --attach only pauses a ${p.role} that nothing restarts`);
      guard.pause(p.pid);
      return p.pid;
    },
    restore() {
      return guard.resume(p.pid) ? 'SIGCONT' : 'SIGCONT (the process was gone)';
    },
  };
}

/** How long a killed process may take to be started again by its `nesos up` (its longest restart delay is 10 s), ms. */
export const RESTART_WAIT_MS = 30_000;

/**
 * A process of the attached cluster that its `nesos up` restarts: SIGKILLed; from then on
 * `find()` (the cluster's local processes) is watched, every 200 ms for at most `waitMs`,
 * for a process of the same role and id with another pid; `restore()` says which, and when
 * it was first seen, or that none came.
 */
export function restartedTarget(p: LocalProcess, find: () => readonly LocalProcess[], waitMs = RESTART_WAIT_MS): FaultTarget {
  let back: Promise<Restored> | undefined;
  const watch = async (): Promise<Restored> => {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const q = find().find((x) => x.role === p.role && x.id === p.id && x.pid !== p.pid);
      if (q !== undefined) return { how: `restarted by nesos up (pid ${q.restartedBy ?? '?'}): new pid ${q.pid}`, pid: q.pid, at: Date.now() };
      if (Date.now() > deadline) return `NOT restarted within ${waitMs / 1000} s: see the output of nesos up (pid ${p.restartedBy ?? '?'})`;
      await sleep(200);
    }
  };
  return {
    name: p.id ?? `${p.role} pid ${p.pid}`,
    hit(signal) {
      if (signal !== 'SIGKILL') throw new Error(`a ${p.role} restarted by nesos up is only killed here`);
      process.kill(p.pid, 'SIGKILL');
      back = watch();
      return p.pid;
    },
    restore() {
      return back ?? 'not killed';
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
    /** The cluster's masters and agents on this machine now (`findLocalProcesses`). */
    private readonly find: () => readonly LocalProcess[],
    /** Ids of the local agents the master had registered at the start. */
    private readonly registeredAgents: ReadonlySet<string>,
    /** Holds the run's own workload framework. */
    private readonly own: ChaosCluster,
    private readonly frameworkId: string,
    private readonly guard: ResumeGuard,
  ) {}

  /** The cluster's local processes of `role` that run (with an id, not paused); for a kill, only those a `nesos up` restarts. */
  private running(role: LocalProcess['role'], kill: boolean): LocalProcess[] {
    return this.find().filter((p) => p.role === role && p.id !== undefined && (!kill || p.restartedBy !== undefined) && !this.guard.isPaused(p.pid) && isAlive(p.pid));
  }

  private target(p: LocalProcess, kill: boolean): FaultTarget {
    return kill ? restartedTarget(p, this.find) : pausedTarget(p, this.guard);
  }

  /** See `TargetSource.candidates`. */
  async candidates(kind: FaultKind): Promise<FaultTarget[]> {
    switch (kind) {
      case 'stop-leader':
      case 'stop-standby':
      case 'kill-leader':
      case 'kill-standby': {
        const kill = kind.startsWith('kill-');
        const masters = this.running('master', kill);
        const leading = await Promise.all(masters.map((m) => pingMaster(this.nc, this.cluster, m.id as string)));
        const wantLeader = kind.endsWith('-leader');
        return masters.filter((_, i) => (wantLeader ? leading[i] === true : leading[i] === false)).map((m) => this.target(m, kill));
      }
      case 'stop-agent':
      case 'kill-agent': {
        const kill = kind === 'kill-agent';
        return this.running('agent', kill).filter((a) => this.registeredAgents.has(a.id as string)).map((a) => this.target(a, kill));
      }
      case 'kill-executor':
        return executorsOf(scanProcesses(frameworkCwd(this.frameworkId)), this.frameworkId).map((e) => executorTarget(e.pid, e.executorId));
      case 'kill-framework':
      case 'stop-framework':
        return this.own.byRole('framework').filter((p) => p.state === 'running' && this.own.alive(p)).map((p) => runProcessTarget(this.own, p));
      default:
        return []; // kill-nats: never planned, attachKinds refuses it
    }
  }
}
