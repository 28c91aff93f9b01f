/**
 * A minimal Server-Sent Events reader over fetch for tests: collects the JSON events of a
 * stream and lets a test wait for one that matches.
 */
import type { OperatorEvent } from '../../protocol/operator-events.js';

/** An open event stream. */
export class SseReader {
  /** Every event received so far, in order. */
  readonly events: OperatorEvent[] = [];
  /** True once the server ended the stream. */
  ended = false;
  private readonly controller = new AbortController();
  private waiters: Array<() => void> = [];

  private constructor(private readonly response: Response) {}

  /** Opens `url` and starts reading. Throws when the answer is not an event stream. */
  static async open(url: string): Promise<SseReader> {
    const reader = new SseReader(undefined as unknown as Response);
    const response = await fetch(url, { signal: reader.controller.signal, redirect: 'manual' });
    if (!response.ok || !(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      throw new Error(`not an event stream: ${response.status} ${await response.text()}`);
    }
    (reader as unknown as { response: Response }).response = response;
    void reader.pump();
    return reader;
  }

  private async pump(): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of this.response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = frame
            .split('\n')
            .filter((l) => l.startsWith('data: '))
            .map((l) => l.slice(6))
            .join('\n');
          if (data !== '') this.events.push(JSON.parse(data) as OperatorEvent);
        }
        this.wake();
      }
    } catch {
      // aborted or reset
    }
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Waits until an event satisfies `match` (or the stream ends, or `timeoutMs` passes) and returns it. */
  async waitFor<T extends OperatorEvent['type']>(
    type: T,
    match: (e: Extract<OperatorEvent, { type: T }>) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<Extract<OperatorEvent, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find((e): e is Extract<OperatorEvent, { type: T }> => e.type === type && match(e as Extract<OperatorEvent, { type: T }>));
      if (found !== undefined) return found;
      if (this.ended) throw new Error(`stream ended without a matching ${type}; got ${this.events.map((e) => e.type).join(', ')}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching ${type} within ${timeoutMs} ms; got ${this.events.map((e) => e.type).join(', ')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits until the server ends the stream. */
  async waitForEnd(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      if (Date.now() > deadline) throw new Error('the stream did not end');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Closes the stream from the client side. */
  close(): void {
    this.controller.abort();
  }
}
