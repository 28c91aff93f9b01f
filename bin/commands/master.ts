/** `nesos master`: runs a master. */
import { Command } from 'commander';
import { DEFAULT_MASTER_CONFIG } from '../../actors/master/context.js';
import { DEFAULT_ELECTION_CONFIG } from '../../actors/master/election/core.js';
import { startMaster } from '../../actors/master/main.js';
import { DEFAULT_UPDATE_STREAM_SETTINGS } from '../../actors/runtime/update-stream.js';
import { UsageError } from '../errors.js';
import { checkClusterOptions, intFlag, numberFlag, withClusterOptions, type ClusterOptions } from '../options.js';
import { runProcess } from '../process.js';

interface MasterFlags extends ClusterOptions {
  id?: string;
  agentHeartbeatInterval: number;
  maxMissedHeartbeats: number;
  frameworkHeartbeatInterval: number;
  allocationInterval: number;
  leaseMs: number;
  renewIntervalMs: number;
  agentReregisterTimeout: number;
  frameworkReregisterTimeout: number;
  updatesMaxAge: number;
}

/** The `master` command. */
export function masterCommand(): Command {
  return withClusterOptions(new Command('master'))
    .description('run a master: it takes part in the leader election; the leader keeps the registry of agents and frameworks, makes offers (DRF) and routes tasks and status updates')
    .option('--id <id>', 'master id (default: generated)')
    .option('--agent-heartbeat-interval <ms>', 'how often agents heartbeat', intFlag('--agent-heartbeat-interval', 10), 1000)
    .option('--max-missed-heartbeats <n>', 'missed agent heartbeats before the agent is unreachable', intFlag('--max-missed-heartbeats', 1), 5)
    .option('--framework-heartbeat-interval <s>', 'seconds between HEARTBEAT events to frameworks', numberFlag('--framework-heartbeat-interval', 0.01), 15)
    .option('--allocation-interval <ms>', 'period of the batch allocation', intFlag('--allocation-interval', 1), 1000)
    .option('--lease-ms <ms>', 'leader lease: a leader that cannot renew for this long is replaced', intFlag('--lease-ms', 100), DEFAULT_ELECTION_CONFIG.leaseMs)
    .option('--renew-interval-ms <ms>', 'how often the leader renews its lease', intFlag('--renew-interval-ms', 10), DEFAULT_ELECTION_CONFIG.renewIntervalMs)
    .option('--agent-reregister-timeout <ms>', 'after a failover, how long agents have to register again', intFlag('--agent-reregister-timeout', 1), DEFAULT_MASTER_CONFIG.agentReregisterTimeoutMs)
    .option('--framework-reregister-timeout <ms>', 'after a failover, the least time frameworks have to subscribe again', intFlag('--framework-reregister-timeout', 1), DEFAULT_MASTER_CONFIG.frameworkReregisterTimeoutMs)
    .option('--updates-max-age <s>', 'longest time a status update stays in the updates stream, acknowledged or not (set by the leader)', intFlag('--updates-max-age', 60), DEFAULT_UPDATE_STREAM_SETTINGS.maxAgeMs / 1000)
    .action(async (flags: MasterFlags) => {
      const o = checkClusterOptions(flags);
      if (flags.renewIntervalMs * 2 > flags.leaseMs) {
        throw new UsageError(`--renew-interval-ms ${flags.renewIntervalMs} must be at most half of --lease-ms ${flags.leaseMs}, so that a leader renews several times per lease`);
      }
      await runProcess(`nesos-master`, o, (nc, logger) =>
        startMaster({
          nc,
          cluster: o.cluster,
          logger,
          ...(flags.id !== undefined && { masterId: flags.id }),
          allocationIntervalMs: flags.allocationInterval,
          updatesMaxAgeMs: flags.updatesMaxAge * 1000,
          election: { leaseMs: flags.leaseMs, renewIntervalMs: flags.renewIntervalMs, safetyMarginMs: Math.min(DEFAULT_ELECTION_CONFIG.safetyMarginMs, Math.floor(flags.leaseMs / 4)) },
          config: {
            agentHeartbeatIntervalMs: flags.agentHeartbeatInterval,
            maxMissedAgentHeartbeats: flags.maxMissedHeartbeats,
            frameworkHeartbeatIntervalSeconds: flags.frameworkHeartbeatInterval,
            agentReregisterTimeoutMs: flags.agentReregisterTimeout,
            frameworkReregisterTimeoutMs: flags.frameworkReregisterTimeout,
          },
        }),
      );
    });
}
