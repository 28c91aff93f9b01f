/**
 * Persistent volumes on the agent (Mesos's persistent volumes on the posix filesystem).
 * A volume `disk(<role>,…)[<id>:<path>]` is the directory
 * `<workDir>/volumes/roles/<role>/<id>` (a `/` in a hierarchical role is written as a
 * space, as Mesos does). It is created the first time a task using it is launched, linked
 * into the task's sandbox at `<path>` (a symlink: no bind mount, so no privilege and no
 * mount namespace is needed; the task sees the same files through it), kept after the task
 * ends and across agent restarts, and removed only when the master's checkpointed resources
 * (CHECKPOINT_RESOURCES) no longer hold it and no live task uses it. Sandbox garbage
 * collection removes the link, never the directory (it lives outside `agents/`).
 *
 * The pure part (which volumes a task uses, which directories must go) is tested on its
 * own; `prepareVolumes` and `syncVolumes` do the file system work for the shell.
 */
import { lstat, mkdir, readdir, rm, symlink, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ResourcesWire } from '../../protocol/schema.js';
import { checkRelativePath } from './sandbox.js';

/** One persistent volume as the agent sees it. */
export interface VolumeRef {
  role: string;
  id: string;
  /** Where it appears in the sandbox (relative); the id when the volume names none. */
  path: string;
}

/** The persistent volumes among `resources` (reserved disk with a volume). */
export function volumesOf(resources: ResourcesWire): VolumeRef[] {
  return resources.flatMap((r) => (r.volume !== undefined && r.role !== undefined && r.role !== '*' ? [{ role: r.role, id: r.volume.id, path: r.volume.path ?? r.volume.id }] : []));
}

/** `<workDir>/volumes/roles`. */
export function volumesRoot(workDir: string): string {
  return join(workDir, 'volumes', 'roles');
}

/** `<workDir>/volumes/roles/<role, with / as a space>/<id>`. */
export function volumeDir(workDir: string, role: string, id: string): string {
  return join(volumesRoot(workDir), roleDirName(role), id);
}

/** A role as a directory name: `/` (hierarchical roles) becomes a space, as in Mesos. */
export function roleDirName(role: string): string {
  return role.replaceAll('/', ' ');
}

/** The volume directories (as `<role dir>/<id>`) on disk that neither `keep` nor anything else holds. */
export function volumesToRemove(onDisk: readonly string[], keep: readonly Pick<VolumeRef, 'role' | 'id'>[]): string[] {
  const kept = new Set(keep.map((v) => `${roleDirName(v.role)}/${v.id}`));
  return onDisk.filter((d) => !kept.has(d));
}

/**
 * Creates each volume's directory (if missing) and links it at its path under `dir` (a
 * sandbox, or a group task's directory in it). A path that is absolute or leaves the
 * sandbox, or something other than a link already there, is an error (thrown after the
 * other volumes are done).
 */
export async function prepareVolumes(workDir: string, dir: string, volumes: readonly VolumeRef[]): Promise<void> {
  const problems: string[] = [];
  for (const v of volumes) {
    const ok = checkRelativePath(v.path);
    if (!ok.ok) {
      problems.push(`volume ${v.id}: ${ok.reason}`);
      continue;
    }
    const target = volumeDir(workDir, v.role, v.id);
    const link = join(dir, v.path);
    await mkdir(target, { recursive: true });
    await mkdir(dirname(link), { recursive: true });
    const existing = await lstat(link).catch(() => undefined);
    if (existing?.isSymbolicLink() === true) await unlink(link);
    else if (existing !== undefined) {
      problems.push(`volume ${v.id}: ${v.path} already exists in the sandbox and is not a link`);
      continue;
    }
    await symlink(target, link);
  }
  if (problems.length > 0) throw new Error(problems.join('; '));
}

/** Removes the volume directories `keep` does not hold; returns them (`<role dir>/<id>`). */
export async function syncVolumes(workDir: string, keep: readonly VolumeRef[]): Promise<string[]> {
  const root = volumesRoot(workDir);
  const onDisk: string[] = [];
  for (const role of await readdir(root).catch(() => [])) {
    for (const id of await readdir(join(root, role)).catch(() => [])) onDisk.push(`${role}/${id}`);
  }
  const gone = volumesToRemove(onDisk, keep);
  for (const d of gone) await rm(join(root, d), { recursive: true, force: true });
  return gone;
}
