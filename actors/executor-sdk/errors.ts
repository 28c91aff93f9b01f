/** Errors of the executor SDK; each says whether trying again can help (`retryable`). */

/** Base class of the executor SDK's own errors. */
export class ExecutorSdkError extends Error {
  /** True when the same call may succeed later. */
  readonly retryable: boolean;
  constructor(message: string, retryable: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ExecutorSdkError';
    this.retryable = retryable;
  }
}

/** The process was not started by a Nesos agent: a NESOS_* variable is missing or invalid (and no option gives it). */
export class ExecutorEnvironmentError extends ExecutorSdkError {
  /** The variables at fault. */
  readonly variables: readonly string[];
  constructor(variables: readonly string[], message: string) {
    super(message, false);
    this.name = 'ExecutorEnvironmentError';
    this.variables = variables;
  }
}

/** The agent did not answer SUBSCRIBE within `subscribeTimeoutMs`. */
export class AgentUnreachableError extends ExecutorSdkError {
  constructor(agentId: string, timeoutMs: number, options?: { cause?: unknown }) {
    super(`agent ${agentId} did not answer SUBSCRIBE within ${timeoutMs} ms`, true, options);
    this.name = 'AgentUnreachableError';
  }
}

/** The agent refused SUBSCRIBE (it does not know this executor, or it is being killed). */
export class SubscribeRefusedError extends ExecutorSdkError {
  /** The agent's REJECTED code. */
  readonly code: string;
  constructor(code: string, reason: string) {
    super(`the agent refused SUBSCRIBE: ${code}: ${reason}`, false);
    this.name = 'SubscribeRefusedError';
    this.code = code;
  }
}

/** An update the SDK will not send: a task this executor was never given, or a move the task lifecycle forbids. */
export class InvalidUpdateError extends ExecutorSdkError {
  /** The task the update was for. */
  readonly taskId: string;
  constructor(taskId: string, problem: string) {
    super(`cannot update task ${taskId}: ${problem}`, false);
    this.name = 'InvalidUpdateError';
    this.taskId = taskId;
  }
}

/** A call after `close()`. */
export class ExecutorClosedError extends ExecutorSdkError {
  constructor() {
    super('the executor is closed', false);
    this.name = 'ExecutorClosedError';
  }
}

/** True for the executor SDK's own errors. */
export function isExecutorSdkError(e: unknown): e is ExecutorSdkError {
  return e instanceof ExecutorSdkError;
}
