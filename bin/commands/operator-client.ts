/**
 * The CLI's side of the operator API over NATS: GET_STATE and the other operator calls,
 * each refusal turned into an error that names the problem and the fix, a task kill,
 * sandbox reads, and an agent's own state. Commands get one through `withOperator`, which connects and closes.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { Command } from 'commander';
import { connectNats } from '../../actors/runtime/nats.js';
import { request } from '../../actors/runtime/request.js';
import { isRetryable } from '../../actors/runtime/errors.js';
import { AgentStateReplies, type AgentSnapshot } from '../../protocol/agent-state.js';
import type { MasterSnapshot } from '../../protocol/operator.js';
import type { TaskView } from '../../protocol/operator-api.js';
import { OperatorApiReply, type OperatorApiCall } from '../../protocol/operator-api.js';
import { Reply } from '../../protocol/replies.js';
import { Subjects } from '../../protocol/subjects.js';
import { AgentUnreachableError, CallRefusedError, NoClusterError, NotSupportedError, PermissionDeniedError } from '../errors.js';
import { checkClusterOptions, intFlag, natsServers, withClusterOptions, type ClusterOptions } from '../options.js';
import { SandboxTail } from '../sandbox-tail.js';
import { Progress } from './progress.js';

/** Options every operator command takes: the cluster's, plus who asks and how output looks. */
export interface OperatorFlags extends ClusterOptions {
  json?: boolean;
  principal: string;
  timeout: number;
}

/** Adds the cluster options, --json, --principal and --timeout to an operator command. */
export function withOperatorOptions(cmd: Command): Command {
  return withClusterOptions(cmd)
    .option('--json', 'print JSON (for scripts) instead of a table')
    .option('--principal <principal>', 'principal the CLI calls as (env NESOS_PRINCIPAL)', process.env.NESOS_PRINCIPAL ?? 'nesos-cli')
    .option('--timeout <ms>', 'how long to wait for each answer', intFlag('--timeout', 100, 600_000), 3000);
}

/** A connection to the cluster's masters for operator calls. */
export class OperatorClient {
  private readonly subjects: Subjects;

  constructor(
    /** The NATS connection (closed by `close`). */
    readonly nc: NatsConnection,
    /** Where the cluster is and who asks. */
    readonly options: OperatorFlags,
  ) {
    this.subjects = new Subjects(options.cluster);
  }

  /** Sends one operator call; a refusal is thrown as a CLI error. NOT_LEADER is retried (a failover may be under way). */
  async call(call: OperatorApiCall): Promise<Exclude<OperatorApiReply, { type: 'REJECTED' }>> {
    for (let attempt = 1; ; attempt++) {
      let reply: OperatorApiReply;
      try {
        reply = await request(this.nc, this.subjects.operatorCall(this.options.principal), call, OperatorApiReply, {
          timeoutMs: this.options.timeout,
          attempts: 3,
          backoffMs: 200,
        });
      } catch (e) {
        if (isRetryable(e)) throw new NoClusterError(this.options.nats, this.options.cluster, { cause: e });
        throw e;
      }
      if (reply.type !== 'REJECTED') return reply;
      if (reply.code === 'NOT_LEADER' && attempt < 5) {
        await new Promise((r) => setTimeout(r, 300 * attempt));
        continue;
      }
      if (reply.code === 'UNKNOWN_TYPE') throw new NotSupportedError(call.type);
      if (reply.code === 'WRONG_PRINCIPAL') throw new PermissionDeniedError(call.type, reply.reason);
      throw new CallRefusedError(call.type, reply.code, reply.reason);
    }
  }

  /** The master's state (GET_STATE). */
  async state(): Promise<MasterSnapshot> {
    const reply = await this.call({ type: 'GET_STATE' });
    if (reply.type !== 'STATE') throw new CallRefusedError('GET_STATE', 'INTERNAL', `unexpected reply ${reply.type}`);
    return reply.state;
  }

  /**
   * Kills a task: KILL_TASK as an operator; a master that does not answer KILL_TASK yet is
   * asked with the scheduler API's KILL on the task's framework's behalf (its principal is in
   * the state), which works while NATS permissions do not confine principals.
   */
  async kill(task: TaskView, principalOfFramework: string | undefined, gracePeriodMs?: number): Promise<'operator' | 'framework'> {
    try {
      await this.call({ type: 'KILL_TASK', taskId: task.taskId, frameworkId: task.frameworkId, ...(gracePeriodMs !== undefined && { gracePeriodMs }) });
      return 'operator';
    } catch (e) {
      if (!(e instanceof NotSupportedError) || principalOfFramework === undefined) throw e;
    }
    const kill = { type: 'KILL', frameworkId: task.frameworkId, taskId: task.taskId, agentId: task.agentId, ...(gracePeriodMs !== undefined && { gracePeriodMs }) };
    const reply = await request(this.nc, this.subjects.schedulerCall(principalOfFramework), kill, Reply, { timeoutMs: this.options.timeout, attempts: 3 }).catch((e: unknown) => {
      if (isRetryable(e)) throw new NoClusterError(this.options.nats, this.options.cluster, { cause: e });
      throw e;
    });
    if (reply.type === 'REJECTED') {
      if (reply.code === 'WRONG_PRINCIPAL') throw new PermissionDeniedError('KILL', reply.reason);
      throw new CallRefusedError('KILL', reply.code, reply.reason);
    }
    return 'framework';
  }

  /** A reader of one sandbox file of a task (its executor's latest run). */
  sandbox(task: TaskView, path: string): SandboxTail {
    const executorId = task.status?.executorId ?? task.taskId;
    return new SandboxTail(this.nc, { cluster: this.options.cluster, agentId: task.agentId, frameworkId: task.frameworkId, executorId, path }, this.options.principal);
  }

  /** The agent's own state (its GET_STATE over NATS); an agent that does not answer is an AgentUnreachableError. */
  async agentState(agentId: string): Promise<AgentSnapshot> {
    let reply;
    try {
      reply = await request(this.nc, this.subjects.agentState(agentId, this.options.principal), { type: 'GET_STATE' }, AgentStateReplies, { timeoutMs: this.options.timeout, attempts: 2 });
    } catch (e) {
      if (isRetryable(e)) throw new AgentUnreachableError(agentId, { cause: e });
      throw e;
    }
    if (reply.type === 'REJECTED') throw new CallRefusedError('GET_STATE', reply.code, reply.reason);
    return reply.state;
  }

  /** Closes the connection. */
  async close(): Promise<void> {
    await this.nc.close();
  }
}

/** Connects (with a progress line), runs `fn` and closes, whatever happens. */
export async function withOperator<T>(flags: OperatorFlags, fn: (client: OperatorClient, progress: Progress) => Promise<T>): Promise<T> {
  const o = checkClusterOptions(flags);
  const progress = new Progress(flags.json !== true);
  progress.start(`connecting to ${o.nats}`);
  let nc: NatsConnection;
  try {
    nc = await connectNats({ servers: natsServers(o), name: 'nesos-cli', connectTimeoutMs: 2000 });
  } catch (e) {
    progress.stop();
    throw new NoClusterError(o.nats, o.cluster, { cause: e });
  }
  const client = new OperatorClient(nc, flags);
  try {
    progress.update(`asking the master of cluster "${o.cluster}"`);
    return await fn(client, progress);
  } finally {
    progress.stop();
    await client.close().catch(() => undefined);
  }
}
