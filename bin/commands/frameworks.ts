/** `nesos frameworks`: the subscribed frameworks, their roles, DRF shares and tasks. */
import { Command } from 'commander';
import { withOperator, withOperatorOptions, type OperatorFlags } from './operator-client.js';
import { age, printJson, table } from './table.js';

/** The `frameworks` command. */
export function frameworksCommand(): Command {
  return withOperatorOptions(new Command('frameworks'))
    .description('list the frameworks: principal, roles, connected, DRF share, tasks, offers')
    .action(async (flags: OperatorFlags) => {
      await withOperator(flags, async (client, progress) => {
        const state = await client.state();
        progress.stop();
        if (flags.json === true) return printJson(state.frameworks);
        if (state.frameworks.length === 0) {
          process.stdout.write('No frameworks are subscribed. Run a task with `nesos run -- <command>`.\n');
          return;
        }
        process.stdout.write(
          table(
            ['ID', 'NAME', 'PRINCIPAL', 'ROLES', 'CONNECTED', 'SHARE', 'TASKS', 'OFFERS', 'ALLOCATED', 'REGISTERED'],
            state.frameworks.map((f) => [
              f.id,
              f.name,
              f.principal,
              f.roles.join(','),
              f.connected ? 'yes' : 'no',
              `${(f.share * 100).toFixed(1)}%`,
              f.tasks,
              f.offers,
              f.allocated === '' ? '-' : f.allocated,
              age(f.registeredAt),
            ]),
          ),
        );
      });
    });
}
