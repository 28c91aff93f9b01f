// A spare executor's BIND line: written by the agent (bindingLine), read from stdin
// (readBinding): the line's environment, nothing when stdin ends first, a typed error for a
// line that is not a BIND.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SpareBindError } from '../../actors/executor/errors.js';
import { bindingLine, parseBinding, readBinding } from '../../actors/executor/spare.js';

describe('spare executor: the BIND line', () => {
  it('reads the environment the agent wrote, even in pieces, and stops at the end of the line', async () => {
    const input = new PassThrough();
    const read = readBinding(input);
    const line = bindingLine({ NESOS_EXECUTOR_ID: 'g1', NESOS_SANDBOX: '/s' });
    input.write(line.slice(0, 10));
    input.write(line.slice(10) + 'garbage after');
    expect(await read).toEqual({ type: 'BIND', env: { NESOS_EXECUTOR_ID: 'g1', NESOS_SANDBOX: '/s' } });
  });

  it('resolves undefined when stdin ends before a whole line (the agent went away)', async () => {
    const input = new PassThrough();
    const read = readBinding(input);
    input.end('{"type":"BI');
    expect(await read).toBeUndefined();
  });

  it('refuses a line that is not JSON, or not a BIND, with SpareBindError', async () => {
    expect(() => parseBinding('not json')).toThrow(SpareBindError);
    expect(() => parseBinding('{"type":"LAUNCH","env":{}}')).toThrow(/bad BIND line/);
    expect(() => parseBinding('{"type":"BIND","env":{"A":1}}')).toThrow(/env\.A/);
    const input = new PassThrough();
    const read = readBinding(input);
    input.write('{"type":"BIND"}\n');
    await expect(read).rejects.toBeInstanceOf(SpareBindError);
  });
});
