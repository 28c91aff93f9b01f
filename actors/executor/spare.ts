/**
 * A spare executor's wait for its identity. The agent starts a built-in executor process
 * ahead of need (`node main.js --spare <id>`, stdin a pipe from the agent): it loads its
 * modules, connects to NATS, and reads one line from stdin, a BIND (protocol/executor.ts)
 * carrying the environment of the executor it becomes. Its stdin closing first (the agent
 * exited, was killed, or let the spare go) means: exit.
 */
import type { Readable } from 'node:stream';
import { SpareBind } from '../../protocol/executor.js';
import { SpareBindError } from './errors.js';

/** Longest BIND line taken (an environment is a few KiB). */
const MAX_LINE = 1024 * 1024;

/**
 * Resolves with the BIND read from `input`, or undefined when `input` ends (or fails)
 * before a whole line; rejects with SpareBindError on a line that is not a BIND. Stops
 * reading after the line: what becomes of `input` afterwards does not matter.
 */
export function readBinding(input: Readable): Promise<SpareBind | undefined> {
  return new Promise((resolve, reject) => {
    let text = '';
    const stop = (): void => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('error', onEnd);
      input.pause();
    };
    const onEnd = (): void => {
      stop();
      resolve(undefined);
    };
    const onData = (chunk: Buffer | string): void => {
      text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      const nl = text.indexOf('\n');
      if (nl < 0 && text.length <= MAX_LINE) return;
      stop();
      try {
        if (nl < 0) throw new SpareBindError(`no end of line in the first ${MAX_LINE} bytes`);
        resolve(parseBinding(text.slice(0, nl)));
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    };
    input.on('data', onData);
    input.on('end', onEnd);
    input.on('error', onEnd);
  });
}

/** Decodes one BIND line; throws SpareBindError when it is not JSON or not a BIND. */
export function parseBinding(line: string): SpareBind {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (cause) {
    throw new SpareBindError(`not JSON (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
  }
  const parsed = SpareBind.safeParse(json);
  if (!parsed.success) throw new SpareBindError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  return parsed.data;
}

/** The line that binds a spare to an executor's environment (what the agent writes). */
export function bindingLine(env: Record<string, string>): string {
  const bind: SpareBind = { type: 'BIND', env };
  return `${JSON.stringify(bind)}\n`;
}
