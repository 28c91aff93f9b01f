/**
 * The agent's side of an `OperatorSource` over NATS: `readFile` (the agent files API,
 * `protocol/files.ts`) and `agentState` (`protocol/agent-state.ts`), asked as `principal`.
 * A master passes `natsFileReader(nc, cluster, 'master')` as its source's readFile.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { AgentStateReplies } from '../../protocol/agent-state.js';
import { FilesReply } from '../../protocol/files.js';
import { Subjects } from '../../protocol/subjects.js';
import { request } from '../runtime/request.js';
import type { FileReadRequest } from './types.js';

/** Makes a `readFile` that asks the agent over NATS; the request is tried once and times out after `timeoutMs`. */
export function natsFileReader(nc: NatsConnection, cluster: string, principal: string, timeoutMs = 2000): (r: FileReadRequest) => Promise<FilesReply> {
  const subjects = new Subjects(cluster);
  return (r) =>
    request(
      nc,
      subjects.agentFiles(r.agentId, principal),
      { type: 'READ', frameworkId: r.frameworkId, executorId: r.executorId, path: r.path, offset: r.offset, length: r.length },
      FilesReply,
      { timeoutMs },
    );
}

/** Makes an `agentState` that asks the agent for GET_STATE over NATS; tried once, times out after `timeoutMs`. */
export function natsAgentStateReader(nc: NatsConnection, cluster: string, principal: string, timeoutMs = 2000): (agentId: string) => Promise<AgentStateReplies> {
  const subjects = new Subjects(cluster);
  return (agentId) => request(nc, subjects.agentState(agentId, principal), { type: 'GET_STATE' }, AgentStateReplies, { timeoutMs });
}
