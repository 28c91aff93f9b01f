// `nesos chaos --attach` against a cluster it did not start (a TestCluster: nats-server,
// three masters, two agents, which nothing restarts): it refuses an unreachable cluster
// (NoClusterError, naming --nats and --cluster) and a kill of the cluster's own processes
// (FaultNotApplicableError; kills are for clusters of `nesos up`: chaos-attach-up.test.ts);
// a 15 s run with a fixed seed passes every invariant, the masters and agents it says it
// paused are the cluster's and are running again, and the cluster still has one leader
// and both agents; and a run interrupted (Ctrl-C) or killed (SIGKILL: the guardian) while a
// process is paused leaves nothing paused.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pingMaster } from '../../bin/chaos/probe.js';
import type { ChaosReport } from '../../bin/chaos/report.js';
import { isTerminal } from '../../protocol/task-state.js';
import { NESOS_BIN, TestCluster } from '../helpers/cluster.js';
import { freePort } from '../helpers/ports.js';
import { startProcess, stopProcess, type TestProcess } from '../helpers/processes.js';

const dir = mkdtempSync(join(tmpdir(), 'nesos-test-chaos-attach-'));
let cluster: TestCluster | undefined;
const runs: TestProcess[] = [];

/** Starts `nesos chaos <args>` (its log in the test's dir). */
function chaos(name: string, args: string[]): TestProcess {
  const p = startProcess(name, process.execPath, [NESOS_BIN, 'chaos', ...args], join(dir, `${name}.log`));
  runs.push(p);
  return p;
}

/** The state letter of `pid` in /proc (`T`: stopped), undefined when it is gone. */
function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

/** The cluster's masters and agents. */
function clusterPids(c: TestCluster): number[] {
  return [...c.masters, ...c.agents].map((p) => p.pid);
}

function paused(c: TestCluster): number[] {
  return clusterPids(c).filter((pid) => procState(pid) === 'T');
}

/** Waits (at most `ms`) until `done()`; returns its last value. */
async function poll<T>(done: () => T, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = done();
    if (v || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

function reportOf(p: TestProcess): ChaosReport {
  const line = p.output().split('\n').find((l) => l.startsWith('{"ok":'));
  expect(line, p.output().slice(-4000)).toBeDefined();
  return JSON.parse(line!) as ChaosReport;
}

/** SIGKILLs any chaos framework a killed run left (its config lives under `dir`). */
function killLeftovers(): void {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(dir)) process.kill(Number(name), 'SIGKILL');
    } catch {
      // gone, or not ours
    }
  }
}

beforeAll(async () => {
  cluster = await TestCluster.start({ masters: 3, agents: 2 });
}, 60_000);

afterAll(async () => {
  for (const p of runs) await stopProcess(p, 10_000);
  killLeftovers();
  await cluster?.stop();
  if (process.env.NESOS_KEEP_TEST_DIRS !== '1') rmSync(dir, { recursive: true, force: true });
});

describe('nesos chaos --attach', () => {
  it('refuses a cluster that does not answer, and kills of processes it does not own', async () => {
    const port = await freePort();
    const nowhere = chaos('nowhere', ['--attach', '--nats', `nats://127.0.0.1:${port}`, '--cluster', 'gone', '--duration', '15', '--seed', '1']);
    const wrongName = chaos('wrong-name', ['--attach', '--nats', cluster!.natsUrl, '--cluster', 'gone', '--duration', '15', '--seed', '1']);
    const killAgent = chaos('kill-agent', ['--attach', '--nats', cluster!.natsUrl, '--cluster', cluster!.name, '--faults', 'stop-leader,kill-agent']);
    expect((await nowhere.exited).code).toBe(1);
    expect(nowhere.output()).toContain(`nesos: no Nesos cluster "gone" is reachable at nats://127.0.0.1:${port}.`);
    expect(nowhere.output()).toContain('point at yours with --nats <url> and --cluster <name>');
    expect((await wrongName.exited).code).toBe(1);
    expect(wrongName.output()).toContain(`nesos: no Nesos cluster "gone" is reachable at ${cluster!.natsUrl}.`);
    expect((await killAgent.exited).code).toBe(2);
    expect(killAgent.output()).toMatch(/nesos: --faults kill-agent cannot be applied: nothing would restart the local agents .*Use stop-agent/);
    expect(paused(cluster!)).toEqual([]);
  }, 30_000);

  it('--duration 15 --seed 1: pauses and resumes the cluster\'s masters and agents, every invariant holds, the cluster is whole afterwards', async () => {
    const c = cluster!;
    const run = chaos('run', ['--attach', '--nats', c.natsUrl, '--cluster', c.name, '--duration', '15', '--seed', '1', '--json', '--log-level', 'warn']);
    const { code } = await run.exited;
    const report = reportOf(run);
    expect(report.violations, run.output().slice(-4000)).toEqual([]);
    expect(code).toBe(0);
    expect(report).toMatchObject({ ok: true, mode: 'attach', seed: 1 });
    // It found exactly the cluster's masters and agents on this machine.
    expect(report.attach!.local.map((p) => p.pid).sort()).toEqual(clusterPids(c).sort());
    expect(report.attach!.local.map((p) => p.id).sort()).toEqual(['agent-1', 'agent-2', 'master-1', 'master-2', 'master-3']);
    // The kills are left out: nothing would restart these processes.
    expect(report.attach!.dropped.map((d) => d.kind)).toEqual(['kill-leader', 'kill-standby', 'kill-agent']);
    for (const d of report.attach!.dropped) expect(d.reason).toContain('nothing would restart');
    expect(report.attach!.local.every((p) => p.restartedBy === undefined)).toBe(true);
    expect(report.attach!.resumedAtEnd).toEqual([]);
    // Every pause of a cluster process was of one of its processes and was undone by SIGCONT.
    const pauses = report.faults.list.filter((f) => f.outcome === 'injected' && f.signal === 'SIGSTOP' && f.target !== 'framework');
    for (const kind of ['stop-leader', 'stop-standby', 'stop-agent']) expect(pauses.map((f) => f.kind), JSON.stringify(report.faults.list)).toContain(kind);
    for (const f of pauses) {
      expect(clusterPids(c)).toContain(f.pid);
      expect(f.restored).toBe('SIGCONT');
      expect(f.restoredAt).toBeGreaterThan(f.at);
    }
    // Nothing of the cluster was killed: every process runs, none is paused.
    expect(report.faults.list.filter((f) => f.signal === 'SIGKILL').every((f) => f.target === 'framework' || f.target?.startsWith('executor '))).toBe(true);
    for (const pid of clusterPids(c)) expect(['R', 'S', 'D']).toContain(procState(pid));
    expect(report.tasks.launched).toBeGreaterThan(0);
    // One leader, both agents active, and the workload framework gone with its tasks.
    const nc = await c.connect();
    const leading = await Promise.all(c.masters.map((m) => pingMaster(nc, c.name, m.name, 2000)));
    expect(leading.filter((l) => l === true)).toHaveLength(1);
    expect(leading.filter((l) => l === false)).toHaveLength(2);
    const state = await c.waitForAgents(2);
    expect(state.tasks.filter((t) => t.frameworkId.startsWith('chaos-') && !isTerminal(t.state))).toEqual([]);
  }, 120_000);

  it('Ctrl-C while a process is paused resumes it before exiting', async () => {
    const c = cluster!;
    const run = chaos('interrupted', ['--attach', '--nats', c.natsUrl, '--cluster', c.name, '--duration', '30', '--seed', '2', '--faults', 'stop-agent,stop-standby', '--log-level', 'warn']);
    const seen = await poll(() => paused(c).length > 0 || run.hasExited, 40_000);
    expect(seen && !run.hasExited, run.output().slice(-2000)).toBe(true);
    process.kill(run.pid, 'SIGINT');
    expect((await run.exited).code).toBe(130);
    expect(paused(c)).toEqual([]);
    expect(run.output()).toContain('interrupted: resuming every paused process');
  }, 60_000);

  it('SIGKILL while a process is paused: the guardian resumes it', async () => {
    const c = cluster!;
    const run = chaos('killed', ['--attach', '--nats', c.natsUrl, '--cluster', c.name, '--duration', '30', '--seed', '3', '--faults', 'stop-agent,stop-standby', '--log-level', 'warn']);
    const seen = await poll(() => paused(c).length > 0 || run.hasExited, 40_000);
    expect(seen && !run.hasExited, run.output().slice(-2000)).toBe(true);
    process.kill(run.pid, 'SIGKILL');
    await run.exited;
    expect(await poll(() => paused(c).length === 0, 5000)).toBe(true);
    for (const pid of clusterPids(c)) expect(procState(pid)).toBeDefined();
  }, 60_000);
});
