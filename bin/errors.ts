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
