/**
 * The subject map: every NATS subject Nesos uses is built here, and nowhere else.
 *
 * All subjects start with `nesos.<cluster>.` so several clusters (and parallel tests) can
 * share one NATS server. Where a principal sends, its identity is a token of the subject
 * (`…master.scheduler.<principal>`), so that NATS permissions can confine each principal
 * to its own subjects, and the receiver can check the body against the subject.
 *
 * | subject | from → to | carries |
 * |---|---|---|
 * | `nesos.<c>.master.scheduler.<principal>` | framework → master (request) | SchedulerCall |
 * | `nesos.<c>.framework.<frameworkId>.events` | master → framework | SchedulerEvent |
 * | `nesos.<c>.master.agent.<agentId>` | agent → master (request) | AgentToMaster |
 * | `nesos.<c>.agent.<agentId>.master` | master → agent | MasterToAgent |
 * | `nesos.<c>.agent.<agentId>.executor.<executorId>` | executor → agent (request) | ExecutorToAgent |
 * | `nesos.<c>.executor.<agentId>.<executorId>` | agent → executor | AgentToExecutor |
 * | `nesos.<c>.agent.<agentId>.files.<principal>` | CLI/UI → agent (request) | FilesCall |
 * | `nesos.<c>.agent.<agentId>.state.<principal>` | CLI/UI/tests → agent (request) | AgentStateCall |
 * | `nesos.<c>.master.operator.<principal>` | CLI/UI → master (request) | OperatorCall |
 * | `nesos.<c>.master.ping.<masterId>` | master → master (request) | PingCall |
 * | `nesos.<c>.updates.<frameworkId>.<taskId>` | agent, master → updates stream (JetStream) | UpdateRecord |
 */
import { SubjectTokenError } from './errors.js';

const TOKEN = /^[A-Za-z0-9_~-]{1,128}$/;

/** Checks one subject token; throws SubjectTokenError when it is unsafe. */
export function token(value: string, role: string): string {
  if (!TOKEN.test(value)) throw new SubjectTokenError(value, role);
  return value;
}

/** True when `value` may be used as a subject token (a cluster name, an id, a principal). */
export function isValidToken(value: string): boolean {
  return TOKEN.test(value);
}

/** Subject builders for one cluster. */
export class Subjects {
  /** The cluster's name, the second token of every subject. */
  readonly cluster: string;
  private readonly root: string;

  constructor(cluster: string) {
    this.cluster = token(cluster, 'cluster name');
    this.root = `nesos.${cluster}`;
  }

  /** Framework → master scheduler calls, sent by `principal`. */
  schedulerCall(principal: string): string {
    return `${this.root}.master.scheduler.${token(principal, 'principal')}`;
  }

  /** The master's subscription to every scheduler call. */
  schedulerCallsWildcard(): string {
    return `${this.root}.master.scheduler.*`;
  }

  /** Master → framework events for one framework. */
  frameworkEvents(frameworkId: string): string {
    return `${this.root}.framework.${token(frameworkId, 'framework id')}.events`;
  }

  /** Agent → master messages, sent by agent `agentId`. */
  agentToMaster(agentId: string): string {
    return `${this.root}.master.agent.${token(agentId, 'agent id')}`;
  }

  /** The master's subscription to every agent's messages. */
  agentToMasterWildcard(): string {
    return `${this.root}.master.agent.*`;
  }

  /** Master → agent messages for one agent. */
  masterToAgent(agentId: string): string {
    return `${this.root}.agent.${token(agentId, 'agent id')}.master`;
  }

  /** Every agent's master → agent messages: one subscription for many simulated agents (`nesos simulate`). */
  masterToAgentWildcard(): string {
    return `${this.root}.agent.*.master`;
  }

  /** The agent id of a `masterToAgent` subject, or undefined when the subject is not one of this cluster's. */
  agentOfMasterToAgent(subject: string): string | undefined {
    const prefix = `${this.root}.agent.`;
    if (!subject.startsWith(prefix) || !subject.endsWith('.master')) return undefined;
    const id = subject.slice(prefix.length, -'.master'.length);
    return isValidToken(id) ? id : undefined;
  }

  /** Executor → agent messages, sent by executor `executorId`. */
  executorToAgent(agentId: string, executorId: string): string {
    return `${this.root}.agent.${token(agentId, 'agent id')}.executor.${token(executorId, 'executor id')}`;
  }

  /** The agent's subscription to all of its executors' messages. */
  executorToAgentWildcard(agentId: string): string {
    return `${this.root}.agent.${token(agentId, 'agent id')}.executor.*`;
  }

  /** Agent → executor messages for one executor. */
  agentToExecutor(agentId: string, executorId: string): string {
    return `${this.root}.executor.${token(agentId, 'agent id')}.${token(executorId, 'executor id')}`;
  }

  /** Sandbox file calls to an agent, sent by `principal`. */
  agentFiles(agentId: string, principal: string): string {
    return `${this.root}.agent.${token(agentId, 'agent id')}.files.${token(principal, 'principal')}`;
  }

  /** The agent's subscription to every principal's file calls. */
  agentFilesWildcard(agentId: string): string {
    return `${this.root}.agent.${token(agentId, 'agent id')}.files.*`;
  }

  /** State calls to an agent (GET_STATE), sent by `principal`. */
  agentState(agentId: string, principal: string): string {
    return `${this.root}.agent.${token(agentId, 'agent id')}.state.${token(principal, 'principal')}`;
  }

  /** The agent's subscription to every principal's state calls. */
  agentStateWildcard(agentId: string): string {
    return `${this.root}.agent.${token(agentId, 'agent id')}.state.*`;
  }

  /** Operator calls to the master, sent by `principal`. */
  operatorCall(principal: string): string {
    return `${this.root}.master.operator.${token(principal, 'principal')}`;
  }

  /** The master's subscription to every operator call. */
  operatorCallsWildcard(): string {
    return `${this.root}.master.operator.*`;
  }

  /** Requests to one master, leading or not, asking whether it is alive (answered by every master). */
  masterPing(masterId: string): string {
    return `${this.root}.master.ping.${token(masterId, 'master id')}`;
  }

  /** A task's status updates, as stored in the cluster's updates stream (JetStream). */
  statusUpdate(frameworkId: string, taskId: string): string {
    return `${this.root}.updates.${token(frameworkId, 'framework id')}.${token(taskId, 'task id')}`;
  }

  /** Every status update of one framework: the filter of that framework's consumer. */
  frameworkStatusUpdates(frameworkId: string): string {
    return `${this.root}.updates.${token(frameworkId, 'framework id')}.>`;
  }

  /** Every status update of the cluster: the updates stream's subjects, and the master's filter. */
  statusUpdatesWildcard(): string {
    return `${this.root}.updates.>`;
  }

  /** The framework and task ids a status update subject names; undefined for any other subject. */
  parseStatusUpdate(subject: string): { frameworkId: string; taskId: string } | undefined {
    const prefix = `${this.root}.updates.`;
    if (!subject.startsWith(prefix)) return undefined;
    const rest = subject.slice(prefix.length).split('.');
    if (rest.length !== 2 || !rest.every(isValidToken)) return undefined;
    return { frameworkId: rest[0] as string, taskId: rest[1] as string };
  }

  /** Every subject of this cluster (for tools that watch or fuzz the bus). */
  all(): string {
    return `${this.root}.>`;
  }

  /** The last token of a subject: the sender's principal or id on subjects that carry one. */
  static lastToken(subject: string): string {
    const i = subject.lastIndexOf('.');
    return i < 0 ? subject : subject.slice(i + 1);
  }
}
