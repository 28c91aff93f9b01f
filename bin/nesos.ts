#!/usr/bin/env node
/**
 * `nesos`: the command line. Each subcommand lives in bin/commands/; this file wires them
 * and turns errors into one clear message and an exit code (2 for usage errors).
 */
import { Command, CommanderError } from 'commander';
import { agentCommand } from './commands/agent.js';
import { agentsCommand } from './commands/agents.js';
import { chaosCommand } from './commands/chaos.js';
import { frameworksCommand } from './commands/frameworks.js';
import { killCommand } from './commands/kill.js';
import { logsCommand } from './commands/logs.js';
import { drainCommand, maintenanceCommand } from './commands/maintenance.js';
import { masterCommand } from './commands/master.js';
import { quotaCommand, rolesCommand, weightsCommand } from './commands/roles.js';
import { runCommand } from './commands/run.js';
import { simulateCommand } from './commands/simulate.js';
import { stateCommand } from './commands/state.js';
import { taskCommand, tasksCommand } from './commands/tasks.js';
import { teardownCommand } from './commands/teardown.js';
import { topCommand } from './commands/top.js';
import { upCommand } from './commands/up.js';
import { UsageError } from './errors.js';

const program = new Command('nesos')
  .description('Nesos: a cluster kernel in the spirit of Apache Mesos — resource offers, DRF, actors over NATS')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  // Options belong to the command they follow: `nesos maintenance start a --nats u` gives
  // --nats to `start`, not to `maintenance` (which takes the same options).
  .enablePositionalOptions()
  .exitOverride();

const commands = [
  // running a cluster
  upCommand(),
  masterCommand(),
  agentCommand(),
  runCommand(),
  simulateCommand(),
  // looking at it
  stateCommand(),
  agentsCommand(),
  frameworksCommand(),
  tasksCommand(),
  taskCommand(),
  logsCommand(),
  topCommand(),
  rolesCommand(),
  quotaCommand(),
  weightsCommand(),
  maintenanceCommand(),
  // acting on it
  killCommand(),
  drainCommand(),
  teardownCommand(),
  // testing it
  chaosCommand(),
];

/** Makes a command (and its subcommands) throw instead of exiting, and show help after an error. */
function configure(cmd: Command): Command {
  cmd.exitOverride().showHelpAfterError('(run with --help for usage)');
  for (const sub of cmd.commands) configure(sub);
  return cmd;
}

for (const cmd of commands) program.addCommand(configure(cmd));

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // commander already printed the message (or the help/version).
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else if (e instanceof UsageError) {
    process.stderr.write(`nesos: ${e.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`nesos: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  }
}
