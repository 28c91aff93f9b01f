// `nesos up` restarts what fails: a SIGKILLed agent comes back (new pid, same id and work
// dir), registers with the leader again and keeps its running task (recovery); a SIGKILLed
// leader comes back with the same id and the cluster has one leader again; Ctrl-C then
// stops everything, restarted processes and recovered executors included. With
// `--no-restart` a killed agent is reported and stays down.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectNats, type NatsConnection } from '../../actors/runtime/nats.js';
import { pingMaster } from '../../bin/chaos/probe.js';
import { getState } from '../../bin/readiness.js';
import type { MasterSnapshot } from '../../protocol/operator.js';
import { UpProcesses, summaryPids, until } from '../helpers/nesos-up.js';
import { processesWithCmdline } from '../../bin/chaos/procs.js';
import { isAlive, processesUnder } from '../helpers/processes.js';

const ups = new UpProcesses('nesos-test-up-restart-');

afterAll(() => ups.stopAll(8000));

/** A `nesos up` with small agents (`cpus:2;mem:512;disk:512;ports:[31000-31010]`). */
const startUp = (name: string, extra: string[]) => ups.startUp(name, extra, 'cpus:2;mem:512;disk:512;ports:[31000-31010]');

/** The pid of `name`'s latest restart, from `nesos up`'s output. */
function restartedPid(out: string, name: string): number | undefined {
  const all = [...out.matchAll(new RegExp(`^! ${name} restarted: pid (\\d+) \\(restart (\\d+)\\)$`, 'gm'))];
  const last = all[all.length - 1];
  return last === undefined ? undefined : Number(last[1]);
}

function cmdline(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
}

/** The JSON log lines of `file` written by process `pid` with message `msg`. */
function logLines(file: string, pid: number, msg: string): Array<Record<string, unknown>> {
  return readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    })
    .filter((l) => l.pid === pid && l.msg === msg);
}

describe('nesos up restarts a process that fails', () => {
  let c: Awaited<ReturnType<typeof startUp>>;
  let nc: NatsConnection;
  const state = (): Promise<MasterSnapshot> => getState(nc, c.cluster, 'test', 2000);

  beforeAll(async () => {
    c = await startUp('up', ['--masters', '3', '--agents', '2']);
    nc = ups.track(await connectNats({ servers: c.natsUrl, name: 'up-restart-test' }));
  }, 60_000);

  it('a SIGKILLed agent comes back with the same id and work dir, registers with the leader again and keeps its task', async () => {
    const run = ups.nesos('run', ['run', '--nats', c.natsUrl, '--cluster', c.cluster, '--', 'sleep', '300']);
    await until(() => run.output().includes('TASK_RUNNING') || run.hasExited, 'the task to run');
    const task = (await state()).tasks.find((t) => t.state === 'TASK_RUNNING');
    expect(task, run.output()).toBeDefined();
    const agent = task!.agentId;
    const oldPid = summaryPids(c.up.output()).get(agent)!;
    expect(oldPid).toBeGreaterThan(0);

    process.kill(oldPid, 'SIGKILL');
    const newPid = await until(() => restartedPid(c.up.output(), agent), `${agent} to be restarted`);
    expect(newPid).not.toBe(oldPid);
    expect(c.up.output()).toContain(`! ${agent} (pid ${oldPid}) exited (SIGKILL); restarting it in 100 ms (restart 1)`);
    const argv = cmdline(newPid);
    expect(argv.slice(argv.indexOf('--id'), argv.indexOf('--id') + 2)).toEqual(['--id', agent]);
    expect(argv.slice(argv.indexOf('--work-dir'), argv.indexOf('--work-dir') + 2)).toEqual(['--work-dir', join(c.data, agent)]);

    // The new process registered with the leader, took its executor back, and the task still runs there.
    const log = join(c.data, 'logs', `${agent}.log`);
    const registered = await until(() => logLines(log, newPid, 'registered with the master')[0], `${agent} (pid ${newPid}) to register`);
    const reattached = await until(() => logLines(log, newPid, 'recovered from the checkpoint').find((l) => l.mode === 'reconnect'), `${agent} to take its executor back`);
    expect(reattached).toMatchObject({ executors: 1, reattached: 1, gone: 0, killed: 0 });
    const s = await until(async () => {
      const s = await state();
      return s.agents.find((a) => a.id === agent)?.status === 'active' && s.tasks.find((t) => t.taskId === task!.taskId)?.state === 'TASK_RUNNING' ? s : undefined;
    }, `${agent} to be active with its task running`);
    expect(registered.masterId).toBe(s.masterId);
    expect(s.tasks.find((t) => t.taskId === task!.taskId)?.agentId).toBe(agent);
    expect(run.hasExited).toBe(false);
  }, 60_000);

  it('a SIGKILLed leader comes back with the same id; the cluster has one leader, and it answers as a master again', async () => {
    const leader = (await state()).masterId;
    const oldPid = summaryPids(c.up.output()).get(leader)!;
    process.kill(oldPid, 'SIGKILL');
    const newPid = await until(() => restartedPid(c.up.output(), leader), `${leader} to be restarted`);
    expect(newPid).not.toBe(oldPid);
    expect(c.up.output()).toMatch(new RegExp(`^! ${leader} \\(pid ${oldPid}\\) exited \\(SIGKILL\\); restarting it in \\d+ ms \\(restart 1\\)$`, 'm'));
    expect(cmdline(newPid)).toContain(leader);
    const ids = ['master-1', 'master-2', 'master-3'];
    const leading = await until(async () => {
      const l = await Promise.all(ids.map((id) => pingMaster(nc, c.cluster, id, 1000)));
      return l.every((x) => x !== undefined) && l.filter((x) => x === true).length === 1 ? l : undefined;
    }, 'every master to answer, one leading');
    expect(leading.filter((x) => x === false)).toHaveLength(2);
    const s = await until(async () => {
      const s = await state().catch(() => undefined);
      return s !== undefined && s.agents.filter((a) => a.status === 'active').length === 2 ? s : undefined;
    }, 'both agents active under the leader');
    expect(ids).toContain(s.masterId);
  }, 60_000);

  it('Ctrl-C stops everything it started, restarted processes and recovered executors included', async () => {
    const out = c.up.output();
    const pids = [...summaryPids(out).values(), ...[...out.matchAll(/restarted: pid (\d+)/g)].map((m) => Number(m[1]))];
    expect(pids).toHaveLength(8); // six at the start, two restarts
    c.up.child.kill('SIGINT');
    expect((await c.up.exited).code).toBe(0);
    expect(pids.filter(isAlive)).toEqual([]);
    expect(processesUnder(c.data)).toEqual([]); // the task and its executor too
    expect(c.up.output().slice(c.up.output().indexOf('stopping the cluster'))).not.toContain('restart');
  }, 30_000);
});

describe('nesos up --no-restart', () => {
  it('reports a killed agent and leaves it down; Ctrl-C leaves nothing', async () => {
    const c = await startUp('up-no-restart', ['--masters', '1', '--agents', '1', '--no-restart']);
    expect(c.up.output()).toContain('restarts: off (--no-restart)');
    const pid = summaryPids(c.up.output()).get('agent-1')!;
    process.kill(pid, 'SIGKILL');
    await until(() => c.up.output().includes(`! agent-1 (pid ${pid}) exited (SIGKILL); not restarted (--no-restart)`), 'the exit to be reported');
    await new Promise((r) => setTimeout(r, 1500)); // well past the first restart delay of 100 ms
    expect(processesWithCmdline(join(c.data, 'agent-1'))).toEqual([]);
    expect(c.up.output()).not.toContain('restarted:');
    const rest = [...summaryPids(c.up.output()).values()].filter((p) => p !== pid);
    expect(rest.every(isAlive)).toBe(true);
    c.up.child.kill('SIGINT');
    expect((await c.up.exited).code).toBe(0);
    expect(rest.filter(isAlive)).toEqual([]);
    expect(processesUnder(c.data)).toEqual([]);
  }, 60_000);
});
