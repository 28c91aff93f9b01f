/**
 * Running one health check (the I/O half of `health.ts`): a COMMAND in the task's
 * environment, directory and container; an HTTP GET to 127.0.0.1; a TCP connection to
 * 127.0.0.1. Each gives up after its timeout. Never rejects: a failure is a result.
 */
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { connect } from 'node:net';
import type { HealthCheck } from '../../protocol/schema.js';
import { taskArgv } from './task-command.js';

/** A check's outcome: healthy or not, and a line saying why. */
export interface ProbeResult {
  ok: boolean;
  detail: string;
}

/** Where and how a check runs. */
export interface ProbeContext {
  /** The task's environment (a COMMAND check adds its own variables). */
  env: Record<string, string>;
  /** The task's directory. */
  cwd: string;
  /** Files the check's shell writes its pid to (the task's container). */
  joinFiles: readonly string[];
  timeoutMs: number;
}

/** Runs `check` once. */
export function probe(check: HealthCheck, ctx: ProbeContext): Promise<ProbeResult> {
  if (check.type === 'COMMAND' && check.command !== undefined) return probeCommand(check.command.value, { ...ctx.env, ...check.command.environment }, ctx);
  if (check.type === 'HTTP' && check.http !== undefined) return probeHttp(check.http.port, check.http.path, ctx.timeoutMs);
  if (check.type === 'TCP' && check.tcp !== undefined) return probeTcp(check.tcp.port, ctx.timeoutMs);
  return Promise.resolve({ ok: false, detail: `a ${check.type} check without its settings` });
}

function probeCommand(command: string, env: Record<string, string>, ctx: ProbeContext): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const argv = taskArgv(command, ctx.joinFiles);
    const child = spawn(argv.file, argv.args, { cwd: ctx.cwd, env, detached: true, stdio: 'ignore' });
    const timer = setTimeout(() => {
      killGroup(child.pid);
      resolve({ ok: false, detail: `command timed out after ${ctx.timeoutMs} ms` });
    }, ctx.timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      resolve({ ok: false, detail: `command could not start: ${e.message}` });
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      killGroup(child.pid); // nothing the check started outlives it
      if (code === 0) resolve({ ok: true, detail: 'command exited 0' });
      else resolve({ ok: false, detail: signal !== null ? `command terminated by ${signal}` : `command exited ${code ?? 'unknown'}` });
    });
  });
}

function probeHttp(port: number, path: string, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: ProbeResult): void => {
      if (settled) return;
      settled = true;
      resolve(r);
    };
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      done(status >= 200 && status < 400 ? { ok: true, detail: `HTTP ${status}` } : { ok: false, detail: `HTTP ${status} from ${path}` });
    });
    req.once('timeout', () => {
      req.destroy();
      done({ ok: false, detail: `HTTP GET ${path} timed out after ${timeoutMs} ms` });
    });
    req.once('error', (e) => done({ ok: false, detail: `HTTP GET 127.0.0.1:${port}${path}: ${e.message}` }));
    req.end();
  });
}

function probeTcp(port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const finish = (r: ProbeResult): void => {
      socket.destroy();
      resolve(r);
    };
    socket.setTimeout(timeoutMs, () => finish({ ok: false, detail: `TCP connect to 127.0.0.1:${port} timed out after ${timeoutMs} ms` }));
    socket.once('connect', () => finish({ ok: true, detail: `TCP port ${port} open` }));
    socket.once('error', (e) => finish({ ok: false, detail: `TCP connect to 127.0.0.1:${port}: ${e.message}` }));
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // gone already
  }
}
