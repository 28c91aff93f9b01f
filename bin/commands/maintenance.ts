/**
 * `nesos maintenance` (schedule, status, start/stop) and `nesos drain <agent>`: taking
 * agents out of service through the operator API. Agents are named by id, id prefix or
 * hostname.
 */
import { Command } from 'commander';
import type { MaintenanceWindow } from '../../protocol/operator-api.js';
import { UsageError } from '../errors.js';
import { intFlag } from '../options.js';
import { findAgent } from './find.js';
import { withOperator, withOperatorOptions, type OperatorClient, type OperatorFlags } from './operator-client.js';
import { printJson, table } from './table.js';

/** Parses a time: "now", "+30m" / "+2h" / "+1d", or an ISO date. Throws UsageError naming the flag. */
export function parseTime(flag: string, value: string, now = Date.now()): number {
  if (value === 'now') return now;
  const rel = /^\+(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(value);
  if (rel !== null) return now + Number(rel[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 's' | 'm' | 'h' | 'd'];
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new UsageError(`${flag} "${value}" is not a time: use now, +30m, +2h or an ISO date like 2030-01-31T22:00Z`);
  return t;
}

/** Parses a duration such as 90s, 30m, 2h, 1d. Throws UsageError naming the flag. */
export function parseDuration(flag: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(value);
  if (m === null) throw new UsageError(`${flag} "${value}" is not a duration: use 90s, 30m, 2h or 1d`);
  return Math.round(Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd']);
}

async function agentIds(client: OperatorClient, names: string[]): Promise<string[]> {
  const state = await client.state();
  return names.map((n) => findAgent(state, n).id);
}

interface ScheduleFlags extends OperatorFlags {
  start: string;
  duration: string;
}

/** The `maintenance` command and its subcommands. */
export function maintenanceCommand(): Command {
  // Positional: options after a subcommand's name are the subcommand's (else `maintenance start a --nats u` would give --nats to `maintenance`).
  const cmd = withOperatorOptions(new Command('maintenance')).enablePositionalOptions()
    .description('show the maintenance schedule, each scheduled agent\'s mode and the frameworks\' answers to its inverse offers; subcommands change them')
    .action(async (flags: OperatorFlags) => {
      await withOperator(flags, async (client, progress) => {
        const schedule = await client.call({ type: 'GET_MAINTENANCE_SCHEDULE' });
        const status = await client.call({ type: 'GET_MAINTENANCE_STATUS' });
        progress.stop();
        if (schedule.type !== 'MAINTENANCE_SCHEDULE' || status.type !== 'MAINTENANCE_STATUS') return;
        if (flags.json === true) return printJson({ windows: schedule.windows, agents: status.agents });
        if (schedule.windows.length === 0) process.stdout.write('No maintenance is scheduled.\n');
        else
          process.stdout.write(
            table(
              ['START', 'END', 'AGENTS'],
              schedule.windows.map((w) => [new Date(w.start).toISOString(), new Date(w.start + w.durationMs).toISOString(), w.agentIds.join(',')]),
            ),
          );
        if (status.agents.length > 0) process.stdout.write('\n' + table(['AGENT', 'MODE'], status.agents.map((a) => [a.agentId, a.mode])));
        const answers = status.agents.flatMap((a) => (a.statuses ?? []).map((s) => [a.agentId, s.frameworkId, s.status, new Date(s.updatedAt).toISOString()]));
        if (answers.length > 0) process.stdout.write('\nInverse offers (frameworks asked to release DRAINING agents; UNKNOWN: not answered yet):\n' + table(['AGENT', 'FRAMEWORK', 'ANSWER', 'SINCE'], answers));
      });
    });
  cmd.addCommand(
    withOperatorOptions(new Command('schedule'))
      .description('add a maintenance window for agents (kept with the windows already scheduled)')
      .argument('<agents...>', 'agents (id, prefix or hostname)')
      .option('--start <time>', 'when: now, +30m, +2h or an ISO date', 'now')
      .option('--duration <duration>', 'how long: 30m, 2h, 1d', '1h')
      .action(async (names: string[], flags: ScheduleFlags) => {
        const start = parseTime('--start', flags.start);
        const durationMs = parseDuration('--duration', flags.duration);
        await withOperator(flags, async (client) => {
          const ids = await agentIds(client, names);
          const current = await client.call({ type: 'GET_MAINTENANCE_SCHEDULE' });
          const windows: MaintenanceWindow[] = current.type === 'MAINTENANCE_SCHEDULE' ? current.windows : [];
          const window = { agentIds: ids, start, durationMs };
          await client.call({ type: 'UPDATE_MAINTENANCE_SCHEDULE', windows: [...windows, window] });
          if (flags.json === true) printJson(window);
          else process.stdout.write(`maintenance of ${ids.join(', ')} scheduled from ${new Date(start).toISOString()} for ${flags.duration}\n`);
        });
      }),
  );
  cmd.addCommand(
    withOperatorOptions(new Command('clear'))
      .description('remove every maintenance window')
      .action(async (flags: OperatorFlags) => {
        await withOperator(flags, async (client) => {
          await client.call({ type: 'UPDATE_MAINTENANCE_SCHEDULE', windows: [] });
          if (flags.json === true) printJson({ windows: [] });
          else process.stdout.write('maintenance schedule cleared\n');
        });
      }),
  );
  for (const [name, type, text] of [
    ['start', 'START_MAINTENANCE', 'take scheduled agents DOWN now (their tasks are killed)'],
    ['stop', 'STOP_MAINTENANCE', 'bring agents back UP after maintenance'],
  ] as const) {
    cmd.addCommand(
      withOperatorOptions(new Command(name))
        .description(text)
        .argument('<agents...>', 'agents (id, prefix or hostname)')
        .action(async (names: string[], flags: OperatorFlags) => {
          await withOperator(flags, async (client) => {
            const ids = await agentIds(client, names);
            await client.call({ type, agentIds: ids });
            if (flags.json === true) printJson({ agentIds: ids, mode: name === 'start' ? 'DOWN' : 'UP' });
            else process.stdout.write(`${ids.join(', ')}: maintenance ${name === 'start' ? 'started (DOWN)' : 'stopped (UP)'}\n`);
          });
        }),
    );
  }
  return cmd;
}

interface DrainFlags extends OperatorFlags {
  gracePeriod?: number;
  markGone?: boolean;
  undo?: boolean;
}

/** The `drain` command. */
export function drainCommand(): Command {
  return withOperatorOptions(new Command('drain'))
    .description("drain an agent: stop offering it and kill its tasks; --undo makes it available again")
    .argument('<agent>', 'agent (id, prefix or hostname)')
    .option('--grace-period <ms>', 'longest grace period given to its tasks', intFlag('--grace-period', 0, 3_600_000))
    .option('--mark-gone', 'once drained, mark the agent gone for good')
    .option('--undo', 'reactivate a drained or deactivated agent instead')
    .action(async (name: string, flags: DrainFlags) => {
      if (flags.undo === true && (flags.markGone === true || flags.gracePeriod !== undefined)) {
        throw new UsageError('--undo takes no --grace-period or --mark-gone');
      }
      await withOperator(flags, async (client) => {
        const [agentId] = await agentIds(client, [name]);
        if (agentId === undefined) return;
        if (flags.undo === true) await client.call({ type: 'REACTIVATE_AGENT', agentId });
        else
          await client.call({
            type: 'DRAIN_AGENT',
            agentId,
            ...(flags.gracePeriod !== undefined && { maxGracePeriodMs: flags.gracePeriod }),
            ...(flags.markGone === true && { markGone: true }),
          });
        if (flags.json === true) printJson({ agentId, draining: flags.undo !== true });
        else process.stdout.write(flags.undo === true ? `agent ${agentId} reactivated\n` : `agent ${agentId} is draining\n`);
      });
    });
}
