/**
 * Errors of the agent area: bad configuration (flags, the agent-id file), sandboxes that
 * cannot be made, executors that cannot be launched. Callers branch on the class.
 */

/** A flag or setting of the agent is invalid; the message names the flag. */
export class AgentConfigError extends Error {
  /** The flag at fault, e.g. "--resources". */
  readonly flag: string;
  constructor(flag: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AgentConfigError';
    this.flag = flag;
  }
}

/** `--attributes` text is malformed; the message names the bad entry. */
export class AttributesParseError extends AgentConfigError {
  /** The entry at fault (as written). */
  readonly entry: string;
  constructor(entry: string, problem: string) {
    super('--attributes', `invalid attribute "${entry}" in --attributes: ${problem}`);
    this.name = 'AttributesParseError';
    this.entry = entry;
  }
}

/** The agent's id could not be read from or written to its work dir. */
export class AgentIdFileError extends Error {
  constructor(path: string, problem: string, options?: { cause?: unknown }) {
    super(`agent id file ${path}: ${problem}`, options);
    this.name = 'AgentIdFileError';
  }
}

/** An executor's sandbox could not be created. */
export class SandboxError extends Error {
  constructor(path: string, problem: string, options?: { cause?: unknown }) {
    super(`sandbox ${path}: ${problem}`, options);
    this.name = 'SandboxError';
  }
}

/** An executor process could not be started. */
export class ExecutorLaunchError extends Error {
  /** The executor that failed to start. */
  readonly executorId: string;
  constructor(executorId: string, problem: string, options?: { cause?: unknown }) {
    super(`could not launch executor ${executorId}: ${problem}`, options);
    this.name = 'ExecutorLaunchError';
    this.executorId = executorId;
  }
}

/** The isolator asked for with `--isolation` cannot work on this host; the message says why. */
export class IsolatorUnavailableError extends AgentConfigError {
  /** The isolator that was asked for. */
  readonly isolator: string;
  constructor(isolator: string, problem: string, options?: { cause?: unknown }) {
    super('--isolation', `--isolation ${isolator} cannot be used on this host: ${problem}`, options);
    this.name = 'IsolatorUnavailableError';
    this.isolator = isolator;
  }
}

/** The agent's checkpoint cannot be used (unreadable, not of this version, another agent's). */
export class AgentCheckpointError extends Error {
  constructor(path: string, problem: string, options?: { cause?: unknown }) {
    super(`agent checkpoint ${path}: ${problem}; move it aside to start without recovery, or use --recover=cleanup`, options);
    this.name = 'AgentCheckpointError';
  }
}
