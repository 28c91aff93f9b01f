/**
 * `nesos top`: a live view of the cluster — resources total/allocated/offered/idle per kind,
 * agents, frameworks, tasks by state and the tasks that changed last — redrawn every
 * --interval. With --json (or when stdout is not a terminal) it prints one JSON line per
 * refresh instead; --iterations stops it after that many.
 */
import { Command } from 'commander';
import { ResourceAmounts, summarize, type ClusterSummary } from '../../actors/http/summary.js';
import type { MasterSnapshot } from '../../protocol/operator.js';
import { isTerminal, type TaskState } from '../../protocol/task-state.js';
import { intFlag } from '../options.js';
import { withOperator, withOperatorOptions, type OperatorFlags } from './operator-client.js';
import { age, table } from './table.js';

interface TopFlags extends OperatorFlags {
  interval: number;
  iterations?: number;
  tasks: number;
}

const amounts = new ResourceAmounts();

function q(name: string, n: number | undefined): string {
  const v = n ?? 0;
  if (name === 'mem' || name === 'disk') return v >= 1024 ? `${(v / 1024).toFixed(1)}G` : `${Math.round(v)}M`;
  return String(Math.round(v * 100) / 100);
}

/** The screen `top` draws for one state. */
export function renderTop(state: MasterSnapshot, s: ClusterSummary, taskRows: number, now = Date.now()): string {
  const r = s.resources;
  const counts = Object.entries(s.tasksByState)
    .filter(([, n]) => n > 0)
    .map(([st, n]) => `${st.replace(/^TASK_/, '').toLowerCase()} ${n}`)
    .join(', ');
  const lines = [
    `nesos top — cluster ${state.cluster}, master ${state.masterId} (epoch ${state.epoch}), ${new Date(now).toISOString().slice(11, 19)}`,
    `agents: ${Object.entries(s.agentsByStatus).map(([k, n]) => `${n} ${k}`).join(', ')}   frameworks: ${s.frameworks.connected}/${s.frameworks.total} connected   offers: ${s.offers}`,
    `tasks: ${counts === '' ? 'none' : counts}`,
    '',
    table(
      ['RESOURCE', 'TOTAL', 'ALLOCATED', 'OFFERED', 'IDLE', 'USED'],
      Object.keys(r.total).map((k) => {
        const total = r.total[k] ?? 0;
        const used = total === 0 ? 0 : ((r.allocated[k] ?? 0) + (r.offered[k] ?? 0)) / total;
        return [k, q(k, r.total[k]), q(k, r.allocated[k]), q(k, r.offered[k]), q(k, r.idle[k]), `${(used * 100).toFixed(0)}%`];
      }),
    ),
  ];
  const recent = [...state.tasks, ...state.completedTasks]
    .sort((a, b) => (b.status?.timestamp ?? 0) - (a.status?.timestamp ?? 0))
    .slice(0, taskRows);
  if (recent.length > 0) {
    lines.push(
      table(
        ['TASK', 'STATE', 'AGENT', 'RESOURCES', 'CHANGED'],
        recent.map((t) => [t.taskId, t.state, t.agentId, t.resources, age(t.status === undefined ? undefined : t.status.timestamp * 1000, now)]),
      ),
    );
  }
  return lines.join('\n');
}

/** The `top` command. */
export function topCommand(): Command {
  return withOperatorOptions(new Command('top'))
    .description('a live view of resources, agents, frameworks and tasks, refreshed every --interval (q or Ctrl-C quits)')
    .option('--interval <ms>', 'time between refreshes', intFlag('--interval', 100, 3_600_000), 1000)
    .option('--iterations <n>', 'stop after this many refreshes', intFlag('--iterations', 1))
    .option('--tasks <n>', 'how many recently changed tasks to show', intFlag('--tasks', 0, 1000), 15)
    .action(async (flags: TopFlags) => {
      const screen = flags.json !== true && process.stdout.isTTY === true;
      await withOperator(flags, async (client, progress) => {
        let stop = false;
        const quit = () => {
          stop = true;
        };
        process.once('SIGINT', quit);
        const onKey = (key: Buffer) => {
          if (key.toString() === 'q' || key[0] === 3) quit();
        };
        if (screen && process.stdin.isTTY === true) {
          process.stdin.setRawMode(true);
          process.stdin.on('data', onKey);
        }
        try {
          for (let i = 0; !stop && (flags.iterations === undefined || i < flags.iterations); i++) {
            if (i > 0) await sleepUnless(flags.interval, () => stop);
            if (stop) break;
            const state = await client.state();
            progress.stop();
            const s = summarize(state, amounts);
            if (!screen) {
              const active = state.tasks.filter((t) => !isTerminal(t.state as TaskState)).length;
              process.stdout.write(JSON.stringify({ at: Date.now(), masterId: state.masterId, epoch: state.epoch, activeTasks: active, ...s }) + '\n');
            } else {
              process.stdout.write(`\x1b[H\x1b[2J${renderTop(state, s, flags.tasks)}\n(q to quit)\n`);
            }
          }
        } finally {
          process.off('SIGINT', quit);
          if (screen && process.stdin.isTTY === true) {
            process.stdin.off('data', onKey);
            process.stdin.setRawMode(false);
            process.stdin.pause();
          }
        }
      });
    });
}

async function sleepUnless(ms: number, stopped: () => boolean): Promise<void> {
  const end = Date.now() + ms;
  while (!stopped() && Date.now() < end) await new Promise((r) => setTimeout(r, Math.min(100, end - Date.now())));
}
