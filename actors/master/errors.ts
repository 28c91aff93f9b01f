/** Errors of the master area. Expected refusals of calls are `Rejection`s (actors/runtime/actor.ts), not these. */

/** The registry bucket could not be read or written. */
export class RegistryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RegistryError';
  }
}

/** A leader-only request reached a master that does not lead. */
export class NotLeaderError extends Error {
  constructor(masterId: string, options?: { cause?: unknown }) {
    super(`master ${masterId} does not lead: ask the leader (GET /redirect)`, options);
    this.name = 'NotLeaderError';
  }
}
