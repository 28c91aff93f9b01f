/** `nesos logs <task> [-f]`: a task's stdout (or stderr) through its agent's files API. */
import { Command } from 'commander';
import { isRetryable } from '../../actors/runtime/errors.js';
import { isTerminal } from '../../protocol/task-state.js';
import { AgentUnreachableError } from '../errors.js';
import { intFlag } from '../options.js';
import { findFramework, findTask } from './find.js';
import { withOperator, withOperatorOptions, type OperatorFlags } from './operator-client.js';

interface LogsFlags extends OperatorFlags {
  follow?: boolean;
  stderr?: boolean;
  framework?: string;
  interval: number;
}

/** The `logs` command. */
export function logsCommand(): Command {
  return withOperatorOptions(new Command('logs'))
    .description("print a task's stdout (or --stderr) from its sandbox; with -f, follow it until the task ends")
    .argument('<task>', 'task id (or a unique prefix or name)')
    .option('-f, --follow', 'keep printing what the task writes until it ends (Ctrl-C stops)')
    .option('--stderr', 'print stderr instead of stdout')
    .option('--framework <framework>', "the task's framework, when task ids repeat across frameworks")
    .option('--interval <ms>', 'how often to read while following', intFlag('--interval', 50, 60_000), 500)
    .action(async (wanted: string, flags: LogsFlags) => {
      await withOperator(flags, async (client, progress) => {
        const path = flags.stderr === true ? 'stderr' : 'stdout';
        let state = await client.state();
        const frameworkId = flags.framework === undefined ? undefined : findFramework(state, flags.framework).id;
        let task = findTask(state, wanted, frameworkId);
        progress.stop();
        const tail = client.sandbox(task, path);
        const out = flags.stderr === true ? process.stderr : process.stdout;
        const pump = async () => {
          let data: Uint8Array;
          try {
            data = await tail.readNew();
          } catch (e) {
            if (isRetryable(e)) throw new AgentUnreachableError(task.agentId, { cause: e });
            throw e;
          }
          if (data.byteLength === 0) return;
          if (flags.json === true) process.stdout.write(JSON.stringify({ taskId: task.taskId, path, data: Buffer.from(data).toString('utf8') }) + '\n');
          else out.write(data);
        };
        await pump();
        if (flags.follow !== true) return;
        let stop = false;
        const onSigint = () => {
          stop = true;
        };
        process.once('SIGINT', onSigint);
        try {
          for (let i = 1; !stop; i++) {
            await new Promise((r) => setTimeout(r, flags.interval));
            await pump();
            if (i % 4 === 0) {
              state = await client.state();
              const now = [...state.tasks, ...state.completedTasks].find((t) => t.taskId === task.taskId && t.frameworkId === task.frameworkId);
              if (now === undefined || isTerminal(now.state)) {
                await pump();
                if (now !== undefined && flags.json !== true) process.stderr.write(`(task ${task.taskId} is ${now.state})\n`);
                return;
              }
              task = now;
            }
          }
        } finally {
          process.off('SIGINT', onSigint);
        }
      });
    });
}
