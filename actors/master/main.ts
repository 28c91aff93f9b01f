/** Starting a master process's actor: `startMaster` is what `nesos master` calls. */
import { randomBytes, randomUUID } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { DEFAULT_MASTER_CONFIG, type MasterConfig } from './context.js';
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
  /** Allocation interval (default 1000 ms). */
  allocationIntervalMs?: number;
  /** Seed of the allocator's agent order (default random). */
  seed?: number;
}

/** A running master. */
export interface MasterHandle {
  id: string;
  shell: MasterShell;
  stop(): Promise<void>;
}

/**
 * Starts the master actor. Single master for now: the epoch is the start time in ms, so a
 * restarted master always outranks the one before it (leader election replaces this).
 */
export async function startMaster(options: StartMasterOptions): Promise<MasterHandle> {
  const masterId = options.masterId ?? `master-${randomBytes(4).toString('hex')}`;
  const clock = () => Date.now();
  const config: MasterConfig = { ...DEFAULT_MASTER_CONFIG, ...options.config, masterId, epoch: clock() };
  const shell = new MasterShell({
    nc: options.nc,
    cluster: options.cluster,
    logger: options.logger,
    config,
    clock,
    seed: options.seed ?? randomBytes(4).readUInt32LE(0),
    newId: (prefix) => `${prefix}-${randomUUID()}`,
    ...(options.allocationIntervalMs !== undefined && { allocationIntervalMs: options.allocationIntervalMs }),
  });
  shell.start();
  await options.nc.flush();
  return { id: masterId, shell, stop: () => shell.stop() };
}
