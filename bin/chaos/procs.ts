/**
 * Finding a run's processes in /proc (Linux): executors and tasks of the chaos framework
 * (by the NESOS_* variables the agent and executor give them), anything working under the
 * run's directory, and whether a pid is alive (a zombie is not: init reaps late).
 */
import { readFileSync, readdirSync, readlinkSync, type Dirent } from 'node:fs';

/** What /proc says of one process. */
export interface ProcInfo {
  pid: number;
  cwd: string;
  /** Its NESOS_* environment variables. */
  env: Record<string, string>;
  /** True for an executor (`actors/executor/main.js`). */
  executor: boolean;
}

/** True when `pid` runs (not gone, not a zombie). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** The NESOS_* environment variables of `pid` (throws when it cannot be read). */
export function nesosEnv(pid: number): Record<string, string> {
  const env: Record<string, string> = {};
  for (const kv of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
    if (!kv.startsWith('NESOS_')) continue;
    const eq = kv.indexOf('=');
    env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return env;
}

/** Pids of every process but this one, from /proc (any may be gone by the time it is read). */
export function otherPids(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => pid !== process.pid);
}

/** Live processes (but this one, and readable by this user) whose command line contains `needle`. */
export function processesWithCmdline(needle: string): number[] {
  return otherPids().filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle) && isAlive(pid);
    } catch {
      return false; // gone, or not ours to read
    }
  });
}

/** Every live process (but this one) that `keep` accepts; `keep` sees cwd first, to skip reading the rest. */
export function scanProcesses(keepCwd: (cwd: string) => boolean = () => true): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const pid of otherPids()) {
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      if (!keepCwd(cwd) || !isAlive(pid)) continue;
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      out.push({ pid, cwd, env: nesosEnv(pid), executor: cmdline.includes('actors/executor/main.js') });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return out;
}

/** True when `path` is `dir` or below it. */
export function isUnder(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir}/`);
}

/** The executors of framework `frameworkId`, by executor id. */
export function executorsOf(procs: readonly ProcInfo[], frameworkId: string): Array<{ pid: number; executorId: string }> {
  return procs
    .filter((p) => p.executor && p.env.NESOS_FRAMEWORK_ID === frameworkId && p.env.NESOS_EXECUTOR_ID !== undefined)
    .map((p) => ({ pid: p.pid, executorId: p.env.NESOS_EXECUTOR_ID as string }))
    .sort((a, b) => a.executorId.localeCompare(b.executorId));
}

/** The task processes of framework `frameworkId` (not executors): task id and sandbox run. */
export function taskRunsOf(procs: readonly ProcInfo[], frameworkId: string): Array<{ taskId: string; sandbox: string }> {
  const marker = `/frameworks/${frameworkId}/`;
  const runs = new Map<string, { taskId: string; sandbox: string }>();
  for (const p of procs) {
    const taskId = p.env.NESOS_TASK_ID;
    const sandbox = p.env.NESOS_SANDBOX;
    if (p.executor || taskId === undefined || sandbox === undefined || !sandbox.includes(marker)) continue;
    runs.set(`${taskId}\0${sandbox}`, { taskId, sandbox });
  }
  return [...runs.values()];
}

/** SIGKILLs every process working under `dir` (and its group), until none is left or `timeoutMs` passed. */
export async function killProcessesUnder(dir: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pids = scanProcesses((cwd) => isUnder(cwd, dir)).map((p) => p.pid);
    if (pids.length === 0 || Date.now() > deadline) return;
    for (const pid of pids) {
      for (const target of [-pid, pid]) {
        try {
          process.kill(target, 'SIGKILL');
        } catch {
          // not a group leader, or gone
        }
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Sandbox runs per task id of framework `frameworkId` under the agents' work dirs `agentDirs`. */
export function sandboxRuns(agentDirs: readonly string[], frameworkId: string): Record<string, number> {
  const runs: Record<string, number> = {};
  const list = (path: string): Dirent[] => {
    try {
      return readdirSync(path, { withFileTypes: true });
    } catch {
      return [];
    }
  };
  for (const dir of agentDirs) {
    for (const agent of list(`${dir}/agents`)) {
      const executors = `${dir}/agents/${agent.name}/frameworks/${frameworkId}/executors`;
      for (const executor of list(executors)) {
        // a run is a directory; `latest` is a symlink, and so is the `latest.<run>.tmp` an
        // agent killed while replacing `latest` leaves behind (it names the same run)
        const n = list(`${executors}/${executor.name}/runs`).filter((r) => r.isDirectory()).length;
        runs[executor.name] = (runs[executor.name] ?? 0) + n;
      }
    }
  }
  return runs;
}
