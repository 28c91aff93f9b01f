/**
 * The sandbox files API, agent side: READ a chunk of a file (waiting for it to grow when
 * asked: "follow") and LIST a directory, in the latest run of an executor or a given one.
 * Paths are relative to the sandbox and may not leave it (no `..`, not absolute, no
 * symlink that points outside); refusals are REJECTED INVALID or NOT_FOUND.
 */
import { lstat, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { z } from 'zod';
import { MAX_LIST_ENTRIES, type FileData, type FileEntry, type FileList, type FilesCall } from '../../protocol/files.js';
import { Rejection } from '../runtime/actor.js';
import { latestLink, resolveInSandbox, runDir } from './sandbox.js';

/** A FILE_DATA reply. */
export type FileDataReply = z.infer<typeof FileData>;
/** A FILE_LIST reply. */
export type FileListReply = z.infer<typeof FileList>;

/** How often a following READ looks at the file again. */
const FOLLOW_POLL_MS = 100;

/**
 * Answers one files call for agent `agentId` whose sandboxes live under `workDir`; throws
 * Rejection. A READ with `waitMs` returns early when `signal` aborts (the agent stops).
 */
export function serveFilesCall(workDir: string, agentId: string, call: Extract<FilesCall, { type: 'READ' }>, signal?: AbortSignal): Promise<FileDataReply>;
/** Answers a LIST. */
export function serveFilesCall(workDir: string, agentId: string, call: Extract<FilesCall, { type: 'LIST' }>, signal?: AbortSignal): Promise<FileListReply>;
/** Answers any files call. */
export function serveFilesCall(workDir: string, agentId: string, call: FilesCall, signal?: AbortSignal): Promise<FileDataReply | FileListReply>;
export async function serveFilesCall(workDir: string, agentId: string, call: FilesCall, signal?: AbortSignal): Promise<FileDataReply | FileListReply> {
  const owner = { agentId, frameworkId: call.frameworkId, executorId: call.executorId };
  let root: string;
  try {
    root = call.runId === undefined ? latestLink(workDir, owner) : runDir(workDir, owner, call.runId);
  } catch (e) {
    throw new Rejection('INVALID', e instanceof Error ? e.message : String(e));
  }
  const resolved = await resolveInSandbox(root, call.path);
  if (!resolved.ok) throw new Rejection(resolved.code, resolved.reason);
  if (call.type === 'LIST') return list(resolved.path, call.path);
  const deadline = Date.now() + (call.waitMs ?? 0);
  for (;;) {
    const reply = await readChunk(resolved.path, call.path, call.offset, call.length);
    if (reply.data.byteLength > 0 || Date.now() >= deadline || signal?.aborted === true) return reply;
    await new Promise((r) => setTimeout(r, Math.min(FOLLOW_POLL_MS, Math.max(1, deadline - Date.now()))));
  }
}

async function readChunk(path: string, shown: string, offset: number, length: number): Promise<FileDataReply> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    throw new Rejection('NOT_FOUND', `cannot open "${shown}"`);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new Rejection('INVALID', `"${shown}" is not a regular file`);
    const size = stat.size;
    if (offset >= size) return { type: 'FILE_DATA', data: new Uint8Array(0), offset, size };
    const buffer = Buffer.alloc(Math.min(length, size - offset));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
    return { type: 'FILE_DATA', data: new Uint8Array(buffer.buffer, buffer.byteOffset, bytesRead), offset, size };
  } finally {
    await handle.close();
  }
}

async function list(dir: string, shown: string): Promise<FileListReply> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new Rejection('INVALID', `"${shown}" is not a directory`);
    throw new Rejection('NOT_FOUND', `cannot list "${shown}"`);
  }
  const entries: FileEntry[] = [];
  for (const name of names.sort().slice(0, MAX_LIST_ENTRIES)) {
    try {
      const st = await lstat(join(dir, name));
      const type = st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
      entries.push({ name, type, size: st.size, mtime: Math.floor(st.mtimeMs) / 1000 });
    } catch {
      // removed while listing
    }
  }
  return { type: 'FILE_LIST', path: shown, entries };
}
