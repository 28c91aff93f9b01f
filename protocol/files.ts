/**
 * The sandbox files API: read a file of an executor's latest run on an agent. Requests on
 * `nesos.<c>.agent.<agentId>.files.<principal>`, answered FILE_DATA or REJECTED.
 */
import { z } from 'zod';
import { defineUnion, message } from './union.js';
import { RejectedReply } from './replies.js';
import { Id } from './schema.js';

/** Largest chunk one READ returns. */
export const MAX_READ_LENGTH = 512 * 1024;

/**
 * READ: `length` bytes from `offset` of `path` (relative to the sandbox, e.g. "stdout")
 * in the latest run of the framework's executor. Paths may not leave the sandbox.
 */
export const FilesRead = message('READ', {
  frameworkId: Id,
  executorId: Id,
  path: z.string().min(1).max(1024),
  offset: z.number().int().nonnegative(),
  length: z.number().int().positive().max(MAX_READ_LENGTH),
});

/** Every files call. */
export const FilesCall = defineUnion('FilesCall', [FilesRead]);
/** Every files call. */
export type FilesCall = z.infer<typeof FilesCall.schema>;

/** FILE_DATA: the bytes read, and the file's size now (read on from `offset + data.length`). */
export const FileData = message('FILE_DATA', { data: z.instanceof(Uint8Array), offset: z.number().int(), size: z.number().int() });

/** Replies to files calls. */
export const FilesReply = defineUnion('FilesReply', [FileData, RejectedReply]);
/** Replies to files calls. */
export type FilesReply = z.infer<typeof FilesReply.schema>;
