/**
 * The executor process, started by an agent: the command executor (one per task) or the
 * default executor (one per task group), as NESOS_EXECUTOR_KIND says. It reads NESOS_* from
 * its environment, connects to NATS, runs its tasks, and exits 0 when they have been
 * reported. Bad environment: exits 2 with a message on stderr (kept in executor.log).
 */
import { connectNats } from '../runtime/nats.js';
import { createRootLogger } from '../runtime/logger.js';
import { ExecutorShell } from './shell.js';
import { readExecutorEnv, type ExecutorEnv } from './core.js';
import { ExecutorEnvError } from './errors.js';

/** Runs the command executor in this process; resolves with the exit code. */
export async function runExecutorProcess(env: Readonly<Record<string, string | undefined>> = process.env): Promise<number> {
  let settings: ExecutorEnv;
  try {
    settings = readExecutorEnv(env);
  } catch (e) {
    if (!(e instanceof ExecutorEnvError)) throw e;
    process.stderr.write(`nesos executor: ${e.message}\n`);
    return 2;
  }
  const logger = createRootLogger({ destination: 2, pretty: false });
  const nc = await connectNats({ servers: settings.natsUrl.split(','), name: `nesos-executor-${settings.executorId}` });
  const executor = new ExecutorShell({ ...settings, nc, logger });
  // Detached from any terminal, but an operator may still signal us: stop the task first.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => executor.shutdown());
  const code = await executor.run();
  await nc.drain().catch((e: unknown) => logger.warn({ err: e }, 'could not drain the NATS connection'));
  await new Promise<void>((resolve) => logger.flush(() => resolve()));
  return code;
}

runExecutorProcess().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`nesos executor: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
