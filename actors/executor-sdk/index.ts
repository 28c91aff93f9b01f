/**
 * The executor SDK: what a custom executor (TaskInfo.executor) is written with.
 *
 *     import { Executor, TaskState } from 'nesos/executor-sdk';
 *
 *     const executor = await Executor.connect(); // who and where: from the agent's NESOS_* variables
 *     executor.on('launch', (task) => {
 *       executor.update(task.taskId, TaskState.RUNNING);
 *       // … run it, then:
 *       executor.update(task.taskId, TaskState.FINISHED);
 *     });
 *     executor.on('kill', ({ taskId }) => executor.update(taskId, TaskState.KILLED));
 *     executor.on('message', (data) => executor.sendMessage(data)); // to the framework
 *     executor.on('shutdown', async () => { await executor.flush(); await executor.close(); process.exit(0); });
 *
 * Updates are resent until the agent acknowledges them (once the updates stream holds
 * them) and survive a restart of the agent: the SDK subscribes again with them.
 */
export { Executor, type ExecutorOptions, type ExecutorEventMap, type KillRequest } from './executor.js';
export { ExecutorSdkCore, type UpdateDetails, type UpdateResult, type ExecutorSdkCoreOptions } from './core.js';
export { resolveIdentity, type ExecutorIdentity } from './env.js';
export { ExecutorSdkError, ExecutorEnvironmentError, AgentUnreachableError, SubscribeRefusedError, InvalidUpdateError, ExecutorClosedError, isExecutorSdkError } from './errors.js';
/** Errors a call can throw besides the SDK's own (a REJECTED MESSAGE, a timeout). */
export { CallRejectedError, RequestTimeoutError, NoRespondersError, isRetryable } from '../runtime/errors.js';
/** Protocol types and helpers an executor needs. */
export { TaskState, TaskReason, isTerminal } from '../../protocol/task-state.js';
export type { TaskInfo, TaskStatus, ExecutorInfo } from '../../protocol/schema.js';
