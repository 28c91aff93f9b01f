/** Logging: one pino root per process, one child logger per actor carrying its id. */
import { createRequire } from 'node:module';
import { pino, type Logger, type LevelWithSilent } from 'pino';
import type PinoPretty from 'pino-pretty';

export type { Logger } from 'pino';

/** Options of the process's root logger. */
export interface RootLoggerOptions {
  /** pino level; default from NESOS_LOG_LEVEL, else "info". */
  level?: LevelWithSilent;
  /** Human-readable output; default: when stderr is a terminal. */
  pretty?: boolean;
  /** Where log lines go; default stderr (fd 2). */
  destination?: number;
}

/** Creates the process's root logger: JSON by default, pretty on a terminal. */
export function createRootLogger(options: RootLoggerOptions = {}): Logger {
  const level = options.level ?? ((process.env.NESOS_LOG_LEVEL as LevelWithSilent | undefined) ?? 'info');
  const fd = options.destination ?? 2;
  const wantPretty = options.pretty ?? (process.stderr.isTTY === true && fd === 2);
  if (wantPretty) return pino({ level }, loadPretty()({ colorize: true, destination: fd, sync: true }));
  return pino({ level, base: { pid: process.pid } }, pino.destination({ dest: fd, sync: false }));
}

/**
 * pino-pretty, loaded only when a terminal wants it: ~20 ms of CPU at every process start
 * otherwise (executors, started by the hundred, never log to a terminal).
 */
function loadPretty(): typeof PinoPretty {
  return createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
}

/** A child logger for one actor: every line carries its kind and id. */
export function actorLogger(root: Logger, kind: string, id: string): Logger {
  return root.child({ actor: kind, id });
}

/** A logger that writes nothing (for tests of pure parts). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
