/**
 * The sandbox files API: list and read the files of an executor's run on an agent.
 * Requests on `nesos.<c>.agent.<agentId>.files.<principal>`; READ is answered FILE_DATA or
 * REJECTED, LIST FILE_LIST or REJECTED (INVALID for a path that is not allowed,
 * NOT_FOUND when nothing is there). Paths are relative to the sandbox and may not leave it.
 */
import { z } from 'zod';
import { defineUnion, message } from './union.js';
import { RejectedReply } from './replies.js';
import { Id } from './schema.js';

/** Largest chunk one READ returns. */
export const MAX_READ_LENGTH = 512 * 1024;

/** Longest a READ may wait for a file to grow (`waitMs`). */
export const MAX_FOLLOW_WAIT_MS = 30_000;

/** Most entries one LIST returns. */
export const MAX_LIST_ENTRIES = 10_000;

/**
 * READ: `length` bytes from `offset` of `path` (relative to the sandbox, e.g. "stdout")
 * in the run `runId` of the framework's executor (default: its latest run). To follow a
 * file, read on from `offset + data.length` with `waitMs`: when there is nothing beyond
 * `offset` yet, the agent answers as soon as the file grows, or after `waitMs` with no data.
 */
export const FilesRead = message('READ', {
  frameworkId: Id,
  executorId: Id,
  runId: Id.optional(),
  path: z.string().min(1).max(1024),
  offset: z.number().int().nonnegative(),
  length: z.number().int().positive().max(MAX_READ_LENGTH),
  waitMs: z.number().int().nonnegative().max(MAX_FOLLOW_WAIT_MS).optional(),
});

/** LIST: the entries of directory `path` (default the sandbox itself, ".") of a run (default the latest). */
export const FilesList = message('LIST', {
  frameworkId: Id,
  executorId: Id,
  runId: Id.optional(),
  path: z.string().min(1).max(1024).default('.'),
});

/** Every files call. */
export const FilesCall = defineUnion('FilesCall', [FilesRead, FilesList]);
/** Every files call. */
export type FilesCall = z.infer<typeof FilesCall.schema>;

/** FILE_DATA: the bytes read, and the file's size now (read on from `offset + data.length`). */
export const FileData = message('FILE_DATA', { data: z.instanceof(Uint8Array), offset: z.number().int(), size: z.number().int() });

/** One entry of a directory: its name, kind, size in bytes and modification time (seconds since the epoch). */
export const FileEntry = z.object({
  name: z.string().max(1024),
  type: z.enum(['file', 'dir', 'link', 'other']),
  size: z.number().int().nonnegative(),
  mtime: z.number().nonnegative(),
});
/** One entry of a directory. */
export type FileEntry = z.infer<typeof FileEntry>;

/** FILE_LIST: the entries of the directory listed, sorted by name. */
export const FileList = message('FILE_LIST', { path: z.string().max(1024), entries: z.array(FileEntry).max(MAX_LIST_ENTRIES) });

/** Replies to READ. */
export const FilesReply = defineUnion('FilesReply', [FileData, RejectedReply]);
/** Replies to READ. */
export type FilesReply = z.infer<typeof FilesReply.schema>;

/** Replies to LIST. */
export const FilesListReply = defineUnion('FilesListReply', [FileList, RejectedReply]);
/** Replies to LIST. */
export type FilesListReply = z.infer<typeof FilesListReply.schema>;
