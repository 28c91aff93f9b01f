/**
 * `GET /files/read`: a chunk of a task's sandbox file, read through the source (the agent's
 * files API). Query: agent, framework, executor, path (default stdout), offset (default 0),
 * length (default 64 KiB, at most 512 KiB). Answer: `{data, offset, length, size}` where `data`
 * is text, cut at a UTF-8 character boundary; read on from `offset + length`.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { MAX_READ_LENGTH } from '../../protocol/files.js';
import { Id } from '../../protocol/schema.js';
import { isRetryable } from '../runtime/errors.js';
import { AgentUnreachableError, BadRequestError, HttpApiError, statusOfRejection } from './errors.js';
import type { OperatorSource } from './types.js';

/** Default length of one read. */
export const DEFAULT_READ_LENGTH = 64 * 1024;

const Query = z.object({
  agent: Id,
  framework: Id,
  executor: Id,
  path: z.string().min(1).max(1024).default('stdout'),
  offset: z.coerce.number().int().nonnegative().default(0),
  length: z.coerce.number().int().positive().max(MAX_READ_LENGTH).default(DEFAULT_READ_LENGTH),
});

/** The JSON answer of /files/read. */
export interface FileReadAnswer {
  /** The text read (UTF-8). */
  data: string;
  /** Where it starts, in bytes. */
  offset: number;
  /** How many bytes `data` holds: read on from offset + length. */
  length: number;
  /** The file's size now, in bytes. */
  size: number;
}

/** The length of `bytes` without a trailing, incomplete UTF-8 sequence. */
export function completeUtf8Length(bytes: Uint8Array): number {
  const n = bytes.length;
  for (let back = 1; back <= Math.min(3, n); back++) {
    const b = bytes[n - back]!;
    if ((b & 0xc0) === 0x80) continue; // continuation byte: look further back
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? n - back : n;
  }
  return n;
}

/** Registers GET /files/read. */
export function registerFilesRoute(app: FastifyInstance, source: OperatorSource): void {
  app.get('/files/read', async (req) => {
    const parsed = Query.safeParse(req.query);
    if (!parsed.success) {
      const detail = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      throw new BadRequestError('INVALID', `bad /files/read query: ${detail} (give agent, framework, executor, and optionally path, offset, length)`);
    }
    const q = parsed.data;
    let reply;
    try {
      reply = await source.readFile({ agentId: q.agent, frameworkId: q.framework, executorId: q.executor, path: q.path, offset: q.offset, length: q.length });
    } catch (e) {
      if (isRetryable(e)) throw new AgentUnreachableError(q.agent, { cause: e });
      throw e;
    }
    if (reply.type === 'REJECTED') throw new HttpApiError(statusOfRejection(reply.code), reply.code, reply.reason);
    const keep = completeUtf8Length(reply.data);
    const answer: FileReadAnswer = {
      data: Buffer.from(reply.data.buffer, reply.data.byteOffset, keep).toString('utf8'),
      offset: reply.offset,
      length: keep,
      size: reply.size,
    };
    return answer;
  });
}
