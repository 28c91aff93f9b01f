/** `nesos master`: runs a master. */
import { Command } from 'commander';
import { startMaster } from '../../actors/master/main.js';
import { checkClusterOptions, intFlag, numberFlag, withClusterOptions, type ClusterOptions } from '../options.js';
import { runProcess } from '../process.js';

interface MasterFlags extends ClusterOptions {
  id?: string;
  agentHeartbeatInterval: number;
  maxMissedHeartbeats: number;
  frameworkHeartbeatInterval: number;
  allocationInterval: number;
}

/** The `master` command. */
export function masterCommand(): Command {
  return withClusterOptions(new Command('master'))
    .description('run a master: registry of agents and frameworks, offers (DRF), task and status routing')
    .option('--id <id>', 'master id (default: generated)')
    .option('--agent-heartbeat-interval <ms>', 'how often agents heartbeat', intFlag('--agent-heartbeat-interval', 10), 1000)
    .option('--max-missed-heartbeats <n>', 'missed agent heartbeats before the agent is unreachable', intFlag('--max-missed-heartbeats', 1), 5)
    .option('--framework-heartbeat-interval <s>', 'seconds between HEARTBEAT events to frameworks', numberFlag('--framework-heartbeat-interval', 0.01), 15)
    .option('--allocation-interval <ms>', 'period of the batch allocation', intFlag('--allocation-interval', 1), 1000)
    .action(async (flags: MasterFlags) => {
      const o = checkClusterOptions(flags);
      await runProcess(`nesos-master`, o, (nc, logger) =>
        startMaster({
          nc,
          cluster: o.cluster,
          logger,
          ...(flags.id !== undefined && { masterId: flags.id }),
          allocationIntervalMs: flags.allocationInterval,
          config: {
            agentHeartbeatIntervalMs: flags.agentHeartbeatInterval,
            maxMissedAgentHeartbeats: flags.maxMissedHeartbeats,
            frameworkHeartbeatIntervalSeconds: flags.frameworkHeartbeatInterval,
          },
        }),
      );
    });
}
