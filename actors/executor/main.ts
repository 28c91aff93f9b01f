/**
 * The executor process, started by an agent: the command executor (one per task) or the
 * default executor (one per task group), as NESOS_EXECUTOR_KIND says. It reads NESOS_* from
 * its environment, connects to NATS, runs its tasks, and exits 0 when they have been
 * reported. Bad environment: exits 2 with a message on stderr (kept in executor.log).
 *
 * `main.js --spare <id>`: a spare executor (spare.ts). It connects to NATS and waits on
 * stdin for the BIND that makes it an executor: then it takes that environment, moves into
 * the sandbox, logs to the sandbox's `executor.log`, and runs as above. Its stdin closing
 * before a BIND: exits 0.
 */
import { openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { connectNats, type NatsConnection } from '../runtime/nats.js';
import { createRootLogger } from '../runtime/logger.js';
import { ExecutorShell } from './shell.js';
import { readExecutorEnv, type ExecutorEnv } from './core.js';
import { ExecutorEnvError } from './errors.js';
import { readBinding } from './spare.js';

/** Where fatal errors go: stderr, or a bound spare's `executor.log`. */
let errorFd = 2;

function fatal(text: string): void {
  try {
    writeSync(errorFd, `nesos executor: ${text}\n`);
  } catch {
    // nowhere left to write
  }
}

/** What a spare made ahead of its BIND. */
export interface Prepared {
  /** Its NATS connection. */
  nc?: NatsConnection;
  /** The file descriptor its log goes to (default stderr). */
  logFd?: number;
}

/** Runs a built-in executor in this process; resolves with the exit code. */
export async function runExecutorProcess(env: Readonly<Record<string, string | undefined>> = process.env, prepared: Prepared = {}): Promise<number> {
  let settings: ExecutorEnv;
  try {
    settings = readExecutorEnv(env);
  } catch (e) {
    if (!(e instanceof ExecutorEnvError)) throw e;
    fatal(e.message);
    await prepared.nc?.close();
    return 2;
  }
  const logger = createRootLogger({ destination: prepared.logFd ?? 2, pretty: false });
  const nc = prepared.nc ?? (await connectNats({ servers: settings.natsUrl.split(','), name: `nesos-executor-${settings.executorId}` }));
  const executor = new ExecutorShell({ ...settings, nc, logger });
  // Detached from any terminal, but an operator may still signal us: stop the task first.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => executor.shutdown());
  const code = await executor.run();
  await nc.drain().catch((e: unknown) => logger.warn({ err: e }, 'could not drain the NATS connection'));
  await new Promise<void>((resolve) => logger.flush(() => resolve()));
  return code;
}

/**
 * Runs a spare executor: connects to NATS, waits for its BIND on stdin, then runs as the
 * executor the BIND describes. Resolves 0 when stdin closes first, 2 on a bad BIND.
 */
export async function runSpareProcess(spareId: string): Promise<number> {
  const natsUrl = process.env.NESOS_NATS_URL ?? '';
  if (natsUrl === '') {
    fatal('a spare executor needs NESOS_NATS_URL');
    return 2;
  }
  const nc = await connectNats({ servers: natsUrl.split(','), name: `nesos-executor-spare-${spareId}` });
  let env: Record<string, string>;
  try {
    const binding = await readBinding(process.stdin);
    process.stdin.destroy(); // from here on, the agent's going away is no concern of ours
    if (binding === undefined) {
      await nc.close();
      return 0;
    }
    env = binding.env;
    readExecutorEnv(env); // a bad environment is reported here, before the sandbox is used
  } catch (e) {
    fatal(e instanceof Error ? e.message : String(e));
    await nc.close();
    return 2;
  }
  const sandbox = env.NESOS_SANDBOX as string;
  // The environment, working directory and log file an executor started for the run has.
  for (const name of Object.keys(process.env)) delete process.env[name];
  Object.assign(process.env, env);
  process.chdir(sandbox);
  const logFd = openSync(join(sandbox, 'executor.log'), 'a');
  errorFd = logFd;
  return runExecutorProcess(env, { nc, logFd });
}

const spareAt = process.argv.indexOf('--spare');
const run = spareAt >= 0 ? runSpareProcess(process.argv[spareAt + 1] ?? 'spare') : runExecutorProcess();
run.then(
  (code) => process.exit(code),
  (e: unknown) => {
    fatal(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exit(1);
  },
);
