// `nesos chaos --attach` against a cluster it did not start (a TestCluster: nats-server,
// three masters, two agents, which nothing restarts): it refuses an unreachable cluster
// (NoClusterError, naming --nats and --cluster) and a kill of the cluster's own processes
// (FaultNotApplicableError; kills are for clusters of `nesos up`: chaos-attach-up.test.ts,
// whose seeded run also pauses masters and agents and checks every invariant); and a run
// interrupted (Ctrl-C) or killed (SIGKILL: the guardian) while a process is paused leaves
// nothing paused.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processesWithCmdline } from '../../bin/chaos/procs.js';
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

/** SIGKILLs any chaos framework a killed run left (its config lives under `dir`). */
function killLeftovers(): void {
  for (const pid of processesWithCmdline(dir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
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
