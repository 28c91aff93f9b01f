// The command line as a user meets it: `nesos up` brings a whole cluster up as separate
// processes, `nesos run` runs a command on it like mesos-execute, and Ctrl-C (SIGINT) on
// `nesos up` stops everything it started, leaving no process behind.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NESOS_BIN } from '../helpers/cluster.js';
import { freePort } from '../helpers/ports.js';
import { isAlive, killProcessesUnder, processesUnder, startProcess, stopProcess, type TestProcess } from '../helpers/processes.js';

const dir = mkdtempSync(join(tmpdir(), 'nesos-cli-test-'));
const cluster = `t${randomBytes(5).toString('hex')}`;
let port = 0;
let up: TestProcess;
const started: TestProcess[] = [];

/** Runs `nesos <args>` to completion; returns its exit code and output. */
async function nesos(args: string[], timeoutMs = 30_000): Promise<{ code: number | null; output: string }> {
  const p = startProcess(`nesos-${args[0]}`, process.execPath, [NESOS_BIN, ...args], join(dir, `cli-${randomBytes(3).toString('hex')}.log`));
  started.push(p);
  const timer = setTimeout(() => void stopProcess(p, 1000), timeoutMs);
  const { code } = await p.exited;
  clearTimeout(timer);
  return { code, output: p.output() };
}

async function until(done: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  port = await freePort();
  up = startProcess(
    'nesos-up',
    process.execPath,
    [NESOS_BIN, 'up', '--port', String(port), '--cluster', cluster, '--data-dir', join(dir, 'data'), '--agents', '2', '--http-port', '0', '--agent-resources', 'cpus:2;mem:512;disk:512;ports:[31000-31010]'],
    join(dir, 'up.log'),
  );
  started.push(up);
  await until(() => /is up/.test(up.output()) || up.hasExited, '`nesos up` to report the cluster up');
  if (up.hasExited) throw new Error(`nesos up exited:\n${up.output()}`);
});

afterAll(async () => {
  for (const p of started.reverse()) await stopProcess(p);
  await killProcessesUnder(dir);
  rmSync(dir, { recursive: true, force: true });
});

describe('nesos up and nesos run', () => {
  it('prints where everything is', () => {
    const out = up.output();
    expect(out).toContain(`Nesos cluster "${cluster}" is up.`);
    expect(out).toContain(`nats://127.0.0.1:${port}`);
    for (const name of ['nats-server', 'master-1', 'master-2', 'master-3', 'agent-1', 'agent-2']) expect(out).toMatch(new RegExp(`${name}\\s+pid \\d+`));
    expect(out).toMatch(/leader:\s+master-\d \(epoch \d+\)/);
    expect(out).toMatch(/web UI:\s+http:\/\/127\.0\.0\.1:\d+/);
  });

  it('`nesos run -- echo hello` prints the states and the output, and exits 0', async () => {
    const { code, output } = await nesos(['run', '--nats', `nats://127.0.0.1:${port}`, '--cluster', cluster, '--', 'echo', 'hello']);
    expect(output).toMatch(/^hello$/m);
    expect(output).toContain('TASK_RUNNING');
    expect(output).toContain('TASK_FINISHED');
    expect(code).toBe(0);
  });

  it('exits with the task\'s exit code when it fails', async () => {
    const { code, output } = await nesos(['run', '--nats', `nats://127.0.0.1:${port}`, '--cluster', cluster, '--', 'exit 3']);
    expect(output).toContain('TASK_FAILED');
    expect(code).toBe(3);
  });

  it('`nesos state` prints the master\'s state as JSON', async () => {
    const { code, output } = await nesos(['state', '--nats', `nats://127.0.0.1:${port}`, '--cluster', cluster]);
    expect(code).toBe(0);
    const state = JSON.parse(output) as { cluster: string; agents: Array<{ status: string }> };
    expect(state.cluster).toBe(cluster);
    expect(state.agents.filter((a) => a.status === 'active')).toHaveLength(2);
  });

  it('exits non-zero with a clear message when no cluster is reachable', async () => {
    const nowhere = await freePort();
    const { code, output } = await nesos(['run', '--nats', `nats://127.0.0.1:${nowhere}`, '--', 'echo', 'hello']);
    expect(code).toBe(1);
    expect(output).toContain(`no Nesos cluster "local" is reachable at nats://127.0.0.1:${nowhere}`);
    expect(output).toContain('npm start');
  });

  it('names the flag and the fix on a bad flag value', async () => {
    const { code, output } = await nesos(['run', '--cpus', 'lots', '--', 'true']);
    expect(code).toBe(2);
    expect(output).toContain('--cpus "lots" must be a number');
  });

  it('stops every process it started on SIGINT, leaving none behind', async () => {
    const pids = [...up.output().matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
    expect(pids).toHaveLength(6); // nats-server, master-1..3, agent-1, agent-2
    expect(pids.every(isAlive)).toBe(true);
    up.child.kill('SIGINT');
    const { code } = await up.exited;
    expect(code).toBe(0);
    expect(pids.filter(isAlive)).toEqual([]);
    expect(processesUnder(dir)).toEqual([]);
  });
});

describe('nesos up killed with SIGKILL', () => {
  it('leaves no process behind: the kernel stops its children (setpriv --pdeathsig)', async () => {
    const port2 = await freePort();
    const up2 = startProcess(
      'nesos-up-2',
      process.execPath,
      [NESOS_BIN, 'up', '--port', String(port2), '--cluster', `${cluster}k`, '--data-dir', join(dir, 'data2'), '--masters', '1', '--agents', '1', '--http-port', '0', '--agent-resources', 'cpus:1;mem:256;disk:256;ports:[31000-31001]'],
      join(dir, 'up2.log'),
    );
    started.push(up2);
    await until(() => /is up/.test(up2.output()) || up2.hasExited, 'the second `nesos up` to report the cluster up');
    const pids = [...up2.output().matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
    expect(pids).toHaveLength(3); // nats-server, master-1, agent-1
    up2.child.kill('SIGKILL');
    await up2.exited;
    await until(() => pids.every((pid) => !isAlive(pid)), 'every child of the killed `nesos up` to be gone', 10_000);
    expect(pids.filter(isAlive)).toEqual([]);
  });
});
