/** Following a task's sandbox file through the agent's files API. */
import type { NatsConnection } from '@nats-io/transport-node';
import { FilesReply, MAX_READ_LENGTH } from '../protocol/files.js';
import { Subjects } from '../protocol/subjects.js';
import { request } from '../actors/runtime/request.js';

/** Where a sandbox file is: the agent, the framework and executor, and the path in the sandbox. */
export interface SandboxFile {
  cluster: string;
  agentId: string;
  frameworkId: string;
  executorId: string;
  path: string;
}

/** Reads a sandbox file from `offset` on, chunk by chunk; returns the bytes and the next offset. */
export class SandboxTail {
  private offset = 0;
  private readonly subject: string;

  constructor(
    private readonly nc: NatsConnection,
    private readonly file: SandboxFile,
    principal: string,
  ) {
    this.subject = new Subjects(file.cluster).agentFiles(file.agentId, principal);
  }

  /** Reads whatever was appended since the last call (empty when nothing new, or the file does not exist yet). */
  async readNew(): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < 64; i++) {
      const reply = await request(this.nc, this.subject, {
        type: 'READ',
        frameworkId: this.file.frameworkId,
        executorId: this.file.executorId,
        path: this.file.path,
        offset: this.offset,
        length: MAX_READ_LENGTH,
      }, FilesReply, { timeoutMs: 2000 });
      if (reply.type === 'REJECTED' || reply.data.byteLength === 0) break;
      chunks.push(reply.data);
      this.offset += reply.data.byteLength;
      if (this.offset >= reply.size) break;
    }
    return Buffer.concat(chunks);
  }
}
