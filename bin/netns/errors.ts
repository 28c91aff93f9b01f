/** Errors of the virtual network (`bin/netns/`). */

/** An `ip` command failed; the message holds the command and what it printed. */
export class NetnsCommandError extends Error {
  constructor(command: string, output: string, options?: { cause?: unknown }) {
    super(`\`${command}\` failed: ${output.trim() || 'no output'}`, options);
    this.name = 'NetnsCommandError';
  }
}

/** Network namespaces cannot be used here (not root, no `ip`, or the kernel refuses); the message says why. */
export class NetnsUnavailableError extends Error {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`network namespaces are not available here: ${reason}`, options);
    this.name = 'NetnsUnavailableError';
  }
}

/** No private /24 free of this machine's routes was found for the run. */
export class NoFreeSubnetError extends Error {
  constructor(tried: number) {
    super(`no free 10.x.y.0/24 subnet found after ${tried} tries: every one overlaps a route of this machine`);
    this.name = 'NoFreeSubnetError';
  }
}
