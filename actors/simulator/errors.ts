/**
 * Errors of the simulator area: a setting that cannot make a swarm. Callers branch on the
 * class; the message names the setting (as the `nesos simulate` flag) and the fix.
 */

/** A setting of the simulator is invalid; `flag` names it as `nesos simulate` spells it. */
export class SimulatorConfigError extends Error {
  /** The flag at fault, e.g. "--resources". */
  readonly flag: string;
  constructor(flag: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SimulatorConfigError';
    this.flag = flag;
  }
}

/** True when `e` is a SimulatorConfigError. */
export function isSimulatorConfigError(e: unknown): e is SimulatorConfigError {
  return e instanceof SimulatorConfigError;
}
