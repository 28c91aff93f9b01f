/** `nesos master`: runs a master. */
import { Command } from 'commander';
import { DEFAULT_MASTER_CONFIG } from '../../actors/master/context.js';
import { DEFAULT_ELECTION_CONFIG } from '../../actors/master/election/core.js';
import { startMaster } from '../../actors/master/main.js';
import { parseMinAllocatable } from '../../actors/allocator/quantities.js';
import type { Resources } from '../../protocol/resources.js';
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
  takeoverAfterNoResponders: number;
  httpPort: number;
  httpHost: string;
  advertiseUrl?: string;
  http: boolean;
  peers?: string;
  offerTimeout: number;
  minAllocatableResources?: string;
  sorter: string;
  updatesMaxAge: number;
  warmStandby: boolean;
}

/** `--advertise-url` as given, if it is an http(s) URL; otherwise a UsageError naming the fix. */
export function checkAdvertiseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--advertise-url "${value}" is not a URL: give one such as http://10.0.0.5:5050`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--advertise-url "${value}" must start with http:// or https://`);
  return value.replace(/\/+$/, '');
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
    .option('--takeover-after-no-responders <n>', 'standbys take over at once after this many pings of the leader find nobody (0: only when the lease runs out)', intFlag('--takeover-after-no-responders', 0, 1000), DEFAULT_ELECTION_CONFIG.noRespondersToTakeOver)
    .option('--http-port <port>', 'port of the HTTP API, metrics and web UI (0: any free port)', intFlag('--http-port', 0, 65535), 5050)
    .option('--http-host <address>', 'address the HTTP server listens on', '127.0.0.1')
    .option('--advertise-url <url>', 'the URL others reach this master\'s HTTP at, put in the leader record (standbys redirect to it); default: the address it listens on, e.g. http://10.0.0.5:5050 when listening on 0.0.0.0')
    .option('--no-http', 'serve no HTTP at all')
    .option('--peers <urls>', "the other masters' HTTP URLs, comma-separated (the web UI looks for a new leader there)")
    .option('--offer-timeout <ms>', 'rescind offers outstanding this long and offer their resources again (0: never)', intFlag('--offer-timeout', 0), DEFAULT_MASTER_CONFIG.offerTimeoutMs)
    .option('--min-allocatable-resources <resources>', "smallest offer, alternatives separated by '|' (Mesos's default: cpus:0.01|mem:32)")
    .option('--sorter <policy>', 'fairness policy of the allocator: drf or random (weighted random)', 'drf')
    .option('--agent-reregister-timeout <ms>', 'after a failover, how long agents have to register again', intFlag('--agent-reregister-timeout', 1), DEFAULT_MASTER_CONFIG.agentReregisterTimeoutMs)
    .option('--framework-reregister-timeout <ms>', 'after a failover, the least time frameworks have to subscribe again', intFlag('--framework-reregister-timeout', 1), DEFAULT_MASTER_CONFIG.frameworkReregisterTimeoutMs)
    .option('--no-warm-standby', 'keep no copy of the registry while standing by: a new leader reads the whole registry bucket when it takes over')
    .option('--updates-max-age <s>', 'longest time a status update stays in the updates stream, acknowledged or not (set by the leader)', intFlag('--updates-max-age', 60), DEFAULT_UPDATE_STREAM_SETTINGS.maxAgeMs / 1000)
    .action(async (flags: MasterFlags) => {
      const o = checkClusterOptions(flags);
      if (flags.renewIntervalMs * 2 > flags.leaseMs) {
        throw new UsageError(`--renew-interval-ms ${flags.renewIntervalMs} must be at most half of --lease-ms ${flags.leaseMs}, so that a leader renews several times per lease`);
      }
      if (flags.sorter !== 'drf' && flags.sorter !== 'random') throw new UsageError(`--sorter "${flags.sorter}" is unknown: use drf or random`);
      let minAllocatable: Resources[] | undefined;
      if (flags.minAllocatableResources !== undefined) {
        try {
          minAllocatable = parseMinAllocatable(flags.minAllocatableResources);
        } catch (e) {
          throw new UsageError(`--min-allocatable-resources "${flags.minAllocatableResources}" is not valid: ${e instanceof Error ? e.message : String(e)} (e.g. cpus:0.01|mem:32)`);
        }
      }
      await runProcess(`nesos-master`, o, (nc, logger) =>
        startMaster({
          nc,
          cluster: o.cluster,
          logger,
          ...(flags.id !== undefined && { masterId: flags.id }),
          allocationIntervalMs: flags.allocationInterval,
          sorter: flags.sorter as 'drf' | 'random',
          ...(minAllocatable !== undefined && { minAllocatable }),
          ...(flags.http && { httpPort: flags.httpPort, httpHost: flags.httpHost, ...(flags.advertiseUrl !== undefined && { advertiseUrl: checkAdvertiseUrl(flags.advertiseUrl) }) }),
          ...(flags.peers !== undefined && { peers: parsePeers(flags.peers) }),
          updatesMaxAgeMs: flags.updatesMaxAge * 1000,
          warmStandby: flags.warmStandby,
          election: {
            leaseMs: flags.leaseMs,
            renewIntervalMs: flags.renewIntervalMs,
            safetyMarginMs: Math.min(DEFAULT_ELECTION_CONFIG.safetyMarginMs, Math.floor(flags.leaseMs / 4)),
            noRespondersToTakeOver: flags.takeoverAfterNoResponders === 0 ? Number.POSITIVE_INFINITY : flags.takeoverAfterNoResponders,
          },
          config: {
            agentHeartbeatIntervalMs: flags.agentHeartbeatInterval,
            maxMissedAgentHeartbeats: flags.maxMissedHeartbeats,
            frameworkHeartbeatIntervalSeconds: flags.frameworkHeartbeatInterval,
            agentReregisterTimeoutMs: flags.agentReregisterTimeout,
            frameworkReregisterTimeoutMs: flags.frameworkReregisterTimeout,
            offerTimeoutMs: flags.offerTimeout,
          },
        }),
      );
    });
}

/** Parses --peers; throws UsageError naming the flag. */
function parsePeers(value: string): string[] {
  const urls = value.split(',').map((u) => u.trim()).filter((u) => u !== '');
  for (const url of urls) {
    if (!/^https?:\/\/[^\s/]+\/?$/.test(url)) throw new UsageError(`--peers "${url}" is not an HTTP base URL: give one like http://127.0.0.1:5051`);
  }
  return urls;
}
