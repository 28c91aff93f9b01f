/**
 * An example custom executor written with the executor SDK. A framework names it in
 * TaskInfo.executor (`command: 'node dist/examples/echo-executor.js'`); the agent starts it
 * once and hands it every task that names the same executor id. It:
 *
 * - runs each task's command with `/bin/sh -c` in `<sandbox>/tasks/<taskId>` (output in
 *   `stdout` and `stderr` there), reporting TASK_RUNNING, then TASK_FINISHED or TASK_FAILED;
 * - on KILL, reports TASK_KILLING, sends SIGTERM to the task's process group (SIGKILL after
 *   the grace period) and reports TASK_KILLED;
 * - answers every framework message with `echo: <message>`;
 * - on SHUTDOWN, kills its tasks, waits for their last updates to be acknowledged and exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Executor, TaskReason, TaskState, isTerminal } from '../actors/executor-sdk/index.js';

const executor = await Executor.connect();
const children = new Map<string, ChildProcess>();
const killed = new Set<string>();
let shuttingDown = false;

executor.on('launch', (task) => {
  const dir = join(executor.identity.sandbox, 'tasks', task.taskId);
  mkdirSync(dir, { recursive: true });
  executor.update(task.taskId, TaskState.STARTING);
  const child = spawn('/bin/sh', ['-c', `exec >>stdout 2>>stderr; exec /bin/sh -c "$0"`, task.command.value], {
    cwd: dir,
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, ...task.command.environment, MESOS_SANDBOX: dir, NESOS_TASK_ID: task.taskId },
  });
  children.set(task.taskId, child);
  child.on('spawn', () => executor.update(task.taskId, TaskState.RUNNING));
  child.on('error', (e) => executor.update(task.taskId, TaskState.FAILED, { message: `could not start: ${e.message}`, reason: TaskReason.COMMAND_EXITED }));
  child.on('exit', (code, signal) => {
    children.delete(task.taskId);
    const how = signal !== null ? `terminated with signal ${signal}` : `exited with status ${code ?? 'unknown'}`;
    const detail = { message: `Command ${how}`, ...(code !== null && { exitCode: code }), ...(signal !== null && { signal }) };
    if (killed.has(task.taskId)) executor.update(task.taskId, TaskState.KILLED, { ...detail, reason: TaskReason.KILL_REQUESTED });
    else if (code === 0) executor.update(task.taskId, TaskState.FINISHED, detail);
    else executor.update(task.taskId, TaskState.FAILED, { ...detail, reason: TaskReason.COMMAND_EXITED });
    if (shuttingDown && children.size === 0) void exit();
  });
});

/** SIGTERM to the task's process group, SIGKILL after the grace period. */
function kill(taskId: string, gracePeriodMs = 3000): void {
  const child = children.get(taskId);
  const state = executor.stateOf(taskId);
  if (child?.pid === undefined || state === undefined || isTerminal(state) || killed.has(taskId)) return;
  killed.add(taskId);
  executor.update(taskId, TaskState.KILLING);
  const pgid = child.pid;
  const signal = (s: NodeJS.Signals): void => {
    try {
      process.kill(-pgid, s);
    } catch {
      // already gone
    }
  };
  signal(gracePeriodMs === 0 ? 'SIGKILL' : 'SIGTERM');
  setTimeout(() => signal('SIGKILL'), gracePeriodMs).unref();
}

executor.on('kill', ({ taskId, gracePeriodMs }) => kill(taskId, gracePeriodMs));

executor.on('message', async (data) => {
  const text = new TextDecoder().decode(data);
  executor.log.info({ text }, 'framework message');
  await executor.sendMessage(new TextEncoder().encode(`echo: ${text}`));
});

executor.on('shutdown', ({ gracePeriodMs }) => {
  shuttingDown = true;
  if (children.size === 0) return exit();
  for (const taskId of children.keys()) kill(taskId, gracePeriodMs);
});

async function exit(): Promise<void> {
  await executor.flush();
  await executor.close();
  process.exit(0);
}
