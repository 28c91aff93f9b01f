// sandboxRuns (bin/chaos/procs.ts): the sandbox runs per task id the no-double-run
// invariant counts, read from agents' work dirs laid out as the agent lays them out.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sandboxRuns } from '../../bin/chaos/procs.js';

const FW = 'fw-1';
let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

/** An agent work dir holding `runs` (run ids) of executor `executor`, `latest` pointing at the last. */
function agentDir(agentId: string, executors: Record<string, string[]>): string {
  const dir = mkdtempSync(join(tmpdir(), 'nesos-sandbox-runs-'));
  dirs.push(dir);
  for (const [executor, runs] of Object.entries(executors)) {
    const base = join(dir, 'agents', agentId, 'frameworks', FW, 'executors', executor, 'runs');
    mkdirSync(base, { recursive: true });
    for (const run of runs) mkdirSync(join(base, run));
    if (runs.length > 0) symlinkSync(runs.at(-1)!, join(base, 'latest'));
  }
  return dir;
}

describe('sandboxRuns', () => {
  it('counts run directories, not the latest link', () => {
    const a = agentDir('agent-1', { t1: ['r1'], t2: ['r1', 'r2'] });
    expect(sandboxRuns([a], FW)).toEqual({ t1: 1, t2: 2 });
  });

  it('does not count the latest.<run>.tmp link an agent killed while replacing latest leaves behind (chaos seed 1616172065)', () => {
    const a = agentDir('agent-3', { t1: ['r1'] });
    const runs = join(a, 'agents', 'agent-3', 'frameworks', FW, 'executors', 't1', 'runs');
    symlinkSync('r1', join(runs, 'latest.r1.tmp'));
    // one run: a directory r1, and two links naming it
    expect(sandboxRuns([a], FW)).toEqual({ t1: 1 });
  });

  it('adds up runs of one task id across agents', () => {
    const a = agentDir('agent-1', { t1: ['r1'] });
    const b = agentDir('agent-2', { t1: ['r9'], t3: [] });
    // t1 ran on two agents: 1 + 1; t3 has an executor dir but no run
    expect(sandboxRuns([a, b], FW)).toEqual({ t1: 2, t3: 0 });
  });
});
