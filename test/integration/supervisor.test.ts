// The supervisor of `nesos up` with real processes (sh, sleep): a child that fails is
// restarted with the same command until the policy gives up; a clean exit and a supervisor
// without restarts leave it down; and stopAll during a restart's delay cancels it, so a
// restart never races a shutdown and nothing is left running.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { RestartDecision } from '../../bin/restart-policy.js';
import { Supervisor } from '../../bin/supervisor.js';
import { isAlive } from '../helpers/processes.js';

const dir = mkdtempSync(join(tmpdir(), 'nesos-test-supervisor-'));
const supervisors: Supervisor[] = [];
const policy = { initialDelayMs: 50, maxDelayMs: 200, resetAfterMs: 10_000, maxRestarts: 3, windowMs: 60_000 };

afterEach(async () => {
  for (const s of supervisors.splice(0)) await s.stopAll(1000);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A supervisor whose exits are recorded. */
function supervisor(restart: typeof policy | false) {
  const exits: Array<{ name: string; how: string; decision: RestartDecision | undefined; pid: number | undefined }> = [];
  const restarts: number[] = [];
  const s = new Supervisor((child, how, decision) => exits.push({ name: child.name, how, decision, pid: child.process.pid }), { restart, onRestart: (c) => restarts.push(c.process.pid ?? -1) });
  supervisors.push(s);
  return { s, exits, restarts };
}

async function until(done: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('Supervisor', () => {
  it('restarts a failing child with the same command until the policy gives up', async () => {
    const { s, exits, restarts } = supervisor(policy);
    const log = join(dir, 'crash.log');
    const child = s.start('crash', 'sh', ['-c', 'echo run; exit 3'], log);
    await until(() => exits.some((e) => e.decision?.action === 'give-up'));
    expect(exits.map((e) => e.decision?.action)).toEqual(['restart', 'restart', 'restart', 'give-up']);
    expect(exits.every((e) => e.how === 'exit code 3')).toBe(true);
    expect(exits.slice(0, 3).map((e) => (e.decision?.action === 'restart' ? e.decision.delayMs : 0))).toEqual([50, 100, 200]);
    expect(restarts).toHaveLength(3);
    expect(new Set([...exits.map((e) => e.pid), ...restarts]).size).toBe(4); // a new process each time
    expect(child.restarts).toBe(3);
    expect(child.state).toBe('down');
    expect(readFileSync(log, 'utf8')).toBe('run\n'.repeat(4)); // same command, same log
  });

  it('restarts a SIGKILLed child; leaves a clean exit alone, and every exit without restarts', async () => {
    const { s, exits, restarts } = supervisor(policy);
    const child = s.start('sleeper', 'sleep', ['60'], join(dir, 'sleeper.log'));
    const first = child.process.pid!;
    process.kill(first, 'SIGKILL');
    await until(() => restarts.length === 1);
    expect(exits).toMatchObject([{ name: 'sleeper', how: 'SIGKILL', pid: first, decision: { action: 'restart', restart: 1 } }]);
    expect(child.process.pid).not.toBe(first);
    expect(isAlive(child.process.pid!)).toBe(true);

    s.start('clean', 'true', [], join(dir, 'clean.log'));
    await until(() => exits.length === 2);
    expect(exits[1]).toMatchObject({ name: 'clean', decision: { action: 'leave' } });

    const off = supervisor(false);
    const once = off.s.start('once', 'sleep', ['60'], join(dir, 'once.log'));
    process.kill(once.process.pid!, 'SIGKILL');
    await until(() => off.exits.length === 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(off.exits).toMatchObject([{ name: 'once', how: 'SIGKILL', decision: undefined }]);
    expect(off.restarts).toEqual([]);
    expect(once.state).toBe('down');
  });

  it('stopAll during a restart delay cancels the restart and leaves nothing running', async () => {
    const { s, exits, restarts } = supervisor({ ...policy, initialDelayMs: 1000 });
    const a = s.start('a', 'sleep', ['60'], join(dir, 'a.log'));
    const b = s.start('b', 'sleep', ['60'], join(dir, 'b.log'));
    process.kill(a.process.pid!, 'SIGKILL');
    await until(() => exits.length === 1);
    expect(a.state).toBe('waiting');
    const bPid = b.process.pid!;
    await s.stopAll(1000);
    await new Promise((r) => setTimeout(r, 1500)); // past the restart's delay
    expect(restarts).toEqual([]);
    expect(exits).toHaveLength(1); // b's exit during the stop is not reported as unexpected
    expect(isAlive(bPid)).toBe(false);
    expect([a.state, b.state]).toEqual(['down', 'down']);
  });
});
