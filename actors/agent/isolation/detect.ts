/**
 * Choosing the isolator at run time. `auto` takes cgroups v2 when the unified hierarchy
 * offers the memory and cpu controllers and the agent can write there, else cgroups v1
 * when the memory, cpu and cpuacct hierarchies are mounted and writable, else posix. An
 * explicit `--isolation` that cannot work here is an error naming why.
 *
 * Where the cgroups go: `--cgroups-root` (default `nesos`) names the parent of every
 * agent's cgroups. A relative root is placed below the agent's own cgroup in each
 * hierarchy (so tasks stay inside whatever confines the agent); an absolute one below the
 * hierarchy's root. Each agent then has `<root>/<agentId>`, each container
 * `<root>/<agentId>/<executorId>`.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { IsolatorUnavailableError } from '../errors.js';
import { CgroupsV1Isolator } from './cgroups-v1.js';
import { CgroupsV2Isolator, V2_CONTROLLERS } from './cgroups-v2.js';
import { cgroupDir, parseCgroupMounts, parseProcCgroup, readCgroupFile, type CgroupMount } from './cgroupfs.js';
import { PosixIsolator } from './posix.js';
import { IsolatorKind, type IsolationMode, type Isolator } from './types.js';

/** The default `--cgroups-root`. */
export const DEFAULT_CGROUPS_ROOT = 'nesos';

/** Options of `createIsolator`. */
export interface IsolatorOptions {
  mode: IsolationMode;
  agentId: string;
  /** Parent of every agent's cgroups (default `nesos`; see the module comment). */
  cgroupsRoot?: string;
  /** /proc/self/mountinfo text (tests); default: read it. */
  mountinfo?: string;
  /** /proc/self/cgroup text (tests); default: read it. */
  procCgroup?: string;
  /** How long cleanup waits for a cgroup to empty (default 5000 ms). */
  cleanupTimeoutMs?: number;
}

type Attempt = { ok: true; isolator: Isolator } | { ok: false; problem: string };

/** Creates the isolator `mode` asks for; throws IsolatorUnavailableError when an explicit one cannot work. */
export function createIsolator(options: IsolatorOptions): Isolator {
  const mounts = parseCgroupMounts(options.mountinfo ?? readOr('/proc/self/mountinfo'));
  const own = parseProcCgroup(options.procCgroup ?? readOr('/proc/self/cgroup'));
  const root = options.cgroupsRoot ?? DEFAULT_CGROUPS_ROOT;
  const v2 = (why?: string): Attempt => tryV2(mounts, own, root, options, why);
  const v1 = (why?: string): Attempt => tryV1(mounts, own, root, options, why);
  const chosen = (attempt: Attempt, kind: string): Isolator => {
    if (attempt.ok) return attempt.isolator;
    throw new IsolatorUnavailableError(kind, attempt.problem);
  };
  switch (options.mode) {
    case IsolatorKind.CGROUPS_V2:
      return chosen(v2('asked for with --isolation'), IsolatorKind.CGROUPS_V2);
    case IsolatorKind.CGROUPS_V1:
      return chosen(v1('asked for with --isolation'), IsolatorKind.CGROUPS_V1);
    case IsolatorKind.POSIX:
      return new PosixIsolator({ why: 'asked for with --isolation' });
    case 'auto': {
      const second = v2('auto: the unified hierarchy has the memory and cpu controllers');
      if (second.ok) return second.isolator;
      const first = v1(`auto: cgroups v2 unusable (${second.problem})`);
      if (first.ok) return first.isolator;
      return new PosixIsolator({ why: `auto: cgroups v2 unusable (${second.problem}); cgroups v1 unusable (${first.problem})` });
    }
  }
}

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Where the agent's cgroups go in one hierarchy: below its own cgroup, or below the root for an absolute root. */
function baseDir(mount: CgroupMount, ownPath: string | undefined, root: string): string {
  return isAbsolute(root) ? mount.mountPoint : cgroupDir(mount, ownPath ?? '/');
}

function tryV2(mounts: CgroupMount[], own: Map<string, string>, root: string, options: IsolatorOptions, why?: string): Attempt {
  const mount = mounts.find((m) => m.version === 2);
  if (mount === undefined) return { ok: false, problem: 'no cgroup2 file system is mounted' };
  const base = baseDir(mount, own.get(''), root);
  const available = (readCgroupFile(base, 'cgroup.controllers') ?? '').split(/\s+/);
  const missing = V2_CONTROLLERS.filter((c) => !available.includes(c));
  if (missing.length > 0) return { ok: false, problem: `${base} does not offer the ${missing.join(' and ')} controller${missing.length > 1 ? 's' : ''}` };
  const isolator = new CgroupsV2Isolator({
    base,
    parent: join(base, relativeRoot(root), options.agentId),
    ...(why !== undefined && { why }),
    ...(options.cleanupTimeoutMs !== undefined && { cleanupTimeoutMs: options.cleanupTimeoutMs }),
  });
  try {
    isolator.init();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const hint = code === 'EBUSY' ? ' (a cgroup on the way holds processes; give an absolute --cgroups-root, or run the agent in a leaf cgroup)' : '';
    return { ok: false, problem: `cannot set up ${base}: ${e instanceof Error ? e.message : String(e)}${hint}` };
  }
  return { ok: true, isolator };
}

function tryV1(mounts: CgroupMount[], own: Map<string, string>, root: string, options: IsolatorOptions, why?: string): Attempt {
  const find = (controller: string): CgroupMount | undefined => mounts.find((m) => m.version === 1 && m.controllers.includes(controller));
  const memory = find('memory');
  const cpu = find('cpu');
  const cpuacct = find('cpuacct');
  const missing = [memory === undefined && 'memory', cpu === undefined && 'cpu', cpuacct === undefined && 'cpuacct'].filter((m): m is string => m !== false);
  if (memory === undefined || cpu === undefined || cpuacct === undefined) return { ok: false, problem: `no v1 hierarchy for ${missing.join(', ')}` };
  const parent = (mount: CgroupMount, controller: string): string => join(baseDir(mount, own.get(controller), root), relativeRoot(root), options.agentId);
  const isolator = new CgroupsV1Isolator({
    parents: { memory: parent(memory, 'memory'), cpu: parent(cpu, 'cpu'), cpuacct: parent(cpuacct, 'cpuacct') },
    ...(why !== undefined && { why }),
    ...(options.cleanupTimeoutMs !== undefined && { cleanupTimeoutMs: options.cleanupTimeoutMs }),
  });
  try {
    isolator.init();
  } catch (e) {
    return { ok: false, problem: `cannot create cgroups: ${e instanceof Error ? e.message : String(e)}` };
  }
  return { ok: true, isolator };
}

function relativeRoot(root: string): string {
  return root.replace(/^\/+/, '');
}
