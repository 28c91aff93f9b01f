// The operator commands of the CLI against a real cluster (nats-server, master and two agents
// from dist): agents, frameworks, tasks with filters, task, logs (and -f), kill, top, --json
// for scripts, errors that name the problem and the fix, and the calls the master may not
// answer yet (roles, quota, weights, maintenance, drain, teardown).
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MasterSnapshot } from '../../protocol/operator.js';
import { NESOS_BIN, TestCluster } from '../helpers/cluster.js';
import { freePort } from '../helpers/ports.js';
import { startProcess, stopProcess, type TestProcess } from '../helpers/processes.js';
import { join } from 'node:path';

let cluster: TestCluster;
const background: TestProcess[] = [];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `nesos <args>` against the test cluster; stdout and stderr apart. */
function nesos(args: string[], options: { cluster?: boolean; timeoutMs?: number } = {}): Promise<Run> {
  const flags = ['--nats', cluster.natsUrl, '--cluster', cluster.name];
  const dashes = args.indexOf('--');
  const full = options.cluster === false ? args : dashes < 0 ? [...args, ...flags] : [...args.slice(0, dashes), ...flags, ...args.slice(dashes)];
  return new Promise((resolve) => {
    execFile(process.execPath, [NESOS_BIN, ...full], { timeout: options.timeoutMs ?? 30_000, env: { ...process.env, NO_COLOR: '1' } }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

function json<T>(run: Run): T {
  if (run.code !== 0) throw new Error(`nesos failed (${run.code}): ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

async function until(done: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const running = (s: MasterSnapshot, name: string) => s.tasks.find((t) => t.name === name && t.state === 'TASK_RUNNING');

beforeAll(async () => {
  cluster = await TestCluster.start({ agents: 2 });
  const done = await nesos(['run', '--name', 'hello', '--', 'echo hello-from-task; echo to-stderr >&2']);
  if (done.code !== 0) throw new Error(`nesos run failed: ${done.stderr}\n${cluster.logs()}`);
  const sleeper = startProcess(
    'sleeper',
    process.execPath,
    [NESOS_BIN, 'run', '--name', 'sleeper', '--nats', cluster.natsUrl, '--cluster', cluster.name, '--', 'i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done'],
    join(cluster.dir, 'sleeper.log'),
  );
  background.push(sleeper);
  await cluster.waitFor((s) => running(s, 'sleeper') !== undefined, 20_000);
}, 60_000);

afterAll(async () => {
  for (const p of background) await stopProcess(p);
  await cluster?.stop();
});

describe('nesos operator commands', () => {
  it('`agents` lists the agents as a table, and as JSON with --json', async () => {
    const table = await nesos(['agents']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+HOSTNAME\s+STATUS\s+CPUS/m);
    expect(table.stdout).toMatch(/^agent-1\s+\S+\s+active\s+[\d.]+\/2\s/m);
    const agents = json<Array<{ id: string; status: string }>>(await nesos(['agents', '--json']));
    expect(agents.map((a) => a.id).sort()).toEqual(['agent-1', 'agent-2']);
    expect(json<unknown[]>(await nesos(['agents', '--status', 'unreachable', '--json']))).toEqual([]);
  });

  it("`agents <id>` shows what the agent itself says; an unknown id is named with the fix", async () => {
    const detail = await nesos(['agents', 'agent-1']);
    expect(detail.code, detail.stderr).toBe(0);
    expect(detail.stdout).toMatch(/^isolator\s+(cgroups-v1|cgroups-v2|posix)$/m);
    expect(detail.stdout).toMatch(/^drain\s+active$/m);
    expect(detail.stdout).toMatch(/^spares\s+(pid \d+|none)/m); // one spare executor (pid), or none while it is being replaced
    const own = json<{ id: string; executors: unknown[] }>(await nesos(['agents', 'agent-2', '--json']));
    expect(own.id).toBe('agent-2');
    const missing = await nesos(['agents', 'agent-9']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('no agent "agent-9"');
    expect(missing.stderr).toContain('nesos agents');
  });

  it('`frameworks` shows the running framework', async () => {
    const frameworks = json<Array<{ name: string; connected: boolean; tasks: number }>>(await nesos(['frameworks', '--json']));
    expect(frameworks).toContainEqual(expect.objectContaining({ name: 'nesos-run', connected: true, tasks: 1 }));
    expect((await nesos(['frameworks'])).stdout).toMatch(/^ID\s+NAME\s+PRINCIPAL/m);
  });

  it('`tasks` lists running tasks; --all, --state, --framework and --agent filter', async () => {
    const runningOnly = json<Array<{ name: string }>>(await nesos(['tasks', '--json']));
    expect(runningOnly.map((t) => t.name)).toEqual(['sleeper']);
    const all = json<Array<{ name: string; state: string }>>(await nesos(['tasks', '--all', '--json']));
    expect(all).toContainEqual(expect.objectContaining({ name: 'hello', state: 'TASK_FINISHED' }));
    const finished = json<Array<{ name: string }>>(await nesos(['tasks', '--state', 'finished', '--json']));
    expect(finished.map((t) => t.name)).toEqual(['hello']);
    const sleeper = running(await cluster.state(), 'sleeper')!;
    const framework = sleeper.frameworkId;
    const byBoth = json<Array<{ name: string }>>(await nesos(['tasks', '--all', '--framework', framework, '--agent', sleeper.agentId, '--json']));
    expect(byBoth.map((t) => t.name)).toEqual(['sleeper']);
    const table = await nesos(['tasks']);
    expect(table.stdout).toMatch(/^ID\s+NAME\s+STATE\s+FRAMEWORK\s+AGENT/m);
    expect(table.stdout).toMatch(/sleeper\s+TASK_RUNNING\s+nesos-run/);
  });

  it('refuses a bad filter with a usage error naming the flag', async () => {
    const bad = await nesos(['tasks', '--state', 'sleepy']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--state "sleepy" is not a task state');
    const noAgent = await nesos(['tasks', '--agent', 'agent-9']);
    expect(noAgent.code).toBe(1);
    expect(noAgent.stderr).toContain('no agent "agent-9"');
    expect(noAgent.stderr).toContain('nesos agents');
  });

  it('`task` shows one task by id or name; an unknown one names the fix', async () => {
    const sleeper = running(await cluster.state(), 'sleeper')!;
    const byId = json<{ taskId: string; state: string }>(await nesos(['task', sleeper.taskId, '--json']));
    expect(byId).toMatchObject({ taskId: sleeper.taskId, state: 'TASK_RUNNING' });
    const byName = await nesos(['task', 'sleeper']);
    expect(byName.stdout).toMatch(new RegExp(`^Task:\\s+${sleeper.taskId}$`, 'm'));
    expect(byName.stdout).toContain(`nesos logs ${sleeper.taskId}`);
    const unknown = await nesos(['task', 'no-such-task']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no task "no-such-task" is known to the master');
    expect(unknown.stderr).toContain('nesos tasks --all');
  });

  it('`logs` prints a finished task\'s stdout, or its stderr', async () => {
    const out = await nesos(['logs', 'hello']);
    expect(out.code).toBe(0);
    expect(out.stdout).toBe('hello-from-task\n');
    const err = await nesos(['logs', 'hello', '--stderr']);
    expect(err.stderr).toContain('to-stderr');
    const lines = (await nesos(['logs', 'hello', '--json'])).stdout.trim().split('\n');
    expect(JSON.parse(lines[0]!)).toMatchObject({ path: 'stdout', data: 'hello-from-task\n' });
  });

  it('`top --json` prints one line per refresh and stops after --iterations', async () => {
    const top = await nesos(['top', '--json', '--iterations', '2', '--interval', '100']);
    expect(top.code).toBe(0);
    const lines = top.stdout.trim().split('\n').map((l) => JSON.parse(l) as { resources: { total: Record<string, number> }; tasksByState: Record<string, number> });
    expect(lines).toHaveLength(2);
    // two agents of cpus:2
    expect(lines[0]!.resources.total.cpus).toBe(4);
    expect(lines[0]!.tasksByState.TASK_RUNNING).toBe(1);
  });

  it('`logs -f` follows a running task, and `kill` ends it; logs -f then stops by itself', async () => {
    const follow = startProcess('logs-f', process.execPath, [NESOS_BIN, 'logs', '-f', 'sleeper', '--interval', '100', '--nats', cluster.natsUrl, '--cluster', cluster.name], join(cluster.dir, 'logs-f.log'));
    background.push(follow);
    await until(() => /tick 3\n/.test(follow.output()), 'logs -f to print a few ticks');
    const kill = await nesos(['kill', 'sleeper', '--json']);
    expect(kill.code).toBe(0);
    expect(JSON.parse(kill.stdout)).toMatchObject({ state: 'TASK_KILLED' });
    const { code } = await follow.exited;
    expect(code).toBe(0);
    expect(follow.output()).toContain('is TASK_KILLED');
    const again = await nesos(['kill', 'sleeper']);
    expect(again.stdout).toContain('TASK_KILLED');
  });

  it('reports calls this master does not answer yet as not supported, or answers them', async () => {
    for (const [args, call] of [
      [['roles'], 'GET_ROLES'],
      [['weights'], 'GET_WEIGHTS'],
      [['quota'], 'GET_QUOTA'],
      [['maintenance'], 'GET_MAINTENANCE_SCHEDULE'],
    ] as const) {
      const r = await nesos([...args]);
      if (r.code === 0) continue; // the master serves it now
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toContain(`not supported by this master yet: it does not answer ${call}`);
    }
    const bad = await nesos(['weights', 'set', 'eng=-1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('ROLE=WEIGHT');
  });

  it('says which cluster is unreachable and how to fix it', async () => {
    const port = await freePort();
    const r = await nesos(['agents', '--nats', `nats://127.0.0.1:${port}`, '--cluster', 'nowhere'], { cluster: false });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`no Nesos cluster "nowhere" is reachable at nats://127.0.0.1:${port}`);
    expect(r.stderr).toContain('nesos up');
  });

  it('has --help for every command', async () => {
    const commands = ['agents', 'frameworks', 'tasks', 'task', 'logs', 'kill', 'top', 'roles', 'quota', 'weights', 'maintenance', 'drain', 'teardown'];
    const runs = await Promise.all(commands.map((cmd) => nesos([cmd, '--help'], { cluster: false })));
    commands.forEach((cmd, i) => {
      const r = runs[i]!;
      expect(r.code, cmd).toBe(0);
      expect(r.stdout, cmd).toContain(`Usage: nesos ${cmd}`);
      expect(r.stdout, cmd).toContain('--json');
    });
  });
});
