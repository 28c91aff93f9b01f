/**
 * A master process: it always takes part in the election, and runs the leader's actor
 * (`MasterShell`, with the allocator inside) only while it leads. Stepping down stops that
 * actor and forgets its state; the next term starts from the registry and the agents.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { DEFAULT_MASTER_CONFIG, type MasterConfig } from './context.js';
import { DEFAULT_ELECTION_CONFIG, type ElectionConfig } from './election/core.js';
import { ElectionShell } from './election/shell.js';
import { MasterShell } from './shell.js';

/** Options of `startMaster`; everything but the connection has a default. */
export interface StartMasterOptions {
  nc: NatsConnection;
  cluster: string;
  logger: Logger;
  /** This master's id (default `master-<random>`). */
  masterId?: string;
  /** Settings that differ from the defaults. */
  config?: Partial<Omit<MasterConfig, 'masterId' | 'epoch'>>;
  /** Election timing that differs from the defaults. */
  election?: Partial<Omit<ElectionConfig, 'masterId'>>;
  /** Allocation interval (default 1000 ms). */
  allocationIntervalMs?: number;
  /** Seed of the allocator's agent order (default random). */
  seed?: number;
  /** Maximum age of the updates stream, set by whichever master leads (default 7 days). */
  updatesMaxAgeMs?: number;
}

/** A running master process. */
export interface MasterHandle {
  id: string;
  /** The leader's actor while this master leads. */
  readonly leader: MasterShell | undefined;
  /** The election. */
  election: ElectionShell;
  stop(): Promise<void>;
}

/** Starts a master: it joins the election and leads when it wins. */
export async function startMaster(options: StartMasterOptions): Promise<MasterHandle> {
  const masterId = options.masterId ?? `master-${randomBytes(4).toString('hex')}`;
  const log = options.logger.child({ actor: 'master', id: masterId });
  let leader: MasterShell | undefined;

  const lead = async (epoch: number): Promise<void> => {
    const config: MasterConfig = { ...DEFAULT_MASTER_CONFIG, ...options.config, masterId, epoch };
    leader = new MasterShell({
      nc: options.nc,
      cluster: options.cluster,
      logger: options.logger,
      config,
      clock: () => Date.now(),
      seed: options.seed ?? randomBytes(4).readUInt32LE(0),
      newId: (prefix) => `${prefix}-${randomUUID()}`,
      mayAct: () => election.mayAct(),
      ...(options.allocationIntervalMs !== undefined && { allocationIntervalMs: options.allocationIntervalMs }),
      ...(options.updatesMaxAgeMs !== undefined && { updatesMaxAgeMs: options.updatesMaxAgeMs }),
    });
    await leader.start();
    log.info({ epoch }, 'leading');
  };

  const stepDown = async (reason: string): Promise<void> => {
    const stopping = leader;
    leader = undefined;
    if (stopping !== undefined) await stopping.stop();
    log.warn({ reason }, 'no longer leading');
  };

  const election: ElectionShell = new ElectionShell({
    nc: options.nc,
    cluster: options.cluster,
    logger: log,
    config: { ...DEFAULT_ELECTION_CONFIG, ...options.election, masterId },
    onLead: lead,
    onStepDown: stepDown,
  });
  await election.start();
  log.info({ cluster: options.cluster }, 'master started; taking part in the election');
  const handle: MasterHandle = {
    id: masterId,
    get leader() {
      return leader;
    },
    election,
    stop: async () => {
      await election.stop();
      await stepDown('the master is stopping');
    },
  };
  return handle;
}
