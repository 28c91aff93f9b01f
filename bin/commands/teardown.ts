/** `nesos teardown <framework>`: end a framework, killing its tasks (operator TEARDOWN). */
import { Command } from 'commander';
import { findFramework } from './find.js';
import { withOperator, withOperatorOptions, type OperatorFlags } from './operator-client.js';
import { printJson } from './table.js';

/** The `teardown` command. */
export function teardownCommand(): Command {
  return withOperatorOptions(new Command('teardown'))
    .description('tear a framework down: its tasks are killed and its offers rescinded')
    .argument('<framework>', 'framework id (or a unique prefix or name)')
    .action(async (wanted: string, flags: OperatorFlags) => {
      await withOperator(flags, async (client) => {
        const framework = findFramework(await client.state(), wanted);
        await client.call({ type: 'TEARDOWN', frameworkId: framework.id });
        if (flags.json === true) printJson({ frameworkId: framework.id, tornDown: true });
        else process.stdout.write(`framework ${framework.name} (${framework.id}) torn down\n`);
      });
    });
}
