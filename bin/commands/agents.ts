/**
 * `nesos agents`: the agents, their status and how much of their resources is in use;
 * `nesos agents <id>`: what one agent itself says (isolator, drain, executors and their usage).
 */
import { Command } from 'commander';
import { ResourceAmounts, round3 } from '../../actors/http/summary.js';
import type { AgentSnapshot } from '../../protocol/agent-state.js';
import type { MasterSnapshot } from '../../protocol/operator.js';
import { findAgent } from './find.js';
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

const MiB = 1024 * 1024;

/** One agent's own state as lines for people: facts, then a table of its executors. */
export function describeAgent(a: AgentSnapshot): string {
  const facts = [
    `agent      ${a.id} (${a.hostname})`,
    `registered ${a.registered ? `yes, epoch ${a.epoch ?? '?'}, master ${a.masterId ?? '?'}` : 'no'}`,
    `resources  ${a.resources}`,
    `isolator   ${a.isolation['isolator'] ?? '?'}`,
    `drain      ${a.drain.state}`,
    `tasks      ${a.tasks.length}`,
    `spares     ${(a.spares ?? []).map((s) => `pid ${s.pid ?? '?'}${s.stopping ? ' (stopping)' : ''}`).join(', ') || 'none'}`,
  ];
  if (a.executors.length === 0) return `${facts.join('\n')}\nNo executors.\n`;
  const mb = (n: number | undefined) => (n === undefined ? '-' : (n / MiB).toFixed(1));
  return `${facts.join('\n')}\n\n${table(
    ['EXECUTOR', 'KIND', 'PHASE', 'FRAMEWORK', 'TASKS', 'CPU_S', 'CPUS_LIMIT', 'MEM_MIB', 'MEM_LIMIT_MIB', 'PROCS'],
    a.executors.map((e) => [
      e.executorId,
      e.kind,
      e.limitation === undefined ? e.phase : `${e.phase} (${e.limitation.reason})`,
      e.frameworkId,
      e.taskIds.length,
      e.usage === undefined ? '-' : (e.usage.cpuUserSeconds + e.usage.cpuSystemSeconds).toFixed(2),
      e.usage?.cpusLimit ?? '-',
      mb(e.usage?.memBytes),
      mb(e.usage?.memLimitBytes),
      e.usage?.processes ?? '-',
    ]),
  )}`;
}

/** The `agents` command. */
export function agentsCommand(): Command {
  return withOperatorOptions(new Command('agents'))
    .description("list the agents: status, resources in use (tasks and offers) of each, tasks; with an id, that agent's own state: isolator, drain, executors and their usage")
    .argument('[agent]', 'an agent id (or the start of one): show what that agent itself says')
    .option('--status <status>', 'only agents in this status (active or unreachable)')
    .action(async (wanted: string | undefined, flags: AgentsFlags) => {
      await withOperator(flags, async (client, progress) => {
        const state = await client.state();
        if (wanted !== undefined) {
          const own = await client.agentState(findAgent(state, wanted).id);
          progress.stop();
          if (flags.json === true) return printJson(own);
          process.stdout.write(describeAgent(own));
          return;
        }
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
