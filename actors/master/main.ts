/**
 * A master process: it always takes part in the election, and runs the leader's actor
 * (`MasterShell`, with the allocator inside) only while it leads. Stepping down stops that
 * actor and forgets its state; the next term starts from the registry and the agents.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { Resources } from '../../protocol/resources.js';
import { DEFAULT_MASTER_CONFIG, type MasterConfig } from './context.js';
import { DEFAULT_ELECTION_CONFIG, type ElectionConfig } from './election/core.js';
import { ElectionShell } from './election/shell.js';
import { MasterShell } from './shell.js';
import { RegistryMirror } from './registry-mirror.js';
import { masterOperatorSource, startOperatorHttp, type MasterMetrics, type OperatorHttpServer } from '../http/index.js';
import type { OperatorApiReply } from '../../protocol/operator-api.js';
import { NotLeaderError } from './errors.js';
import { RefusalCounts } from '../runtime/refusals.js';

const EMPTY_METRICS: MasterMetrics = {
  messagesReceived: 0,
  messagesSent: 0,
  decodeErrors: 0,
  callsRejected: 0,
  decodeErrorCounts: [],
  rejectionCounts: [],
  leaderChanges: 0,
  allocationRuns: 0,
  allocationSecondsTotal: 0,
  lastAllocationSeconds: 0,
};

function notLeader(masterId: string): OperatorApiReply {
  return { type: 'REJECTED', code: 'NOT_LEADER', reason: `master ${masterId} does not lead: ask the leader (GET /redirect)` };
}

/** Options of `startMaster`; everything but the connection has a default. */
export interface StartMasterOptions {
  nc: NatsConnection;
  cluster: string;
  logger: Logger;
  /** This master's id (default `master-<random>`). */
  masterId?: string;
  /** Settings that differ from the defaults. */
  config?: Partial<Omit<MasterConfig, 'masterId' | 'epoch'>>;
  /** Election timing that differs from the defaults. */
  election?: Partial<Omit<ElectionConfig, 'masterId'>>;
  /** Allocation interval (default 1000 ms). */
  allocationIntervalMs?: number;
  /** Seed of the allocator's agent order (default random). */
  seed?: number;
  /** The allocator's fairness policy (default drf). */
  sorter?: 'drf' | 'random';
  /** The allocator's minimum offer, e.g. from `parseMinAllocatable('cpus:0.01|mem:32')`. */
  minAllocatable?: Resources[];
  /** Serve HTTP (API, metrics, web UI) on this port (0: any free one); undefined: no HTTP. */
  httpPort?: number;
  /** Address HTTP listens on (default 127.0.0.1). */
  httpHost?: string;
  /** The URL other masters, agents' operators and browsers reach this master's HTTP at (default: the URL it listens on). */
  advertiseUrl?: string;
  /** HTTP base URLs of the other masters, for the web UI to find a new leader. */
  peers?: string[];
  /** Maximum age of the updates stream, set by whichever master leads (default 7 days). */
  updatesMaxAgeMs?: number;
  /** Keep a copy of the registry while standing by, and start a term from it (default true). */
  warmStandby?: boolean;
  /** How long a new leader waits for its registry copy to catch up before it reads the bucket instead (default 5000 ms). */
  registryCatchUpMs?: number;
}

/** A running master process. */
export interface MasterHandle {
  id: string;
  /** The leader's actor while this master leads. */
  readonly leader: MasterShell | undefined;
  /** The election. */
  election: ElectionShell;
  /** The HTTP server, when serving one. */
  http: OperatorHttpServer | undefined;
  stop(): Promise<void>;
}

/** Starts a master: it joins the election and leads when it wins. */
export async function startMaster(options: StartMasterOptions): Promise<MasterHandle> {
  const masterId = options.masterId ?? `master-${randomBytes(4).toString('hex')}`;
  const log = options.logger.child({ actor: 'master', id: masterId });
  let leader: MasterShell | undefined;
  let leaderChanges = 0;
  // One set of refusal counters for the process: pings, and every term this master leads.
  const refusals = new RefusalCounts();
  let lastLeader: string | undefined;
  const http = options.httpPort === undefined ? undefined : await startOperatorHttp({
    port: options.httpPort,
    ...(options.httpHost !== undefined && { host: options.httpHost }),
    logger: log,
    source: masterOperatorSource({
      nc: options.nc,
      cluster: options.cluster,
      role: () => {
        const known = election.core.leader;
        if (known !== undefined && `${known.masterId}/${known.epoch}` !== lastLeader) {
          if (lastLeader !== undefined) leaderChanges += 1;
          lastLeader = `${known.masterId}/${known.epoch}`;
        }
        return { masterId, leading: leader !== undefined && election.mayAct(), ...(known !== undefined && { leader: known }), ...(options.peers !== undefined && { peers: options.peers }) };
      },
      snapshot: () => (leader === undefined ? Promise.reject(new NotLeaderError(masterId)) : leader.clusterState()),
      call: (call) => (leader === undefined ? Promise.resolve(notLeader(masterId)) : leader.operatorCall(call)),
      metrics: () => ({
        ...(leader?.metrics() ?? EMPTY_METRICS),
        leaderChanges,
        decodeErrors: refusals.decodeErrors,
        callsRejected: refusals.rejectedTotal,
        decodeErrorCounts: refusals.decodeErrorCounts(),
        rejectionCounts: refusals.rejectionCounts(),
      }),
    }),
  });

  // A warm standby: the registry copy is kept while this master does not lead.
  const warmStandby = options.warmStandby ?? true;
  let mirror: RegistryMirror | undefined = warmStandby ? RegistryMirror.start(options.nc, options.cluster, log) : undefined;
  let processStopping = false;

  const lead = async (epoch: number): Promise<void> => {
    const config: MasterConfig = { ...DEFAULT_MASTER_CONFIG, ...options.config, masterId, epoch };
    // Caught up to the bucket's last revision now that the term is won; otherwise the shell reads the bucket.
    const registryContents = await mirror?.catchUp(options.registryCatchUpMs ?? 5000);
    mirror?.stop();
    mirror = undefined;
    leader = new MasterShell({
      nc: options.nc,
      cluster: options.cluster,
      logger: options.logger,
      config,
      clock: () => Date.now(),
      seed: options.seed ?? randomBytes(4).readUInt32LE(0),
      newId: (prefix) => `${prefix}-${randomUUID()}`,
      mayAct: () => election.mayAct(),
      refusals,
      ...(options.sorter !== undefined && { sorter: options.sorter }),
      ...(options.minAllocatable !== undefined && { minAllocatable: options.minAllocatable }),
      ...(http !== undefined && { url: options.advertiseUrl ?? http.url }),
      ...(options.allocationIntervalMs !== undefined && { allocationIntervalMs: options.allocationIntervalMs }),
      ...(options.updatesMaxAgeMs !== undefined && { updatesMaxAgeMs: options.updatesMaxAgeMs }),
      ...(registryContents !== undefined && { registryContents }),
    });
    await leader.start();
    election.markReady();
    log.info({ epoch }, 'leading');
  };

  const stepDown = async (reason: string): Promise<void> => {
    const stopping = leader;
    leader = undefined;
    http?.endStreams();
    if (stopping !== undefined) await stopping.stop();
    if (warmStandby && !processStopping && mirror === undefined) mirror = RegistryMirror.start(options.nc, options.cluster, log);
    log.warn({ reason }, 'no longer leading');
  };

  const election: ElectionShell = new ElectionShell({
    nc: options.nc,
    cluster: options.cluster,
    logger: log,
    config: { ...DEFAULT_ELECTION_CONFIG, ...options.election, masterId, ...(http !== undefined && { url: options.advertiseUrl ?? http.url }) },
    onLead: lead,
    onStepDown: stepDown,
    refusals,
  });
  await election.start();
  log.info({ cluster: options.cluster }, 'master started; taking part in the election');
  const handle: MasterHandle = {
    id: masterId,
    get leader() {
      return leader;
    },
    election,
    http,
    stop: async () => {
      processStopping = true;
      mirror?.stop();
      mirror = undefined;
      await election.stop();
      await stepDown('the master is stopping');
      await http?.close();
    },
  };
  return handle;
}
