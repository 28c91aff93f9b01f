/**
 * Starting an agent: settle its id (given, or kept in `<workDir>/agent-id`), its resources
 * (`--resources` over detection) and attributes, then start the actor. No CLI parsing here:
 * `bin/nesos.ts` maps flags to `AgentOptions`.
 */
import { randomUUID } from 'node:crypto';
import { access, mkdir, open, readFile, rename } from 'node:fs/promises';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { isValidToken } from '../../protocol/subjects.js';
import type { AgentSnapshot } from '../../protocol/agent-state.js';
import type { NatsConnection } from '../runtime/nats.js';
import { parseAttributes } from './attributes.js';
import { AgentConfigError, AgentIdFileError } from './errors.js';
import { createIsolator, DEFAULT_CGROUPS_ROOT, ISOLATION_MODES, type IsolationMode } from './isolation/index.js';
import { resolveResources } from './resources-detect.js';
import { RECOVER_MODES, type RecoverMode } from './recovery.js';
import { AgentShell } from './shell.js';

/** Options of `startAgent`; flags of `nesos agent` map onto them. */
export interface AgentOptions {
  /** The agent's NATS connection (the caller owns it and closes it after `stop`). */
  nc: NatsConnection;
  /** NATS URL(s) for the executors to connect to, comma-separated. */
  natsServers: string;
  /** The cluster name (second token of every subject). */
  cluster: string;
  /** The process's root logger. */
  logger: Logger;
  /** Holds the agent id file and the sandboxes. Created if missing. */
  workDir: string;
  /** Fixed agent id; default: kept in `<workDir>/agent-id`, generated the first time. */
  agentId?: string;
  /** Default: os.hostname(). */
  hostname?: string;
  /** Mesos syntax (`cpus:2;mem:1024;ports:[31000-31100]`); kinds left out are detected. */
  resources?: string;
  /** Mesos syntax (`rack:r1;zone:a`). */
  attributes?: string;
  /** The command executor's JS file; default: the compiled `dist/actors/executor/main.js` beside this file. */
  executorEntry?: string;
  /** Longest pause between attempts to publish a status update to the updates stream (default 2000 ms). */
  updatePublishRetryMs?: number;
  /** Longest pause between registration attempts (default 2000 ms). */
  registrationRetryMs?: number;
  /** How long `stop` waits for executors to exit before killing them (default 5000 ms). */
  shutdownTimeoutMs?: number;
  /** Which isolator confines tasks (default `auto`: cgroups v2, else v1, else posix). */
  isolation?: IsolationMode;
  /** Parent of the agents' cgroups (default `nesos`): relative to the agent's own cgroup, or absolute. */
  cgroupsRoot?: string;
  /** Keep a finished sandbox this long at most (default one week; less as the disk fills). */
  gcDelayMs?: number;
  /** Disk fraction kept free when computing how long sandboxes stay (default 0.1). */
  gcDiskHeadroom?: number;
  /** How often the disk is looked at and due sandboxes removed (default 60 s). */
  diskWatchIntervalMs?: number;
  /** Executors found running at start: `reconnect` (default: take them back) or `cleanup` (kill them). */
  recover?: RecoverMode;
  /** After a restart, kill a recovered executor that has not subscribed again after this long (default 5 s). */
  executorReregistrationTimeoutMs?: number;
  /** A default executor idle this long is shut down; until then further groups reuse it (default 1 s). */
  defaultExecutorLingerMs?: number;
  /** Spare executors kept started ahead of need for built-in executors to bind (default 1; 0: none). */
  spareExecutors?: number;
}

/** A running agent. */
export interface AgentHandle {
  /** The agent's id. */
  id: string;
  /** Shuts every executor down (killing any that linger), then stops the actor. */
  stop(): Promise<void>;
  /** The agent's state as GET_STATE answers it (with each container's usage). */
  snapshot(): Promise<AgentSnapshot>;
}

/** Spare executors an agent keeps unless told otherwise (`--spare-executors`). */
export const DEFAULT_SPARE_EXECUTORS = 1;

/** The name of the file that keeps the agent's id in its work dir. */
export const AGENT_ID_FILE = 'agent-id';

/** The compiled command executor next to this module (`dist/actors/executor/main.js` when run from dist). */
export function defaultExecutorEntry(): string {
  return fileURLToPath(new URL('../executor/main.js', import.meta.url));
}

/** A fresh agent id: `agent-<8 hex>`. */
export function newAgentId(): string {
  return `agent-${randomUUID().replaceAll('-', '').slice(0, 8)}`;
}

/** Reads the id kept in `<workDir>/agent-id`, or makes one and writes it atomically (temp, fsync, rename). */
export async function loadOrCreateAgentId(workDir: string, generate: () => string = newAgentId): Promise<string> {
  const path = join(workDir, AGENT_ID_FILE);
  try {
    const id = (await readFile(path, 'utf8')).trim();
    if (!isValidToken(id)) throw new AgentIdFileError(path, `holds "${id.slice(0, 40)}", which is not a valid agent id`);
    return id;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e instanceof AgentIdFileError ? e : new AgentIdFileError(path, String(e), { cause: e });
  }
  const id = generate();
  const temp = `${path}.${process.pid}.tmp`;
  try {
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(`${id}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (e) {
    throw new AgentIdFileError(path, `cannot be written: ${String(e)}`, { cause: e });
  }
  return id;
}

/** Starts an agent: it registers with the master (retrying until one answers) and runs tasks. */
export async function startAgent(options: AgentOptions): Promise<AgentHandle> {
  const workDir = resolve(options.workDir);
  await mkdir(workDir, { recursive: true });
  if (options.agentId !== undefined && !isValidToken(options.agentId)) {
    throw new AgentConfigError('--agent-id', `invalid --agent-id "${options.agentId}": use 1-128 letters, digits, "-", "_" or "~"`);
  }
  const id = options.agentId ?? (await loadOrCreateAgentId(workDir));
  const hostname = options.hostname ?? os.hostname();
  if (hostname === '' || hostname.length > 256) throw new AgentConfigError('--hostname', `invalid --hostname "${hostname}"`);
  const attributes = parseAttributes(options.attributes ?? '');
  const resources = await resolveResources(options.resources, workDir);
  const executorEntry = resolve(options.executorEntry ?? defaultExecutorEntry());
  try {
    await access(executorEntry);
  } catch {
    throw new AgentConfigError('--executor-entry', `the command executor ${executorEntry} does not exist (run "npm run build" first)`);
  }
  const isolation = options.isolation ?? 'auto';
  if (!ISOLATION_MODES.includes(isolation)) throw new AgentConfigError('--isolation', `invalid --isolation "${String(isolation)}": use one of ${ISOLATION_MODES.join(', ')}`);
  const cgroupsRoot = options.cgroupsRoot ?? DEFAULT_CGROUPS_ROOT;
  if (!/^\/?[A-Za-z0-9_~.-]+(\/[A-Za-z0-9_~.-]+)*$/.test(cgroupsRoot) || cgroupsRoot.split('/').some((s) => s === '..' || s === '.')) {
    throw new AgentConfigError('--cgroups-root', `invalid --cgroups-root "${cgroupsRoot}": use names of letters, digits, "-", "_", "~" or "." separated by "/"`);
  }
  if (options.gcDiskHeadroom !== undefined && !(options.gcDiskHeadroom >= 0 && options.gcDiskHeadroom <= 1)) {
    throw new AgentConfigError('--gc-disk-headroom', `invalid --gc-disk-headroom ${options.gcDiskHeadroom}: give a fraction from 0 to 1`);
  }
  if (options.diskWatchIntervalMs !== undefined && !(options.diskWatchIntervalMs >= 10)) {
    throw new AgentConfigError('--disk-watch-interval', `invalid --disk-watch-interval ${options.diskWatchIntervalMs} ms: give at least 10ms`);
  }
  if (options.recover !== undefined && !RECOVER_MODES.includes(options.recover)) {
    throw new AgentConfigError('--recover', `invalid --recover "${String(options.recover)}": use ${RECOVER_MODES.join(' or ')}`);
  }
  const isolator = createIsolator({ mode: isolation, agentId: id, cgroupsRoot });
  const shell = new AgentShell({
    nc: options.nc,
    natsServers: options.natsServers,
    cluster: options.cluster,
    logger: options.logger,
    workDir,
    info: { id, hostname, resources: resources.toWire(), attributes },
    resources,
    executorEntry,
    updatePublishRetryMs: options.updatePublishRetryMs ?? 2000,
    registrationRetryMs: options.registrationRetryMs ?? 2000,
    ...(options.shutdownTimeoutMs !== undefined && { shutdownTimeoutMs: options.shutdownTimeoutMs }),
    isolator,
    ...(options.gcDelayMs !== undefined && { gcDelayMs: options.gcDelayMs }),
    ...(options.gcDiskHeadroom !== undefined && { gcDiskHeadroom: options.gcDiskHeadroom }),
    ...(options.diskWatchIntervalMs !== undefined && { diskWatchIntervalMs: options.diskWatchIntervalMs }),
    ...(options.recover !== undefined && { recover: options.recover }),
    ...(options.executorReregistrationTimeoutMs !== undefined && { executorReregistrationTimeoutMs: options.executorReregistrationTimeoutMs }),
    ...(options.defaultExecutorLingerMs !== undefined && { defaultExecutorLingerMs: options.defaultExecutorLingerMs }),
    spareExecutors: options.spareExecutors ?? DEFAULT_SPARE_EXECUTORS,
  });
  await shell.start();
  return { id, stop: () => shell.stop(), snapshot: () => shell.mailbox.run(() => shell.snapshot()) };
}
