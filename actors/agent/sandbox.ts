/**
 * Sandboxes: where each executor run lives, as in Mesos:
 * `<workDir>/agents/<agentId>/frameworks/<frameworkId>/executors/<executorId>/runs/<runId>`,
 * with `runs/latest` a symlink to the newest run (replaced atomically). Also the one place
 * that turns a caller's relative path into a file inside a sandbox, refusing escapes.
 */
import { mkdir, realpath, rename, rm, symlink } from 'node:fs/promises';
import { isAbsolute, join, sep } from 'node:path';
import { isValidToken } from '../../protocol/subjects.js';
import { SandboxError } from './errors.js';

/** Name of the link to an executor's newest run. */
export const LATEST = 'latest';

/** Whose sandbox: the ids that place it under the work dir. */
export interface SandboxOwner {
  agentId: string;
  frameworkId: string;
  executorId: string;
}

function checked(owner: SandboxOwner): SandboxOwner {
  for (const [role, value] of Object.entries(owner)) {
    if (!isValidToken(value)) throw new SandboxError(String(value), `invalid ${role} in a sandbox path`);
  }
  return owner;
}

/** `<workDir>/agents/<agentId>/frameworks/<frameworkId>/executors/<executorId>`. */
export function executorDir(workDir: string, owner: SandboxOwner): string {
  const { agentId, frameworkId, executorId } = checked(owner);
  return join(workDir, 'agents', agentId, 'frameworks', frameworkId, 'executors', executorId);
}

/** The directory of one run of an executor. */
export function runDir(workDir: string, owner: SandboxOwner, runId: string): string {
  if (!isValidToken(runId) || runId === LATEST) throw new SandboxError(runId, 'invalid run id');
  return join(executorDir(workDir, owner), 'runs', runId);
}

/** The `runs/latest` link of an executor. */
export function latestLink(workDir: string, owner: SandboxOwner): string {
  return join(executorDir(workDir, owner), 'runs', LATEST);
}

/** Creates a run's directory and points `runs/latest` at it (new link, then rename: atomic). Returns the run dir. */
export async function createRunSandbox(workDir: string, owner: SandboxOwner, runId: string): Promise<string> {
  const dir = runDir(workDir, owner, runId);
  const link = latestLink(workDir, owner);
  const temp = `${link}.${runId}.tmp`;
  try {
    try {
      await mkdir(dir, { recursive: true });
    } catch (e) {
      // the sandbox collector may have removed an empty parent at that very moment: once more
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      await mkdir(dir, { recursive: true });
    }
    await rm(temp, { force: true });
    await symlink(runId, temp); // relative: the tree can be moved
    await rename(temp, link);
  } catch (cause) {
    throw new SandboxError(dir, cause instanceof Error ? cause.message : String(cause), { cause });
  }
  return dir;
}

/** Why a path was refused: INVALID (never allowed) or NOT_FOUND (nothing there). */
export type PathRefusal = { ok: false; code: 'INVALID' | 'NOT_FOUND'; reason: string };

/** Checks the text of a relative path: not empty, not absolute, no NUL, no `..` segment. */
export function checkRelativePath(path: string): { ok: true } | PathRefusal {
  if (path === '' || path.includes('\0')) return { ok: false, code: 'INVALID', reason: 'the path is empty or holds a NUL byte' };
  if (isAbsolute(path)) return { ok: false, code: 'INVALID', reason: `"${path}" is absolute; give a path relative to the sandbox` };
  if (path.split(/[/\\]/).includes('..')) return { ok: false, code: 'INVALID', reason: `"${path}" may not contain ".."` };
  return { ok: true };
}

/**
 * Resolves `path` inside the sandbox `root` (which may itself be a link, such as
 * `runs/latest`), following symlinks, and refuses anything that lands outside it.
 */
export async function resolveInSandbox(root: string, path: string): Promise<{ ok: true; path: string } | PathRefusal> {
  const text = checkRelativePath(path);
  if (!text.ok) return text;
  let rootReal: string;
  try {
    rootReal = await realpath(root);
  } catch {
    return { ok: false, code: 'NOT_FOUND', reason: 'no such sandbox' };
  }
  let real: string;
  try {
    real = await realpath(join(rootReal, path));
  } catch {
    return { ok: false, code: 'NOT_FOUND', reason: `no file "${path}" in the sandbox` };
  }
  if (real !== rootReal && !real.startsWith(rootReal + sep)) {
    return { ok: false, code: 'INVALID', reason: `"${path}" leads out of the sandbox` };
  }
  return { ok: true, path: real };
}
