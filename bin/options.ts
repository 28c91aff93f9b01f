/** Options shared by the commands, and their parsers: each error names the flag and the fix. */
import type { Command } from 'commander';
import { isValidToken } from '../protocol/subjects.js';
import { UsageError } from './errors.js';

/** Where the cluster is: NATS servers and the cluster's name. */
export interface ClusterOptions {
  nats: string;
  cluster: string;
  logLevel: string;
}

/** Adds --nats, --cluster and --log-level (with NESOS_* environment defaults). */
export function withClusterOptions(cmd: Command): Command {
  return cmd
    .option('--nats <url>', 'NATS server URL(s), comma-separated (env NESOS_NATS)', process.env.NESOS_NATS ?? 'nats://127.0.0.1:4222')
    .option('--cluster <name>', 'cluster name: the subject prefix nesos.<name>. (env NESOS_CLUSTER)', process.env.NESOS_CLUSTER ?? 'local')
    .option('--log-level <level>', 'trace, debug, info, warn, error or silent (env NESOS_LOG_LEVEL)', process.env.NESOS_LOG_LEVEL ?? 'info');
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** Checks the shared options; throws UsageError naming the bad flag. */
export function checkClusterOptions(o: ClusterOptions): ClusterOptions {
  if (!isValidToken(o.cluster)) {
    throw new UsageError(`--cluster "${o.cluster}" is not a valid name: use letters, digits, '-' or '_' (e.g. --cluster local)`);
  }
  for (const url of o.nats.split(',')) {
    if (!/^(nats|tls):\/\/[^\s/]+$/.test(url.trim())) {
      throw new UsageError(`--nats "${url}" is not a NATS URL: give one like nats://127.0.0.1:4222`);
    }
  }
  if (!LEVELS.includes(o.logLevel)) throw new UsageError(`--log-level "${o.logLevel}" is unknown: use one of ${LEVELS.join(', ')}`);
  return o;
}

/** The servers of --nats as a list. */
export function natsServers(o: ClusterOptions): string[] {
  return o.nats.split(',').map((s) => s.trim());
}

/** Parses a whole number flag; throws UsageError naming the flag. */
export function intFlag(flag: string, min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new UsageError(`${flag} "${value}" must be a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

/** Parses a decimal number flag; throws UsageError naming the flag. */
export function numberFlag(flag: string, min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min) throw new UsageError(`${flag} "${value}" must be a number of at least ${min}`);
    return n;
  };
}

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  sec: 1000,
  secs: 1000,
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hrs: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
  w: 604_800_000,
  week: 604_800_000,
  weeks: 604_800_000,
};

/** Parses a duration as Mesos writes them (`500ms`, `10secs`, `3mins`, `2hrs`, `1days`, `1weeks`) into ms; throws UsageError naming the flag. */
export function durationFlag(flag: string): (value: string) => number {
  return (value) => {
    const m = /^(\d+(?:\.\d+)?)\s*([a-z]+)$/.exec(value.trim());
    const unit = m === null ? undefined : DURATION_UNITS[m[2] ?? ''];
    if (m === null || unit === undefined) {
      throw new UsageError(`${flag} "${value}" is not a duration: give a number and a unit (ms, secs, mins, hrs, days, weeks), e.g. 1weeks`);
    }
    return Math.round(Number(m[1]) * unit);
  };
}
