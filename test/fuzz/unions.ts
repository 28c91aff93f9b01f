/**
 * Every message union the cluster decodes, by name: what each subject, reply and stored
 * value is decoded as. The codec fuzz suite runs its properties over all of them.
 */
import { AgentToMaster, MasterReplyToAgent, MasterToAgent } from '../../protocol/agent.js';
import { ExecutorCall, ExecutorEvent } from '../../protocol/executor.js';
import { FilesCall, FilesReply } from '../../protocol/files.js';
import { PingCall, PingReply } from '../../protocol/leader.js';
import { OperatorApiCall, OperatorApiReply } from '../../protocol/operator-api.js';
import { OperatorEvent } from '../../protocol/operator-events.js';
import { OperatorCall, OperatorReply } from '../../protocol/operator.js';
import { Reply } from '../../protocol/replies.js';
import { SchedulerCall, SchedulerEvent } from '../../protocol/scheduler.js';
import type { MessageUnion } from '../../protocol/union.js';
import { UpdateRecord } from '../../protocol/updates.js';
import { RegistryEntry } from '../../actors/master/registry.js';

/** Every union of the protocol (and the registry's entries). */
export const ALL_UNIONS: readonly MessageUnion[] = [
  SchedulerCall,
  SchedulerEvent,
  AgentToMaster,
  MasterReplyToAgent,
  MasterToAgent,
  ExecutorCall,
  ExecutorEvent,
  FilesCall,
  FilesReply,
  PingCall,
  PingReply,
  OperatorApiCall,
  OperatorApiReply,
  OperatorEvent,
  OperatorCall,
  OperatorReply,
  Reply,
  UpdateRecord,
  RegistryEntry as unknown as MessageUnion,
];
