#!/usr/bin/env node
/**
 * `nesos`: the command line. Each subcommand lives in bin/commands/; this file wires them
 * and turns errors into one clear message and an exit code (2 for usage errors).
 */
import { Command, CommanderError } from 'commander';
import { agentCommand } from './commands/agent.js';
import { masterCommand } from './commands/master.js';
import { runCommand } from './commands/run.js';
import { stateCommand } from './commands/state.js';
import { upCommand } from './commands/up.js';
import { UsageError } from './errors.js';

const program = new Command('nesos')
  .description('Nesos: a cluster kernel in the spirit of Apache Mesos — resource offers, DRF, actors over NATS')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

for (const cmd of [upCommand(), masterCommand(), agentCommand(), runCommand(), stateCommand()]) {
  program.addCommand(cmd.exitOverride().showHelpAfterError('(run with --help for usage)'));
}

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
