/** `nesos tasks` (filtered list) and `nesos task <id>` (one task's detail). */
import { Command } from 'commander';
import type { MasterSnapshot } from '../../protocol/operator.js';
import type { TaskView } from '../../protocol/operator-api.js';
import type { ClusterTaskView } from '../../protocol/operator-api.js';
import { ALL_TASK_STATES, isTerminal, type TaskState } from '../../protocol/task-state.js';
import { UsageError } from '../errors.js';
import { allTasks, findAgent, findFramework, findTask } from './find.js';
import { withOperator, withOperatorOptions, type OperatorFlags } from './operator-client.js';
import { age, printJson, table } from './table.js';

interface TasksFlags extends OperatorFlags {
  state?: string;
  framework?: string;
  agent?: string;
  all?: boolean;
}

/**
 * Parses --state: a comma-separated list of states, each as TASK_RUNNING or running, or the
 * groups "active" (not terminal) and "completed" (terminal). Throws UsageError naming the flag.
 */
export function parseStates(value: string): (state: TaskState) => boolean {
  const wanted = value.split(',').map((s) => s.trim().toUpperCase()).filter((s) => s !== '');
  const tests = wanted.map((w): ((s: TaskState) => boolean) => {
    if (w === 'ACTIVE') return (s) => !isTerminal(s);
    if (w === 'COMPLETED') return (s) => isTerminal(s);
    const state = (w.startsWith('TASK_') ? w : `TASK_${w}`) as TaskState;
    if (!ALL_TASK_STATES.includes(state)) {
      throw new UsageError(`--state "${w.toLowerCase()}" is not a task state: use running, finished, failed, killed, lost, … or active, completed`);
    }
    return (s) => s === state;
  });
  return (s) => tests.some((t) => t(s));
}

/** The tasks that pass the filters (names of frameworks and agents resolved through the state). */
export function filterTasks(state: MasterSnapshot, flags: Pick<TasksFlags, 'state' | 'framework' | 'agent' | 'all'>): TaskView[] {
  const stateOk = flags.state === undefined ? (s: TaskState) => flags.all === true || !isTerminal(s) : parseStates(flags.state);
  const frameworkId = flags.framework === undefined ? undefined : findFramework(state, flags.framework).id;
  const agentId = flags.agent === undefined ? undefined : findAgent(state, flags.agent).id;
  return allTasks(state).filter(
    (t) => stateOk(t.state) && (frameworkId === undefined || t.frameworkId === frameworkId) && (agentId === undefined || t.agentId === agentId),
  );
}

function changedAt(t: TaskView): number | undefined {
  return t.status === undefined ? undefined : t.status.timestamp * 1000;
}

/** The `tasks` command. */
export function tasksCommand(): Command {
  return withOperatorOptions(new Command('tasks'))
    .description('list tasks (running ones unless --all or --state), filtered by state, framework or agent')
    .option('--state <states>', 'only tasks in these states, comma-separated: running, finished, failed, … or active, completed')
    .option('--framework <framework>', 'only tasks of this framework (id, id prefix or name)')
    .option('--agent <agent>', 'only tasks on this agent (id, id prefix or hostname)')
    .option('--all', 'include completed tasks')
    .action(async (flags: TasksFlags) => {
      if (flags.state !== undefined) parseStates(flags.state);
      await withOperator(flags, async (client, progress) => {
        const state = await client.state();
        progress.stop();
        const tasks = filterTasks(state, flags);
        if (flags.json === true) return printJson(tasks);
        if (tasks.length === 0) {
          process.stdout.write(flags.all === true || flags.state !== undefined ? 'No tasks match.\n' : 'No running tasks. Completed ones: `nesos tasks --all`.\n');
          return;
        }
        const frameworkName = new Map(state.frameworks.map((f) => [f.id, f.name]));
        process.stdout.write(
          table(
            ['ID', 'NAME', 'STATE', 'FRAMEWORK', 'AGENT', 'RESOURCES', 'CHANGED'],
            tasks.map((t) => [t.taskId, t.name, t.state, frameworkName.get(t.frameworkId) ?? t.frameworkId, t.agentId, t.resources, age(changedAt(t))]),
          ),
        );
      });
    });
}

interface TaskFlags extends OperatorFlags {
  framework?: string;
}

/** The `task` command. */
export function taskCommand(): Command {
  return withOperatorOptions(new Command('task'))
    .description("show one task: state, framework, agent, resources, latest status and the status history the master keeps")
    .argument('<task>', 'task id (or a unique prefix or name)')
    .option('--framework <framework>', 'the task\'s framework, when task ids repeat across frameworks')
    .action(async (wanted: string, flags: TaskFlags) => {
      await withOperator(flags, async (client, progress) => {
        const state = await client.state();
        progress.stop();
        const frameworkId = flags.framework === undefined ? undefined : findFramework(state, flags.framework).id;
        const task = findTask(state, wanted, frameworkId) as ClusterTaskView;
        if (flags.json === true) return printJson(task);
        const framework = state.frameworks.find((f) => f.id === task.frameworkId);
        const s = task.status;
        const lines: Array<[string, string | number | undefined]> = [
          ['Task', task.taskId],
          ['Name', task.name],
          ['State', task.state],
          ['Framework', framework === undefined ? task.frameworkId : `${framework.name} (${framework.id})`],
          ['Agent', task.agentId],
          ['Executor', s?.executorId ?? task.taskId],
          ['Resources', task.resources],
          ['Updated', s === undefined ? undefined : new Date(s.timestamp * 1000).toISOString()],
          ['Source', s?.source],
          ['Reason', s?.reason],
          ['Message', s?.message],
          ['Exit code', s?.exitCode],
          ['Signal', s?.signal],
          ['Healthy', s?.healthy === undefined ? undefined : String(s.healthy)],
        ];
        for (const [k, v] of lines) if (v !== undefined) process.stdout.write(`${`${k}:`.padEnd(12)}${v}\n`);
        if (task.statuses !== undefined && task.statuses.length > 0) {
          process.stdout.write('\nHistory:\n');
          process.stdout.write(
            table(
              ['TIME', 'STATE', 'SOURCE', 'REASON', 'MESSAGE'],
              task.statuses.map((h) => [new Date(h.timestamp * 1000).toISOString(), h.state, h.source, h.reason, h.message]),
            ),
          );
        }
        process.stdout.write(`\nOutput: nesos logs ${task.taskId}${frameworkId === undefined ? '' : ` --framework ${frameworkId}`}\n`);
      });
    });
}
