/**
 * The run's observer: every `intervalMs`, the leader's state (for the allocation
 * invariant) and the chaos framework's task processes (for the no-double-run invariant),
 * until stopped, or `maxSamples` taken. Samples are kept in memory for the checker.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { leaderState, sampleOf } from './probe.js';
import { scanProcesses, taskRunsOf, type ProcInfo } from './procs.js';
import type { MasterSample, ProcessSample } from './types.js';

/** Samples the cluster in the background. */
export class Monitor {
  readonly masterSamples: MasterSample[] = [];
  readonly processSamples: ProcessSample[] = [];
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly cluster: string,
    private readonly frameworkId: string,
    /** Which processes to look at (by working directory). */
    private readonly keepCwd: (cwd: string) => boolean,
    private readonly intervalMs = 1000,
    private readonly maxSamples = 3600,
  ) {}

  /** Starts sampling. */
  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    for (let i = 0; this.running && i < this.maxSamples; i++) {
      const started = Date.now();
      this.sampleProcesses(scanProcesses(this.keepCwd));
      const state = await leaderState(this.nc, this.cluster);
      if (state !== undefined) this.masterSamples.push(sampleOf(state, Date.now()));
      await sleep(Math.max(0, this.intervalMs - (Date.now() - started)));
    }
  }

  private sampleProcesses(procs: readonly ProcInfo[]): void {
    this.processSamples.push({ at: Date.now(), runs: taskRunsOf(procs, this.frameworkId) });
  }

  /** Stops sampling; resolves once the loop ended. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}
