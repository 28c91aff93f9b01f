// The restart policy of `nesos up` (pure, time passed in): which exits are restarted,
// the backoff (doubling to a cap, reset after a child stayed up), and the bound on
// restarts within a sliding window after which it gives up.
import { describe, expect, it } from 'vitest';
import { DEFAULT_RESTART_POLICY, RestartPolicy, describeExit, isCleanExit, type ExitStatus } from '../../bin/restart-policy.js';

const KILLED: ExitStatus = { code: null, signal: 'SIGKILL' };
const FAILED: ExitStatus = { code: 1, signal: null };
const opts = { initialDelayMs: 100, maxDelayMs: 1000, resetAfterMs: 5000, maxRestarts: 4, windowMs: 60_000 };

/** Starts the child at `t`, lets it exit at `t + ranMs`; returns the decision. */
function cycle(p: RestartPolicy, t: number, ranMs: number, status: ExitStatus = KILLED) {
  p.started(t);
  return p.exited(status, t + ranMs);
}

describe('RestartPolicy', () => {
  it('restarts a failure (signal or non-zero exit, or a failed start) and leaves a clean stop alone', () => {
    expect(isCleanExit({ code: 0, signal: null })).toBe(true);
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGPIPE']) expect(isCleanExit({ code: null, signal })).toBe(true);
    for (const s of [KILLED, FAILED, { code: null, signal: 'SIGSEGV' }, { code: null, signal: null, error: 'ENOENT' }]) expect(isCleanExit(s)).toBe(false);
    const p = new RestartPolicy(opts);
    expect(cycle(p, 0, 10, { code: 0, signal: null })).toEqual({ action: 'leave', reason: 'it stopped cleanly (exit code 0)' });
    expect(cycle(p, 100, 10, FAILED)).toEqual({ action: 'restart', delayMs: 100, restart: 1 });
    expect(describeExit(KILLED)).toBe('SIGKILL');
    expect(describeExit(FAILED)).toBe('exit code 1');
    expect(describeExit({ code: null, signal: null, error: 'spawn x ENOENT' })).toBe('failed to start: spawn x ENOENT');
  });

  it('doubles the delay at each quick failure up to the cap, and starts over after the child stayed up', () => {
    const p = new RestartPolicy({ ...opts, maxRestarts: 100 });
    const delays: number[] = [];
    let t = 0;
    for (let i = 0; i < 6; i++) {
      const d = cycle(p, t, 50);
      if (d.action !== 'restart') throw new Error(`unexpected ${d.action}`);
      delays.push(d.delayMs);
      t += 50 + d.delayMs;
    }
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(cycle(p, t, 4999)).toMatchObject({ action: 'restart', delayMs: 1000, restart: 7 }); // not up long enough
    expect(cycle(p, t + 10_000, 5000)).toMatchObject({ action: 'restart', delayMs: 100, restart: 8 }); // stayed up: reset
    expect(cycle(p, t + 20_000, 10)).toMatchObject({ action: 'restart', delayMs: 200, restart: 9 });
  });

  it('gives up once it restarted maxRestarts times within the window, and only while they are within it', () => {
    const p = new RestartPolicy(opts);
    for (let i = 1; i <= 4; i++) expect(cycle(p, i * 1000, 100)).toMatchObject({ action: 'restart', restart: i });
    expect(cycle(p, 5000, 100)).toEqual({ action: 'give-up', restarts: 4, windowMs: 60_000 });
    // A policy that saw its restarts spread out keeps restarting: the window slides.
    const q = new RestartPolicy(opts);
    for (let i = 0; i < 12; i++) expect(cycle(q, i * 20_000, 10_000).action).toBe('restart');
  });

  it('has the documented defaults: 100 ms doubling to 10 s, reset after 10 s, at most 10 restarts in 5 minutes', () => {
    expect(DEFAULT_RESTART_POLICY).toEqual({ initialDelayMs: 100, maxDelayMs: 10_000, resetAfterMs: 10_000, maxRestarts: 10, windowMs: 300_000 });
    // A crash loop (each start fails after 1 s) is given up on within the window.
    const p = new RestartPolicy();
    let t = 0;
    let restarts = 0;
    for (;;) {
      const d = cycle(p, t, 1000, FAILED);
      if (d.action !== 'restart') {
        expect(d.action).toBe('give-up');
        break;
      }
      restarts++;
      t += 1000 + d.delayMs;
    }
    expect(restarts).toBe(10);
    expect(t).toBeLessThan(DEFAULT_RESTART_POLICY.windowMs);
  });
});
