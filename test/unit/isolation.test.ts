// The isolators without the real cgroup file system: layout parsing, limits arithmetic, the
// run-time choice on fake hierarchies (a temp dir laid out like cgroupfs), what each
// isolator writes and how it reads a limitation, and the posix isolator's process trees.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cgroupDir, parseCgroupMounts, parseKeyValues, parseProcCgroup } from '../../actors/agent/isolation/cgroupfs.js';
import { IsolatorUnavailableError } from '../../actors/agent/errors.js';
import { CgroupsV1Isolator, CgroupsV2Isolator, PosixIsolator, containerLimits, createIsolator, MB } from '../../actors/agent/isolation/index.js';
import { cfsQuotaUs, cpuShares, cpuWeight, memoryLimitation } from '../../actors/agent/isolation/limits.js';
import { containerProcesses, parseProcStat, type ProcStat } from '../../actors/agent/isolation/proc.js';
import { JOIN_SCRIPT, TASK_SCRIPT, taskArgv } from '../../actors/executor/task-command.js';
import { Resources } from '../../protocol/resources.js';
import { TaskReason } from '../../protocol/task-state.js';

const MOUNTINFO_V1 = [
  '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct',
  '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd',
  '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
].join('\n');

describe('cgroup layout', () => {
  it('finds v1 hierarchies with their controllers, and the v2 mount', () => {
    const mounts = parseCgroupMounts(MOUNTINFO_V1);
    expect(mounts).toEqual([
      { mountPoint: '/sys/fs/cgroup/cpu,cpuacct', root: '/', version: 1, controllers: ['cpu', 'cpuacct'] },
      { mountPoint: '/sys/fs/cgroup/memory', root: '/', version: 1, controllers: ['memory'] },
      { mountPoint: '/sys/fs/cgroup/systemd', root: '/', version: 1, controllers: ['xattr'] },
      { mountPoint: '/sys/fs/cgroup/unified', root: '/', version: 2, controllers: [] },
    ]);
  });

  it('reads the process\'s own cgroups per controller, and places them under a mount (namespaced roots too)', () => {
    const own = parseProcCgroup('9:name=systemd:/\n4:memory:/sessions/s1\n2:cpu,cpuacct:/\n0::/user.slice\n');
    expect(own.get('memory')).toBe('/sessions/s1');
    expect(own.get('cpuacct')).toBe('/');
    expect(own.get('')).toBe('/user.slice');
    expect(cgroupDir({ mountPoint: '/m', root: '/', version: 1, controllers: [] }, '/sessions/s1')).toBe('/m/sessions/s1');
    expect(cgroupDir({ mountPoint: '/m', root: '/docker/c1', version: 1, controllers: [] }, '/docker/c1/x')).toBe('/m/x');
  });

  it('parses "key value" files', () => {
    expect([...parseKeyValues('oom_kill_disable 0\nunder_oom 0\noom_kill 2\n')]).toEqual([['oom_kill_disable', 0], ['under_oom', 0], ['oom_kill', 2]]);
    expect(parseKeyValues(undefined).size).toBe(0);
  });
});

describe('limits', () => {
  it('sums the tasks\' mem (MiB → bytes) and cpus; leaves out what is not asked for', () => {
    expect(containerLimits([Resources.parse('cpus:0.5;mem:64').toWire(), Resources.parse('cpus:0.25;mem:32').toWire()])).toEqual({ memBytes: 96 * MB, cpus: 0.75 });
    expect(containerLimits([Resources.parse('cpus:1').toWire()])).toEqual({ cpus: 1 });
    expect(containerLimits([])).toEqual({});
  });

  it('maps cpus to a CFS quota (at least 1 ms), shares and weight', () => {
    // 0.5 cpus of a 100 ms period = 50 ms
    expect(cfsQuotaUs(0.5)).toBe(50_000);
    expect(cfsQuotaUs(0.001)).toBe(1000);
    expect(cpuShares(0.5)).toBe(512);
    expect(cpuShares(0.001)).toBe(2);
    expect(cpuWeight(2)).toBe(200);
    expect(cpuWeight(1000)).toBe(10_000);
  });

  it('says what was requested and used in a memory limitation', () => {
    expect(memoryLimitation(64 * MB, 65 * MB, 'test')).toEqual({
      resource: 'mem',
      reason: TaskReason.MEMORY_LIMIT,
      message: 'Memory limit exceeded: requested 64 MB, maximum used 65 MB (test)',
    });
  });
});

describe('the task command', () => {
  it('is sh -c without a container to join', () => {
    expect(taskArgv('echo hi', [])).toEqual({ file: '/bin/sh', args: ['-c', 'echo hi'] });
  });

  it('joins every cgroup first and passes the command as an argument (no quoting)', () => {
    const cmd = `echo "it's" $HOME`;
    expect(taskArgv(cmd, ['/a/cgroup.procs', '/b/cgroup.procs'])).toEqual({ file: '/bin/sh', args: ['-c', JOIN_SCRIPT, cmd, '/a/cgroup.procs', '/b/cgroup.procs'] });
  });

  it('a task sets itself up in its shell: its directory, its output files, its container', () => {
    expect(taskArgv('true', ['/a/cgroup.procs'], '/sb/tasks/t1')).toEqual({ file: '/bin/sh', args: ['-c', TASK_SCRIPT, 'true', '/sb/tasks/t1', '/a/cgroup.procs'] });
  });

  it('the set-up script really does it (run with /bin/sh)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nesos-task-'));
    try {
      const procs = join(dir, 'fake.procs');
      const { file, args } = taskArgv('echo "out $0-$1"; echo err >&2; pwd', [procs], join(dir, 'tasks', 't1'));
      await new Promise<void>((resolve, reject) => {
        const child = spawn(file, args, { cwd: dir, stdio: 'ignore' });
        child.once('error', reject);
        child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}`))));
      });
      const out = readFileSync(join(dir, 'tasks', 't1', 'stdout'), 'utf8');
      expect(out).toMatch(/^out \/bin\/sh-\n/);
      expect(out.trim().endsWith(join(dir, 'tasks', 't1'))).toBe(true);
      expect(readFileSync(join(dir, 'tasks', 't1', 'stderr'), 'utf8')).toBe('err\n');
      expect(readFileSync(procs, 'utf8').trim()).toMatch(/^\d+$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nesos-iso-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A fake v1 layout under `dir`: memory and cpu,cpuacct hierarchies, the agent in /me. */
function fakeV1(): { mountinfo: string; procCgroup: string } {
  mkdirSync(join(dir, 'memory', 'me'), { recursive: true });
  mkdirSync(join(dir, 'cpu,cpuacct', 'me'), { recursive: true });
  return {
    mountinfo: [`1 0 0:1 / ${dir}/memory rw - cgroup cgroup rw,memory`, `2 0 0:2 / ${dir}/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct`].join('\n'),
    procCgroup: '4:memory:/me\n2:cpu,cpuacct:/me\n0::/\n',
  };
}

/** A fake v2 layout under `dir`, offering `controllers` to the agent's cgroup /me. */
function fakeV2(controllers: string): { mountinfo: string; procCgroup: string } {
  mkdirSync(join(dir, 'unified', 'me'), { recursive: true });
  writeFileSync(join(dir, 'unified', 'me', 'cgroup.controllers'), controllers);
  return { mountinfo: `1 0 0:1 / ${dir}/unified rw - cgroup2 cgroup2 rw`, procCgroup: '0::/me\n' };
}

describe('choosing the isolator', () => {
  it('auto takes cgroups v2 when the unified hierarchy offers memory and cpu, and enables them on the way down', () => {
    const iso = createIsolator({ mode: 'auto', agentId: 'a1', ...fakeV2('cpuset cpu io memory pids') });
    expect(iso).toBeInstanceOf(CgroupsV2Isolator);
    expect(iso.describe().cgroup).toBe(join(dir, 'unified', 'me', 'nesos', 'a1'));
    expect(readFileSync(join(dir, 'unified', 'me', 'cgroup.subtree_control'), 'utf8')).toBe('+memory +cpu');
    expect(readFileSync(join(dir, 'unified', 'me', 'nesos', 'a1', 'cgroup.subtree_control'), 'utf8')).toBe('+memory +cpu');
  });

  it('auto falls back to v1 when v2 lacks the controllers (as on the test machines), and says why', () => {
    const v1 = fakeV1();
    const v2 = fakeV2('pids');
    const iso = createIsolator({ mode: 'auto', agentId: 'a1', mountinfo: `${v1.mountinfo}\n${v2.mountinfo}`, procCgroup: '4:memory:/me\n2:cpu,cpuacct:/me\n0::/me\n' });
    expect(iso).toBeInstanceOf(CgroupsV1Isolator);
    expect(iso.describe().memory).toBe(join(dir, 'memory', 'me', 'nesos', 'a1'));
    expect(iso.describe().why).toMatch(/does not offer the memory and cpu controllers/);
    expect(existsSync(join(dir, 'cpu,cpuacct', 'me', 'nesos', 'a1'))).toBe(true);
  });

  it('auto falls back to posix when no cgroups can be used', () => {
    const iso = createIsolator({ mode: 'auto', agentId: 'a1', mountinfo: '', procCgroup: '' });
    expect(iso).toBeInstanceOf(PosixIsolator);
    expect(iso.describe().why).toMatch(/no cgroup2 file system.*no v1 hierarchy for memory, cpu, cpuacct/);
  });

  it('an explicit isolator that cannot work here is an error naming the flag and why', () => {
    expect(() => createIsolator({ mode: 'cgroups-v2', agentId: 'a1', ...fakeV2('pids') })).toThrow(IsolatorUnavailableError);
    expect(() => createIsolator({ mode: 'cgroups-v1', agentId: 'a1', mountinfo: '', procCgroup: '' })).toThrow(/--isolation cgroups-v1 cannot be used on this host: no v1 hierarchy/);
    expect(createIsolator({ mode: 'posix', agentId: 'a1', mountinfo: '', procCgroup: '' })).toBeInstanceOf(PosixIsolator);
  });

  it('an absolute --cgroups-root is placed under the hierarchy\'s root, not the agent\'s cgroup', () => {
    const iso = createIsolator({ mode: 'cgroups-v1', agentId: 'a1', cgroupsRoot: '/fleet/nesos', ...fakeV1() });
    expect(iso.describe().memory).toBe(join(dir, 'memory', 'fleet', 'nesos', 'a1'));
  });
});

describe('cgroups v1 isolator (fake hierarchy)', () => {
  it('writes the limits, gives the tasks the cgroup.procs to join, and reads an OOM kill as a memory limitation', async () => {
    const iso = createIsolator({ mode: 'cgroups-v1', agentId: 'a1', cleanupTimeoutMs: 0, ...fakeV1() });
    const mem = join(dir, 'memory', 'me', 'nesos', 'a1', 'e1');
    const cpu = join(dir, 'cpu,cpuacct', 'me', 'nesos', 'a1', 'e1');
    writeFileSync(join(dir, 'memory', 'me', 'nesos', 'a1', 'placeholder'), ''); // parents exist
    mkdirSync(mem, { recursive: true });
    writeFileSync(join(mem, 'memory.memsw.limit_in_bytes'), '9223372036854771712');
    const launch = await iso.prepare({ containerId: 'e1', limits: { memBytes: 64 * MB, cpus: 0.5 } });
    expect(launch.joinFiles).toEqual([join(mem, 'cgroup.procs'), join(cpu, 'cgroup.procs')]);
    expect(readFileSync(join(mem, 'memory.limit_in_bytes'), 'utf8')).toBe(String(64 * MB));
    expect(readFileSync(join(mem, 'memory.memsw.limit_in_bytes'), 'utf8')).toBe(String(64 * MB));
    expect(readFileSync(join(cpu, 'cpu.cfs_quota_us'), 'utf8')).toBe('50000');
    expect(readFileSync(join(cpu, 'cpu.cfs_period_us'), 'utf8')).toBe('100000');
    expect(readFileSync(join(cpu, 'cpu.shares'), 'utf8')).toBe('512');

    writeFileSync(join(mem, 'memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n');
    expect(iso.limitation('e1')).toBeUndefined();
    expect(iso.check()).toEqual([]);
    writeFileSync(join(mem, 'memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n');
    writeFileSync(join(mem, 'memory.max_usage_in_bytes'), String(64 * MB));
    const limitation = iso.limitation('e1');
    expect(limitation?.reason).toBe(TaskReason.MEMORY_LIMIT);
    expect(limitation?.message).toMatch(/^Memory limit exceeded: requested 64 MB, maximum used 64 MB/);
    // check() reports each container's limitation once
    expect(iso.check().map((c) => c.containerId)).toEqual(['e1']);
    expect(iso.check()).toEqual([]);
  });

  it('reads usage from cpuacct and memory', async () => {
    const iso = createIsolator({ mode: 'cgroups-v1', agentId: 'a1', cleanupTimeoutMs: 0, ...fakeV1() });
    await iso.prepare({ containerId: 'e1', limits: { memBytes: 32 * MB } });
    const mem = join(dir, 'memory', 'me', 'nesos', 'a1', 'e1');
    const cpu = join(dir, 'cpu,cpuacct', 'me', 'nesos', 'a1', 'e1');
    writeFileSync(join(cpu, 'cpuacct.usage_user'), '1500000000');
    writeFileSync(join(cpu, 'cpuacct.usage_sys'), '250000000');
    writeFileSync(join(cpu, 'cpu.stat'), 'nr_periods 10\nnr_throttled 3\nthrottled_time 5\n');
    writeFileSync(join(mem, 'memory.usage_in_bytes'), String(10 * MB));
    writeFileSync(join(mem, 'memory.max_usage_in_bytes'), String(12 * MB));
    expect(await iso.usage('e1')).toEqual({
      cpuUserSeconds: 1.5,
      cpuSystemSeconds: 0.25,
      memBytes: 10 * MB,
      memMaxBytes: 12 * MB,
      memLimitBytes: 32 * MB,
      cpusLimit: undefined,
      processes: 0,
      throttledPeriods: 3,
    });
    expect(await iso.usage('unknown')).toBeUndefined();
  });
});

describe('cgroups v2 isolator (fake hierarchy)', () => {
  it('writes memory.max and cpu.max, and reads memory.events oom_kill as a memory limitation', async () => {
    const iso = createIsolator({ mode: 'cgroups-v2', agentId: 'a1', cleanupTimeoutMs: 0, ...fakeV2('cpu memory') });
    const cg = join(dir, 'unified', 'me', 'nesos', 'a1', 'e1');
    const launch = await iso.prepare({ containerId: 'e1', limits: { memBytes: 128 * MB, cpus: 0.25 } });
    expect(launch.joinFiles).toEqual([join(cg, 'cgroup.procs')]);
    expect(readFileSync(join(cg, 'memory.max'), 'utf8')).toBe(String(128 * MB));
    expect(readFileSync(join(cg, 'cpu.max'), 'utf8')).toBe('25000 100000');
    expect(readFileSync(join(cg, 'cpu.weight'), 'utf8')).toBe('25');
    writeFileSync(join(cg, 'memory.events'), 'low 0\nhigh 0\nmax 12\noom 1\noom_kill 0\n');
    expect(iso.limitation('e1')).toBeUndefined();
    writeFileSync(join(cg, 'memory.events'), 'low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\n');
    writeFileSync(join(cg, 'memory.peak'), String(128 * MB));
    expect(iso.check()).toEqual([{ containerId: 'e1', limitation: memoryLimitation(128 * MB, 128 * MB, 'cgroups v2: the kernel OOM-killed a process of the task') }]);
    writeFileSync(join(cg, 'cpu.stat'), 'usage_usec 3000000\nuser_usec 2000000\nsystem_usec 1000000\nnr_throttled 7\n');
    writeFileSync(join(cg, 'memory.current'), String(5 * MB));
    expect(await iso.usage('e1')).toMatchObject({ cpuUserSeconds: 2, cpuSystemSeconds: 1, memBytes: 5 * MB, memMaxBytes: 128 * MB, throttledPeriods: 7, cpusLimit: 0.25 });
  });
});

/** A process table entry. */
function proc(pid: number, ppid: number, pgrp: number, rssMb = 1, state = 'S'): ProcStat {
  return { pid, ppid, pgrp, state, utime: 10, stime: 5, cutime: 0, cstime: 0, startTime: 1000 + pid, rssBytes: rssMb * MB };
}

describe('posix isolator', () => {
  it('parses /proc/<pid>/stat, even when the command name holds spaces and parentheses', () => {
    const text = '4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 30 7 3 20 0 1 0 98765 10000000 2560 18446744073709551615';
    expect(parseProcStat(4242, text)).toEqual({ pid: 4242, state: 'S', ppid: 1, pgrp: 4242, utime: 250, stime: 30, cutime: 7, cstime: 3, startTime: 98765, rssBytes: 2560 * 4096 });
  });

  it('a container is the executor\'s descendants (not the executor), with their process groups, zombies left out', () => {
    const table = [
      proc(1, 0, 1),
      proc(100, 1, 100), // the executor (its own group)
      proc(101, 100, 101), // task 1's shell
      proc(102, 101, 101), // its child
      proc(103, 100, 103, 1, 'Z'), // a dead task, not yet reaped
      proc(104, 1, 101), // a child of task 1 reparented to init, still in its group
      proc(200, 1, 200), // someone else
    ];
    expect(containerProcesses(table, 100).map((p) => p.pid).sort()).toEqual([101, 102, 104]);
    // after the executor died: the groups seen before still find what is left
    expect(containerProcesses(table.filter((p) => p.pid !== 100 && p.pid !== 101), undefined, new Set([101])).map((p) => p.pid).sort()).toEqual([102, 104]);
  });

  it('reports a container whose resident memory is over its limit (once), from a /proc it samples', async () => {
    const procRoot = join(dir, 'proc');
    const write = (p: ProcStat): void => {
      mkdirSync(join(procRoot, String(p.pid)), { recursive: true });
      const fields = [p.state, p.ppid, p.pgrp, 0, 0, 0, 0, 0, 0, 0, 0, p.utime, p.stime, p.cutime, p.cstime, 20, 0, 1, 0, p.startTime, 0, p.rssBytes / 4096];
      writeFileSync(join(procRoot, String(p.pid), 'stat'), `${p.pid} (x) ${fields.join(' ')}`);
    };
    write(proc(100, 1, 100, 50));
    write(proc(101, 100, 101, 20));
    const iso = new PosixIsolator({ procRoot });
    await iso.prepare({ containerId: 'e1', limits: { memBytes: 32 * MB } });
    iso.watch('e1', 100);
    expect(iso.check()).toEqual([]); // 20 MB of 32 (the executor's 50 MB do not count)
    write(proc(102, 101, 101, 15));
    const over = iso.check();
    expect(over.map((o) => [o.containerId, o.limitation.reason])).toEqual([['e1', TaskReason.MEMORY_LIMIT]]);
    expect(over[0]?.limitation.message).toMatch(/requested 32 MB, maximum used 35 MB \(posix/);
    expect(iso.check()).toEqual([]);
    expect(iso.limitation('e1')?.reason).toBe(TaskReason.MEMORY_LIMIT);
    expect(await iso.usage('e1')).toMatchObject({ memBytes: 35 * MB, memMaxBytes: 35 * MB, processes: 2, cpuUserSeconds: 0.2, cpuSystemSeconds: 0.1 });
  });
});
