/** `nesos agent`: runs an agent on this machine. */
import { resolve } from 'node:path';
import { Command } from 'commander';
import type { IsolationMode } from '../../actors/agent/isolation/index.js';
import { startAgent } from '../../actors/agent/main.js';
import type { RecoverMode } from '../../actors/agent/recovery.js';
import { checkClusterOptions, durationFlag, intFlag, natsServers, withClusterOptions, type ClusterOptions } from '../options.js';
import { UsageError } from '../errors.js';

/** Parses a fraction from 0 to 1; throws UsageError naming the flag. */
function fractionFlag(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0 || n > 1) throw new UsageError(`${flag} "${value}" must be a fraction from 0 to 1, e.g. 0.1`);
    return n;
  };
}
import { runProcess } from '../process.js';

interface AgentFlags extends ClusterOptions {
  id?: string;
  workDir: string;
  resources?: string;
  attributes?: string;
  hostname?: string;
  isolation: string;
  cgroupsRoot?: string;
  gcDelay?: number;
  gcDiskHeadroom?: number;
  diskWatchInterval?: number;
  recover: string;
  executorReregistrationTimeout?: number;
  defaultExecutorLinger?: number;
  spareExecutors?: number;
}

/** The `agent` command. */
export function agentCommand(): Command {
  return withClusterOptions(new Command('agent'))
    .description('run an agent: advertises this machine\'s resources and runs tasks in sandboxes')
    .option('--id <id>', 'agent id (default: kept in <work-dir>/agent-id, generated the first time)')
    .option('--work-dir <dir>', 'where sandboxes and the agent\'s own files live', '.nesos/agent')
    .option('--resources <resources>', 'resources in Mesos syntax, e.g. "cpus:4;mem:8192;ports:[31000-32000]" (default: detected)')
    .option('--attributes <attributes>', 'attributes, e.g. "rack:r1;zone:a"')
    .option('--hostname <name>', 'hostname to advertise (default: this machine\'s)')
    .option('--isolation <isolator>', 'auto, cgroups-v1, cgroups-v2 or posix: how tasks are held to their cpus and mem (auto: the best this host allows)', 'auto')
    .option('--cgroups-root <path>', 'parent of the agents\' cgroups: relative to the agent\'s own cgroup, or absolute (default: nesos)')
    .option('--gc-delay <duration>', 'keep a finished sandbox this long at most, less as the disk fills (default: 1weeks)', durationFlag('--gc-delay'))
    .option('--gc-disk-headroom <fraction>', 'disk fraction kept free: sandboxes are kept gc-delay × (1 - headroom - disk usage) (default: 0.1)', fractionFlag('--gc-disk-headroom'))
    .option('--disk-watch-interval <duration>', 'how often the disk is checked and due sandboxes removed (default: 1mins)', durationFlag('--disk-watch-interval'))
    .option('--recover <mode>', 'executors found running at start (from <work-dir>/meta/checkpoint.json): reconnect (take them back) or cleanup (kill them)', 'reconnect')
    .option('--executor-reregistration-timeout <duration>', 'after a restart, kill an executor that has not reconnected within this (default: 5secs)', durationFlag('--executor-reregistration-timeout'))
    .option('--default-executor-linger <duration>', 'keep an idle task-group executor this long for further groups with its executor id (default: 1secs)', durationFlag('--default-executor-linger'))
    .option('--spare-executors <count>', 'built-in executor processes kept started ahead of need, so that a task group or command task does not wait for a Node process to start; 0 turns them off (default: 1)', intFlag('--spare-executors', 0, 16))
    .action(async (flags: AgentFlags) => {
      const o = checkClusterOptions(flags);
      await runProcess('nesos-agent', o, (nc, logger) =>
        startAgent({
          nc,
          natsServers: natsServers(o).join(','),
          cluster: o.cluster,
          logger,
          workDir: resolve(flags.workDir),
          ...(flags.id !== undefined && { agentId: flags.id }),
          ...(flags.resources !== undefined && { resources: flags.resources }),
          ...(flags.attributes !== undefined && { attributes: flags.attributes }),
          ...(flags.hostname !== undefined && { hostname: flags.hostname }),
          isolation: flags.isolation as IsolationMode,
          ...(flags.cgroupsRoot !== undefined && { cgroupsRoot: flags.cgroupsRoot }),
          ...(flags.gcDelay !== undefined && { gcDelayMs: flags.gcDelay }),
          ...(flags.gcDiskHeadroom !== undefined && { gcDiskHeadroom: flags.gcDiskHeadroom }),
          ...(flags.diskWatchInterval !== undefined && { diskWatchIntervalMs: flags.diskWatchInterval }),
          recover: flags.recover as RecoverMode,
          ...(flags.executorReregistrationTimeout !== undefined && { executorReregistrationTimeoutMs: flags.executorReregistrationTimeout }),
          ...(flags.defaultExecutorLinger !== undefined && { defaultExecutorLingerMs: flags.defaultExecutorLinger }),
          ...(flags.spareExecutors !== undefined && { spareExecutors: flags.spareExecutors }),
        }),
      );
    });
}
