/**
 * Errors of resource handling (protocol/resources.ts). Callers branch on the class, never on
 * the text; the text names the offending entry for the person reading it.
 */

/** A resource text (`cpus:4;mem:1024`) or wire list is malformed or inconsistent. */
export class ResourceParseError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ResourceParseError';
  }
}

/** Resource arithmetic was asked to mix kinds (a scalar with ranges) or left the valid domain. */
export class ResourceArithmeticError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ResourceArithmeticError';
  }
}
