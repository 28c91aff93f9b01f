/**
 * How a Nesos process lives: it connects, runs its actor, and stops cleanly on SIGINT or
 * SIGTERM. With NESOS_EXIT_WITH_PARENT=1 (set by `nesos up`), it also stops when its
 * parent dies, so a killed supervisor leaves no orphans behind.
 */
import type { LevelWithSilent, Logger } from 'pino';
import { connectNats, type ConnectOptions, type NatsConnection } from '../actors/runtime/nats.js';
import { createRootLogger } from '../actors/runtime/logger.js';
import { natsServers, type ClusterOptions } from './options.js';

/** Runs `start` with a NATS connection (with `connect`'s settings, if any) until a signal (or the parent's death) asks it to stop. */
export async function runProcess(
  name: string,
  options: ClusterOptions,
  start: (nc: NatsConnection, logger: Logger) => Promise<{ stop(): Promise<void> }>,
  connect: Pick<ConnectOptions, 'asyncTraces'> = {},
): Promise<void> {
  const logger = createRootLogger({ level: options.logLevel as LevelWithSilent });
  const nc = await connectNats({ servers: natsServers(options), name, ...connect });
  const actor = await start(nc, logger);
  await new Promise<void>((resolve) => {
    const stop = (why: string) => {
      logger.info({ why }, 'stopping');
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    if (process.env.NESOS_EXIT_WITH_PARENT === '1') {
      const parent = process.ppid;
      const timer = setInterval(() => {
        if (process.ppid !== parent) {
          clearInterval(timer);
          stop('parent exited');
        }
      }, 500);
      timer.unref();
    }
  });
  await actor.stop();
  await nc.drain().catch(() => undefined);
  logger.flush();
}
