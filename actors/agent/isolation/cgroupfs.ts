/**
 * Reading the host's cgroup layout: which hierarchies are mounted where (from
 * /proc/self/mountinfo), which cgroup this process is in (from /proc/self/cgroup), and
 * small file helpers for cgroupfs. Parsing is pure; the readers take the file text.
 */
import { readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One mounted cgroup hierarchy. */
export interface CgroupMount {
  /** Where it is mounted, e.g. /sys/fs/cgroup/memory. */
  mountPoint: string;
  /** The cgroup path the mount shows as its root ("/" unless in a cgroup namespace). */
  root: string;
  /** 1 or 2. */
  version: 1 | 2;
  /** v1: the controllers of this hierarchy (memory, cpu, cpuacct…); v2: empty here. */
  controllers: string[];
}

/** Parses /proc/self/mountinfo for cgroup and cgroup2 mounts. */
export function parseCgroupMounts(mountinfo: string): CgroupMount[] {
  const out: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    // "<id> <parent> <maj:min> <root> <mount point> <options> [optional…] - <fstype> <source> <super options>"
    const dash = line.indexOf(' - ');
    if (dash < 0) continue;
    const left = line.slice(0, dash).split(' ');
    const right = line.slice(dash + 3).split(' ');
    const fstype = right[0];
    const root = unescapeMount(left[3] ?? '/');
    const mountPoint = unescapeMount(left[4] ?? '');
    if (fstype === 'cgroup2') out.push({ mountPoint, root, version: 2, controllers: [] });
    else if (fstype === 'cgroup') {
      const superOptions = (right[2] ?? '').split(',');
      const controllers = superOptions.filter((o) => !o.includes('=') && !['rw', 'ro', 'relatime', 'noexec', 'nosuid', 'nodev'].includes(o));
      out.push({ mountPoint, root, version: 1, controllers });
    }
  }
  return out;
}

function unescapeMount(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** The cgroup this process is in, per v1 controller and for v2 (key ""). */
export function parseProcCgroup(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second);
    const path = line.slice(second + 1);
    if (controllers === '') out.set('', path);
    else for (const c of controllers.split(',')) out.set(c, path);
  }
  return out;
}

/** The directory of cgroup `path` (as /proc/self/cgroup shows it) under `mount`. */
export function cgroupDir(mount: CgroupMount, path: string): string {
  const relative = mount.root !== '/' && path.startsWith(mount.root) ? path.slice(mount.root.length) : path;
  return join(mount.mountPoint, relative);
}

/** Reads a cgroup file, trimmed; undefined when it cannot be read. */
export function readCgroupFile(dir: string, file: string): string | undefined {
  try {
    return readFileSync(join(dir, file), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Reads a cgroup file holding one number; undefined when missing or not a number. */
export function readCgroupNumber(dir: string, file: string): number | undefined {
  const text = readCgroupFile(dir, file);
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/** Parses "key value" lines (memory.stat, cpu.stat, memory.events, memory.oom_control). */
export function parseKeyValues(text: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of (text ?? '').split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key !== undefined && value !== undefined && value !== '' && Number.isFinite(Number(value))) out.set(key, Number(value));
  }
  return out;
}

/** Writes a cgroup control file (throws the fs error). */
export function writeCgroupFile(dir: string, file: string, value: string): void {
  writeFileSync(join(dir, file), value);
}

/** The pids in a cgroup (cgroup.procs); empty when it is gone. */
export function cgroupPids(dir: string): number[] {
  const text = readCgroupFile(dir, 'cgroup.procs');
  if (text === undefined || text === '') return [];
  return text.split('\n').map(Number).filter((n) => Number.isInteger(n) && n > 0);
}

/**
 * SIGKILLs every process of a cgroup until it is empty, then removes the directory.
 * Retries while the kernel still reports members (zombies leave the cgroup when reaped).
 * Returns true once the directory is gone.
 */
export async function killAndRemove(dir: string, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const pid of cgroupPids(dir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    try {
      rmdirSync(dir);
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return true;
      if (Date.now() > deadline) return false;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Removes an empty cgroup directory; false when it is not empty or cannot be removed. */
export function removeIfEmpty(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT';
  }
}
