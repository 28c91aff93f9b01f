/** Errors of the command line: each names the problem and the fix. */

/** A flag has a bad value; the message names the flag and what to give instead. */
export class UsageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UsageError';
  }
}

/** No cluster answered at the given NATS address and cluster name. */
export class NoClusterError extends Error {
  constructor(servers: string, cluster: string, options?: { cause?: unknown }) {
    super(
      `no Nesos cluster "${cluster}" is reachable at ${servers}.\n` +
        `Start one with \`npm start\` (or \`nesos up\`), or point at yours with --nats <url> and --cluster <name>.`,
      options,
    );
    this.name = 'NoClusterError';
  }
}

/** A program Nesos needs is not installed. */
export class MissingProgramError extends Error {
  constructor(program: string, fix: string) {
    super(`${program} was not found on PATH. ${fix}`);
    this.name = 'MissingProgramError';
  }
}

/** No task, agent or framework matches what was asked for. */
export class NotFoundError extends Error {
  /** What was looked for: "task", "agent" or "framework". */
  readonly kind: 'task' | 'agent' | 'framework';
  constructor(kind: 'task' | 'agent' | 'framework', wanted: string, fix: string, options?: { cause?: unknown }) {
    super(`no ${kind} "${wanted}" is known to the master. ${fix}`, options);
    this.name = 'NotFoundError';
    this.kind = kind;
  }
}

/** A name or prefix matches several tasks, agents or frameworks. */
export class AmbiguousError extends Error {
  constructor(kind: string, wanted: string, matches: string[], options?: { cause?: unknown }) {
    super(`"${wanted}" matches ${matches.length} ${kind}s (${matches.slice(0, 5).join(', ')}${matches.length > 5 ? ', …' : ''}): give the full id`, options);
    this.name = 'AmbiguousError';
  }
}

/** The master does not implement an operator call yet (it answered UNKNOWN_TYPE). */
export class NotSupportedError extends Error {
  /** The call the master does not know. */
  readonly callType: string;
  constructor(callType: string, options?: { cause?: unknown }) {
    super(`not supported by this master yet: it does not answer ${callType}. Upgrade the masters to a version that serves ${callType}.`, options);
    this.name = 'NotSupportedError';
    this.callType = callType;
  }
}

/** The master refused a call as not allowed for this principal. */
export class PermissionDeniedError extends Error {
  constructor(callType: string, reason: string, options?: { cause?: unknown }) {
    super(`permission denied for ${callType}: ${reason}. Call as a principal that may do this (--principal), or ask the cluster's operators.`, options);
    this.name = 'PermissionDeniedError';
  }
}

/** The master refused a call for another reason; `code` is its RejectionCode. */
export class CallRefusedError extends Error {
  /** The master's reason code. */
  readonly code: string;
  constructor(callType: string, code: string, reason: string, options?: { cause?: unknown }) {
    super(`the master refused ${callType} (${code}): ${reason}`, options);
    this.name = 'CallRefusedError';
    this.code = code;
  }
}

/** An agent did not answer a sandbox read. */
export class AgentUnreachableError extends Error {
  constructor(agentId: string, options?: { cause?: unknown }) {
    super(`agent ${agentId} did not answer: it may be down or unreachable. Check it with \`nesos agents\`.`, options);
    this.name = 'AgentUnreachableError';
  }
}

/** A killed task did not reach a terminal state in time. */
export class KillTimeoutError extends Error {
  constructor(taskId: string, state: string, ms: number, options?: { cause?: unknown }) {
    super(`task ${taskId} is still ${state} after ${ms} ms: it may still be stopping. Check it with \`nesos task ${taskId}\`.`, options);
    this.name = 'KillTimeoutError';
  }
}
