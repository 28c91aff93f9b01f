/** Errors of the command executor: a bad start-up environment, a task that cannot be started. */

/** A required NESOS_* environment variable is missing or invalid; the message names it. */
export class ExecutorEnvError extends Error {
  /** The variables at fault. */
  readonly variables: readonly string[];
  constructor(variables: readonly string[], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ExecutorEnvError';
    this.variables = variables;
  }
}

/** The task's command could not be started (its output files, or the shell itself). */
export class TaskSpawnError extends Error {
  /** The task that could not be started. */
  readonly taskId: string;
  constructor(taskId: string, problem: string, options?: { cause?: unknown }) {
    super(`could not start task ${taskId}: ${problem}`, options);
    this.name = 'TaskSpawnError';
    this.taskId = taskId;
  }
}

/** A spare executor's BIND line (on its stdin) is not JSON or not a BIND. */
export class SpareBindError extends Error {
  constructor(problem: string, options?: { cause?: unknown }) {
    super(`bad BIND line on a spare executor's stdin: ${problem}`, options);
    this.name = 'SpareBindError';
  }
}
