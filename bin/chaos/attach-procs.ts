/**
 * Finding an attached cluster's processes on this machine (Linux /proc): a `nesos master`
 * or `nesos agent` belongs to the cluster when its `--cluster` (or NESOS_CLUSTER, else
 * `local`) is the cluster's name and one of its `--nats` servers (or NESOS_NATS, else
 * nats://127.0.0.1:4222) is one of the cluster's (host and port; localhost, 127.0.0.1,
 * ::1 and 0.0.0.0 are one host). A process is restarted when it dies if its parent is a
 * `nesos up` of the same cluster and NATS server run without `--no-restart` and it was
 * started with NESOS_RESTART=on-failure (what such a `nesos up` gives its children).
 * Parsing is pure; the scan reads /proc.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { resolve } from 'node:path';
import { RESTART_ENV } from '../supervisor.js';
import { isAlive, nesosEnv, otherPids } from './procs.js';

/** The roles of the cluster's own processes that `--attach` can find. */
export type NesosRole = 'master' | 'agent';

/** A master or agent process, as its command line says. */
export interface NesosCommand {
  role: NesosRole;
  /** `--id`; for an agent without one, the id kept in its work dir (when readable). */
  id?: string;
  cluster: string;
  /** Its NATS servers, normalised (`natsEndpoint`). */
  endpoints: string[];
  /** An agent's work dir, absolute. */
  workDir?: string;
}

/** A master or agent of the attached cluster found on this machine. */
export interface LocalProcess extends NesosCommand {
  pid: number;
  /** The pid of the `nesos up` that restarts it when it dies; absent when nothing would. */
  restartedBy?: number;
}

/** A `nesos up` process, as its command line says. */
export interface UpCommand {
  cluster: string;
  /** Its nats-server's endpoint (`loopback:<--port>`). */
  endpoint: string;
  /** False when run with `--no-restart`. */
  restarts: boolean;
}


const DEFAULT_NATS = 'nats://127.0.0.1:4222';
const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]', '0.0.0.0']);

/** `host:port` of a NATS URL (port 4222 when absent; every loopback name is `loopback`); undefined when it does not parse. */
export function natsEndpoint(url: string): string | undefined {
  const m = /^(?:nats|tls):\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/?$/.exec(url.trim());
  if (m === null) return undefined;
  const host = (m[1] ?? '').toLowerCase();
  return `${LOOPBACK.has(host) ? 'loopback' : host}:${m[2] ?? '4222'}`;
}

/** The endpoints of a comma-separated list of NATS URLs. */
export function natsEndpoints(urls: string): string[] {
  return urls.split(',').flatMap((u) => natsEndpoint(u) ?? []);
}

/** The value of `--flag v` or `--flag=v` in `args` (the last one given). */
function flagValue(args: readonly string[], flag: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === flag && i + 1 < args.length) value = args[i + 1];
    else if (a.startsWith(`${flag}=`)) value = a.slice(flag.length + 1);
  }
  return value;
}

/** True for the argument that is the nesos CLI script (`…/nesos.js`, `…/.bin/nesos`), not `npx nesos`'s word. */
function isNesosScript(arg: string): boolean {
  return arg === 'nesos.js' || arg.endsWith('/nesos.js') || arg.endsWith('/nesos');
}

/**
 * What a command line runs (pure): a master or agent of which cluster, on which NATS
 * servers, under which id; undefined for anything else. `env` is its NESOS_* variables,
 * `cwd` its working directory (an agent's relative work dir is resolved against it).
 */
export function parseNesosCommand(argv: readonly string[], env: Readonly<Record<string, string>>, cwd: string): NesosCommand | undefined {
  const at = argv.findIndex(isNesosScript);
  if (at < 0) return undefined;
  const role = argv[at + 1];
  if (role !== 'master' && role !== 'agent') return undefined;
  const args = argv.slice(at + 2);
  const id = flagValue(args, '--id');
  const out: NesosCommand = {
    role,
    cluster: flagValue(args, '--cluster') ?? env.NESOS_CLUSTER ?? 'local',
    endpoints: natsEndpoints(flagValue(args, '--nats') ?? env.NESOS_NATS ?? DEFAULT_NATS),
    ...(id !== undefined && { id }),
  };
  if (role === 'agent') out.workDir = resolve(cwd, flagValue(args, '--work-dir') ?? '.nesos/agent');
  return out;
}

/** What a command line runs when it is `nesos up` (pure); undefined for anything else. */
export function parseUpCommand(argv: readonly string[], env: Readonly<Record<string, string>>): UpCommand | undefined {
  const at = argv.findIndex(isNesosScript);
  if (at < 0 || argv[at + 1] !== 'up') return undefined;
  const args = argv.slice(at + 2);
  return { cluster: flagValue(args, '--cluster') ?? env.NESOS_CLUSTER ?? 'local', endpoint: `loopback:${flagValue(args, '--port') ?? '4222'}`, restarts: !args.includes('--no-restart') };
}

/**
 * True when process `c` (with NESOS_* variables `env`) is restarted when it dies (pure): it
 * was started with NESOS_RESTART=on-failure by `parent`, a `nesos up` of its cluster on
 * one of its NATS servers that was not run with `--no-restart`.
 */
export function isRestartedBy(c: NesosCommand, env: Readonly<Record<string, string>>, parent: UpCommand | undefined): boolean {
  return env[RESTART_ENV] === 'on-failure' && parent !== undefined && parent.restarts && parent.cluster === c.cluster && c.endpoints.includes(parent.endpoint);
}

/** The `nesos up` that `pid`'s parent is, and the parent's pid; undefined when the parent is something else. */
function parentUp(pid: number): { pid: number; up: UpCommand } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const argv = readFileSync(`/proc/${ppid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
    const up = parseUpCommand(argv, nesosEnv(ppid));
    return up === undefined || !isAlive(ppid) ? undefined : { pid: ppid, up };
  } catch {
    return undefined;
  }
}

/** True when `c` is a process of cluster `cluster` on (one of) the NATS servers `endpoints`. */
export function belongsTo(c: NesosCommand, cluster: string, endpoints: readonly string[]): boolean {
  return c.cluster === cluster && c.endpoints.some((e) => endpoints.includes(e));
}

function readAgentId(workDir: string): string | undefined {
  try {
    const id = readFileSync(`${workDir}/agent-id`, 'utf8').trim();
    return id === '' ? undefined : id;
  } catch {
    return undefined;
  }
}

/** The masters and agents of cluster `cluster` on `endpoints` running on this machine (and readable by this user), by role then id. */
export function findLocalProcesses(cluster: string, endpoints: readonly string[]): LocalProcess[] {
  const out: LocalProcess[] = [];
  for (const pid of otherPids()) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
      if (!argv.some(isNesosScript)) continue;
      const env = nesosEnv(pid);
      const c = parseNesosCommand(argv, env, readlinkSync(`/proc/${pid}/cwd`));
      if (c === undefined || !belongsTo(c, cluster, endpoints) || !isAlive(pid)) continue;
      const parent = parentUp(pid);
      const p: LocalProcess = { pid, ...c, ...(parent !== undefined && isRestartedBy(c, env, parent.up) && { restartedBy: parent.pid }) };
      if (c.role === 'agent' && c.id === undefined && c.workDir !== undefined) {
        const id = readAgentId(c.workDir);
        if (id !== undefined) p.id = id;
      }
      out.push(p);
    } catch {
      // gone meanwhile, or another user's
    }
  }
  return out.sort((a, b) => a.role.localeCompare(b.role) || (a.id ?? '').localeCompare(b.id ?? '') || a.pid - b.pid);
}
