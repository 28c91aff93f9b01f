/**
 * Reading another process's CPU time and memory from /proc (Linux), so a benchmark can say
 * what the master cost while it measured something else.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's CPU times (getconf CLK_TCK; 100 when that fails). */
const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user + system) the process has used so far; undefined when it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // utime, stime
  } catch {
    return undefined;
  }
}

/** Resident memory now and at its peak, in MiB; undefined when the process is gone. */
export function memoryMiB(pid: number): { rssMiB: number; peakRssMiB: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMiB: Math.round(kib('VmRSS') / 102.4) / 10, peakRssMiB: Math.round(kib('VmHWM') / 102.4) / 10 };
  } catch {
    return undefined;
  }
}

/** Measures the CPU a process uses between `start()` and `stop()`: cores busy on average and CPU seconds. */
export class CpuWindow {
  private readonly t0 = performance.now();
  private readonly c0: number;
  constructor(private readonly pid: number) {
    this.c0 = cpuSeconds(pid) ?? 0;
  }

  /** Cores used on average since construction (1.0 = one core busy all the time), and CPU seconds. */
  read(): { cores: number; cpuSeconds: number } {
    const cpu = (cpuSeconds(this.pid) ?? this.c0) - this.c0;
    const wall = (performance.now() - this.t0) / 1000;
    return { cores: Math.round((cpu / Math.max(wall, 1e-3)) * 100) / 100, cpuSeconds: Math.round(cpu * 100) / 100 };
  }
}
