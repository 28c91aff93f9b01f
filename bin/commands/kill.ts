/** `nesos kill <task>`: kill a task and wait until it has ended. */
import { Command } from 'commander';
import { isTerminal } from '../../protocol/task-state.js';
import { KillTimeoutError } from '../errors.js';
import { intFlag } from '../options.js';
import { findFramework, findTask } from './find.js';
import { withOperator, withOperatorOptions, type OperatorFlags } from './operator-client.js';
import { printJson } from './table.js';

interface KillFlags extends OperatorFlags {
  framework?: string;
  gracePeriod?: number;
  wait: boolean;
  waitTimeout: number;
}

/** The `kill` command. */
export function killCommand(): Command {
  return withOperatorOptions(new Command('kill'))
    .description('kill a task (SIGTERM, then SIGKILL after its grace period) and wait until it has ended')
    .argument('<task>', 'task id (or a unique prefix or name)')
    .option('--framework <framework>', "the task's framework, when task ids repeat across frameworks")
    .option('--grace-period <ms>', 'time between SIGTERM and SIGKILL (default: the task\'s kill policy)', intFlag('--grace-period', 0, 3_600_000))
    .option('--no-wait', 'return once the master took the kill, without waiting for the task to end')
    .option('--wait-timeout <ms>', 'how long to wait for the task to end', intFlag('--wait-timeout', 100, 3_600_000), 30_000)
    .action(async (wanted: string, flags: KillFlags) => {
      await withOperator(flags, async (client, progress) => {
        const state = await client.state();
        const frameworkId = flags.framework === undefined ? undefined : findFramework(state, flags.framework).id;
        const task = findTask(state, wanted, frameworkId);
        const report = (finalState: string, via?: string) => {
          progress.stop();
          if (flags.json === true) printJson({ taskId: task.taskId, frameworkId: task.frameworkId, state: finalState, ...(via !== undefined && { via }) });
          else process.stdout.write(`task ${task.taskId}: ${finalState}\n`);
        };
        if (isTerminal(task.state)) return report(task.state);
        progress.update(`killing task ${task.taskId}`);
        const principal = state.frameworks.find((f) => f.id === task.frameworkId)?.principal;
        const via = await client.kill(task, principal, flags.gracePeriod);
        if (!flags.wait) return report('kill sent', via);
        const deadline = Date.now() + flags.waitTimeout;
        let last: string = task.state;
        for (;;) {
          const now = await client.state();
          const t = [...now.tasks, ...now.completedTasks].find((x) => x.taskId === task.taskId && x.frameworkId === task.frameworkId);
          if (t === undefined) return report('gone from the master', via);
          last = t.state;
          if (isTerminal(t.state)) return report(t.state, via);
          if (Date.now() > deadline) throw new KillTimeoutError(task.taskId, last, flags.waitTimeout);
          progress.update(`waiting for task ${task.taskId} to end (${t.state})`);
          await new Promise((r) => setTimeout(r, 200));
        }
      });
    });
}
