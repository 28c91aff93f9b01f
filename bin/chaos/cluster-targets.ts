/**
 * Fault targets of the run's own cluster: the leader by PING, standbys, agents, the
 * framework and nats-servers (SIGKILL, then started again with the same arguments; or
 * SIGSTOP, then SIGCONT), and the framework's executors in /proc (SIGKILL, not restored).
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { ChaosCluster, RunProcess } from './cluster.js';
import { pingMaster } from './probe.js';
import { executorsOf, scanProcesses } from './procs.js';
import type { FaultSignal, FaultTarget, TargetSource } from './targets.js';
import type { FaultKind } from './types.js';

/** A process of the run: SIGKILLed then restarted, or SIGSTOPped then resumed. */
export function runProcessTarget(cluster: ChaosCluster, p: RunProcess): FaultTarget {
  let sent: FaultSignal | undefined;
  return {
    name: p.name,
    hit(signal) {
      sent = signal;
      const pid = cluster.signal(p, signal);
      if (pid === undefined) throw new Error(`${p.name} has no process`);
      return pid;
    },
    restore() {
      if (sent === 'SIGSTOP') {
        cluster.signal(p, 'SIGCONT');
        return 'SIGCONT';
      }
      if (p.state !== 'down') return 'came back by itself';
      p.start();
      const pid = p.child?.process.pid;
      return pid === undefined ? 'restarted' : { how: 'restarted', pid };
    },
  };
}

/** An executor of the workload framework: SIGKILLed, not restored (its agent notices). */
export function executorTarget(pid: number, executorId: string): FaultTarget {
  return {
    name: `executor ${executorId}`,
    hit() {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // it ended meanwhile
      }
      return pid;
    },
  };
}

/** The run's own cluster as a target source. */
export class ClusterTargets implements TargetSource {
  constructor(
    private readonly cluster: ChaosCluster,
    private readonly nc: NatsConnection,
    private readonly frameworkId: string,
    /** Where the executors may be looked for (by working directory). */
    private readonly keepCwd: (cwd: string) => boolean,
  ) {}

  /** See `TargetSource.candidates`. */
  async candidates(kind: FaultKind): Promise<FaultTarget[]> {
    const running = (ps: RunProcess[]): RunProcess[] => ps.filter((p) => p.state === 'running' && this.cluster.alive(p));
    const targets = (ps: RunProcess[]): FaultTarget[] => ps.map((p) => runProcessTarget(this.cluster, p));
    switch (kind) {
      case 'kill-leader':
      case 'stop-leader':
      case 'kill-standby':
      case 'stop-standby': {
        const masters = running(this.cluster.byRole('master'));
        const leading = await Promise.all(masters.map((m) => pingMaster(this.nc, this.cluster.o.cluster, m.name)));
        const wantLeader = kind.endsWith('leader');
        return targets(masters.filter((_, i) => (wantLeader ? leading[i] === true : leading[i] === false)));
      }
      case 'kill-agent':
      case 'stop-agent':
        return targets(running(this.cluster.byRole('agent')));
      case 'kill-framework':
      case 'stop-framework':
        return targets(running(this.cluster.byRole('framework')));
      case 'kill-nats':
        return this.cluster.o.natsCluster ? targets(running(this.cluster.byRole('nats'))) : [];
      case 'kill-executor':
        return executorsOf(scanProcesses(this.keepCwd), this.frameworkId).map((e) => executorTarget(e.pid, e.executorId));
    }
  }
}
