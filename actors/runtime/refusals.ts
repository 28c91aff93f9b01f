/**
 * Counts of what an actor refused, by kind: messages that did not decode (per message union
 * and protocol code) and requests answered REJECTED (per rejection code). One instance may
 * be shared by several parts of a process (a master's election, leader shell and updates
 * reader) so that `/metrics` shows one set of monotonic counters for the process.
 */

/** One decode-error counter: the union a message was decoded as, and the protocol code. */
export interface DecodeErrorCount {
  /** The union's name, e.g. "SchedulerCall", "PingCall", "UpdateRecord". */
  union: string;
  /** The protocol code: MALFORMED, TOO_LARGE, UNKNOWN_TYPE or INVALID. */
  code: string;
  count: number;
}

/** One rejection counter: REJECTED replies with this code. */
export interface RejectionCount {
  code: string;
  count: number;
}

/** Refusals by kind; every count only grows. */
export class RefusalCounts {
  private readonly decodes = new Map<string, DecodeErrorCount>();
  private readonly rejections = new Map<string, RejectionCount>();
  private decodeSum = 0;
  private rejectedSum = 0;

  /** Counts one message of `union` that failed to decode with `code`. */
  decodeError(union: string, code: string): void {
    const key = `${union}\u0000${code}`;
    const entry = this.decodes.get(key) ?? { union, code, count: 0 };
    entry.count += 1;
    this.decodes.set(key, entry);
    this.decodeSum += 1;
  }

  /** Counts one REJECTED reply with `code`. */
  rejected(code: string): void {
    const entry = this.rejections.get(code) ?? { code, count: 0 };
    entry.count += 1;
    this.rejections.set(code, entry);
    this.rejectedSum += 1;
  }

  /** Messages that failed to decode, all kinds together. */
  get decodeErrors(): number {
    return this.decodeSum;
  }

  /** REJECTED replies, all codes together. */
  get rejectedTotal(): number {
    return this.rejectedSum;
  }

  /** The decode-error counters (copies), sorted by union then code. */
  decodeErrorCounts(): DecodeErrorCount[] {
    return [...this.decodes.values()].map((e) => ({ ...e })).sort((a, b) => a.union.localeCompare(b.union) || a.code.localeCompare(b.code));
  }

  /** The rejection counters (copies), sorted by code. */
  rejectionCounts(): RejectionCount[] {
    return [...this.rejections.values()].map((e) => ({ ...e })).sort((a, b) => a.code.localeCompare(b.code));
  }
}
