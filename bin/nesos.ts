#!/usr/bin/env node
/**
 * `nesos`: the command line. Each subcommand lives in bin/commands/; this file wires them
 * and turns errors into one clear message and an exit code (2 for usage errors).
 */
import { Command, CommanderError } from 'commander';
import { UsageError } from './errors.js';

/** Makes one command: a module of bin/commands/ and the factory it exports. */
type CommandSource = () => Promise<Command>;

/**
 * Every command, in the order `--help` lists them, by name. Modules are imported only when
 * needed: a process that runs one command (a master, an agent, `nesos tasks`) loads that
 * command's code alone, which halves the start-up of the CLI's short commands.
 */
const COMMANDS: ReadonlyArray<readonly [string, CommandSource]> = [
  // running a cluster
  ['up', async () => (await import('./commands/up.js')).upCommand()],
  ['master', async () => (await import('./commands/master.js')).masterCommand()],
  ['agent', async () => (await import('./commands/agent.js')).agentCommand()],
  ['run', async () => (await import('./commands/run.js')).runCommand()],
  ['simulate', async () => (await import('./commands/simulate.js')).simulateCommand()],
  // looking at it
  ['state', async () => (await import('./commands/state.js')).stateCommand()],
  ['agents', async () => (await import('./commands/agents.js')).agentsCommand()],
  ['frameworks', async () => (await import('./commands/frameworks.js')).frameworksCommand()],
  ['tasks', async () => (await import('./commands/tasks.js')).tasksCommand()],
  ['task', async () => (await import('./commands/tasks.js')).taskCommand()],
  ['logs', async () => (await import('./commands/logs.js')).logsCommand()],
  ['top', async () => (await import('./commands/top.js')).topCommand()],
  ['roles', async () => (await import('./commands/roles.js')).rolesCommand()],
  ['quota', async () => (await import('./commands/roles.js')).quotaCommand()],
  ['weights', async () => (await import('./commands/roles.js')).weightsCommand()],
  ['maintenance', async () => (await import('./commands/maintenance.js')).maintenanceCommand()],
  // acting on it
  ['kill', async () => (await import('./commands/kill.js')).killCommand()],
  ['drain', async () => (await import('./commands/maintenance.js')).drainCommand()],
  ['teardown', async () => (await import('./commands/teardown.js')).teardownCommand()],
  // testing it
  ['chaos', async () => (await import('./commands/chaos.js')).chaosCommand()],
];

const program = new Command('nesos')
  .description('Nesos: a cluster kernel in the spirit of Apache Mesos — resource offers, DRF, actors over NATS')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  // Options belong to the command they follow: `nesos maintenance start a --nats u` gives
  // --nats to `start`, not to `maintenance` (which takes the same options).
  .enablePositionalOptions()
  .exitOverride();

// The first argument names the command (options of `nesos` itself, --help and --version,
// come alone): load just that one, or all of them for help, the version and a mistyped name.
const named = COMMANDS.find(([name]) => name === process.argv[2]);
const commands = await Promise.all((named === undefined ? COMMANDS : [named]).map(([, make]) => make()));

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
