/** `nesos state`: the master's view of the cluster, as JSON. */
import { Command } from 'commander';
import { connectNats } from '../../actors/runtime/nats.js';
import { NoClusterError } from '../errors.js';
import { checkClusterOptions, natsServers, withClusterOptions, type ClusterOptions } from '../options.js';
import { getState } from '../readiness.js';

/** The `state` command. */
export function stateCommand(): Command {
  return withClusterOptions(new Command('state'))
    .description("print the master's state (agents, frameworks, tasks, offers) as JSON")
    .option('--json', 'print JSON (always the case; accepted like on the other commands)')
    .action(async (flags: ClusterOptions) => {
      const o = checkClusterOptions(flags);
      const nc = await connectNats({ servers: natsServers(o), name: 'nesos-cli', connectTimeoutMs: 2000 }).catch((e: unknown) => {
        throw new NoClusterError(o.nats, o.cluster, { cause: e });
      });
      try {
        const state = await getState(nc, o.cluster, 'nesos-cli').catch((e: unknown) => {
          throw new NoClusterError(o.nats, o.cluster, { cause: e });
        });
        process.stdout.write(JSON.stringify(state, null, 2) + '\n');
      } finally {
        await nc.close();
      }
    });
}
