// `nesos chaos` as a real process: a 45 s run with seed 7 starts its own cluster (one
// nats-server, three masters, three agents), runs the workload framework, injects every
// kind of fault the schedule has, and exits 0 with a report in which every invariant held
// and something happened of each kind (faults injected, tasks launched and finished).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ChaosReport } from '../../bin/chaos/report.js';
import { FAULT_KINDS } from '../../bin/chaos/types.js';
import { NESOS_BIN } from '../helpers/cluster.js';
import { startProcess, stopProcess, type TestProcess } from '../helpers/processes.js';

const dir = mkdtempSync(join(tmpdir(), 'nesos-test-chaos-'));
let chaos: TestProcess | undefined;

afterAll(async () => {
  if (chaos !== undefined) await stopProcess(chaos, 10_000); // Ctrl-C path: it stops its cluster
  if (process.env.NESOS_KEEP_TEST_DIRS !== '1') rmSync(dir, { recursive: true, force: true });
});

describe('nesos chaos', () => {
  it('--duration 35 --seed 7: every kind of fault injected, tasks launched and finished, every invariant held', async () => {
    chaos = startProcess('chaos', process.execPath, [NESOS_BIN, 'chaos', '--duration', '35', '--seed', '7', '--json', '--data-dir', join(dir, 'run'), '--log-level', 'warn'], join(dir, 'chaos.log'));
    const { code } = await chaos.exited;
    const output = chaos.output();
    const line = output.split('\n').find((l) => l.startsWith('{"ok":'));
    expect(line, output.slice(-4000)).toBeDefined();
    const report = JSON.parse(line!) as ChaosReport;
    expect(report.violations, output.slice(-4000)).toEqual([]);
    expect(code).toBe(0);
    expect(report).toMatchObject({ ok: true, seed: 7, natsCluster: false });
    for (const kind of FAULT_KINDS.filter((k) => k !== 'kill-nats')) expect(report.faults.byKind[kind] ?? 0, kind).toBeGreaterThan(0);
    expect(report.tasks.launched).toBeGreaterThan(0);
    expect(report.tasks.byTerminalState.TASK_FINISHED ?? 0).toBeGreaterThan(0);
    expect(report.tasks.terminal + report.tasks.vanished).toBe(report.tasks.launched);
    expect(report.updates.stream).toBeGreaterThan(0);
    expect(report.framework.incarnations).toBeGreaterThan(1); // the framework was killed and came back
    expect(report.convergence.convergedAfterMs).not.toBeNull();
  }, 240_000);
});
