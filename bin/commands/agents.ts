/** `nesos agents`: the agents, their status and how much of their resources is in use. */
import { Command } from 'commander';
import { ResourceAmounts, round3 } from '../../actors/http/summary.js';
import type { MasterSnapshot } from '../../protocol/operator.js';
import { withOperator, withOperatorOptions, type OperatorFlags } from './operator-client.js';
import { age, printJson, table } from './table.js';

interface AgentsFlags extends OperatorFlags {
  status?: string;
}

const amounts = new ResourceAmounts();

function scalars(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of amounts.of(text)) out[a.name] = round3((out[a.name] ?? 0) + a.quantity);
  return out;
}

/** "used/total" for one resource of an agent: used is everything not available (tasks and offers). */
export function usage(agent: MasterSnapshot['agents'][number], name: string): string {
  const total = scalars(agent.resources)[name];
  if (total === undefined) return '-';
  const used = round3(total - (scalars(agent.available)[name] ?? 0));
  return `${used}/${total}`;
}

/** The `agents` command. */
export function agentsCommand(): Command {
  return withOperatorOptions(new Command('agents'))
    .description('list the agents: status, resources in use (tasks and offers) of each, tasks')
    .option('--status <status>', 'only agents in this status (active or unreachable)')
    .action(async (flags: AgentsFlags) => {
      await withOperator(flags, async (client, progress) => {
        const state = await client.state();
        progress.stop();
        const agents = state.agents.filter((a) => flags.status === undefined || a.status === flags.status);
        if (flags.json === true) return printJson(agents);
        if (agents.length === 0) {
          process.stdout.write(flags.status === undefined ? 'No agents are registered. Start one with `nesos agent` (or `nesos up`).\n' : `No agents are ${flags.status}.\n`);
          return;
        }
        process.stdout.write(
          table(
            ['ID', 'HOSTNAME', 'STATUS', 'CPUS', 'MEM', 'DISK', 'TASKS', 'OFFERS', 'REGISTERED'],
            agents.map((a) => [a.id, a.hostname, a.status, usage(a, 'cpus'), usage(a, 'mem'), usage(a, 'disk'), a.tasks, a.offers, age(a.registeredAt)]),
          ),
        );
      });
    });
}
