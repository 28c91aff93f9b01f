/**
 * The sandbox files API, agent side: READ a chunk of a file in the latest run of an
 * executor. Paths are relative to the sandbox and may not leave it (no `..`, not absolute,
 * no symlink that points outside); refusals are REJECTED INVALID or NOT_FOUND.
 */
import { open } from 'node:fs/promises';
import type { z } from 'zod';
import type { FileData, FilesCall } from '../../protocol/files.js';
import { Rejection } from '../runtime/actor.js';
import { latestLink, resolveInSandbox } from './sandbox.js';

/** A FILE_DATA reply. */
export type FileDataReply = z.infer<typeof FileData>;

/** Answers one files call for agent `agentId` whose sandboxes live under `workDir`; throws Rejection. */
export async function serveFilesCall(workDir: string, agentId: string, call: FilesCall): Promise<FileDataReply> {
  const root = latestLink(workDir, { agentId, frameworkId: call.frameworkId, executorId: call.executorId });
  const resolved = await resolveInSandbox(root, call.path);
  if (!resolved.ok) throw new Rejection(resolved.code, resolved.reason);
  let handle;
  try {
    handle = await open(resolved.path, 'r');
  } catch {
    throw new Rejection('NOT_FOUND', `cannot open "${call.path}"`);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new Rejection('INVALID', `"${call.path}" is not a regular file`);
    const size = stat.size;
    if (call.offset >= size) return { type: 'FILE_DATA', data: new Uint8Array(0), offset: call.offset, size };
    const buffer = Buffer.alloc(Math.min(call.length, size - call.offset));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, call.offset);
    return { type: 'FILE_DATA', data: new Uint8Array(buffer.buffer, buffer.byteOffset, bytesRead), offset: call.offset, size };
  } finally {
    await handle.close();
  }
}
