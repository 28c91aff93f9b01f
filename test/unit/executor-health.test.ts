// Health checks, pure: the checker's timing (delay, interval, grace period, consecutive
// failures) with Mesos's defaults, and the executor core reporting health changes and
// killing an unhealthy task.
import { describe, expect, it } from 'vitest';
import { ExecutorCore, type ExecutorEffect } from '../../actors/executor/core.js';
import { HealthChecker, healthTiming } from '../../actors/executor/health.js';
import { Resources } from '../../protocol/resources.js';
import { HealthCheck, TaskInfo, type TaskStatus } from '../../protocol/schema.js';
import { TaskReason, TaskState } from '../../protocol/task-state.js';

const S = TaskState;
const T0 = 1_000_000;

describe('health check settings', () => {
  it('defaults to Mesos\'s: delay 15 s, interval 10 s, timeout 20 s, grace 10 s, 3 consecutive failures', () => {
    const check = HealthCheck.parse({ type: 'TCP', tcp: { port: 8080 } });
    expect(healthTiming(check)).toEqual({ delayMs: 15_000, intervalMs: 10_000, timeoutMs: 20_000, gracePeriodMs: 10_000, consecutiveFailures: 3 });
    expect(HealthCheck.parse({ type: 'HTTP', http: { port: 80 } }).http?.path).toBe('/');
  });

  it('refuses a check without the settings of its type', () => {
    expect(HealthCheck.safeParse({ type: 'HTTP', tcp: { port: 80 } }).success).toBe(false);
    expect(HealthCheck.safeParse({ type: 'COMMAND' }).success).toBe(false);
    expect(TaskInfo.safeParse({ taskId: 't', name: 't', agentId: 'a', resources: [], command: { value: 'x' }, healthCheck: { type: 'TCP', tcp: { port: 0 } } }).success).toBe(false);
  });
});

describe('the health checker', () => {
  const timing = { delayMs: 1000, intervalMs: 500, timeoutMs: 300, gracePeriodMs: 2000, consecutiveFailures: 3 };

  it('checks first after the delay, then an interval after each result, never two at once', () => {
    const h = new HealthChecker(timing, T0);
    expect(h.due(T0 + 999)).toBeUndefined();
    expect(h.due(T0 + 1000)).toBe(1);
    expect(h.due(T0 + 5000)).toBeUndefined(); // check 1 still runs
    h.result(1, true, T0 + 1100);
    expect(h.due(T0 + 1599)).toBeUndefined();
    expect(h.due(T0 + 1600)).toBe(2);
  });

  it('ignores failures within the grace period until a first success, then counts them', () => {
    const h = new HealthChecker(timing, T0);
    // t = 1 s: failure inside the 2 s grace period, before any success: ignored
    h.due(T0 + 1000);
    expect(h.result(1, false, T0 + 1000)).toEqual({ report: undefined, kill: false, consecutiveFailures: 0 });
    // t = 1.5 s: success → healthy (first result reported)
    h.due(T0 + 1500);
    expect(h.result(2, true, T0 + 1500)).toEqual({ report: true, kill: false, consecutiveFailures: 0 });
    // t = 2 s: failure, still inside the grace period but after a success: counted and reported
    h.due(T0 + 2000);
    expect(h.result(3, false, T0 + 2000)).toEqual({ report: false, kill: false, consecutiveFailures: 1 });
  });

  it('asks for a kill after consecutiveFailures failures in a row, reporting health only when it changes', () => {
    const h = new HealthChecker({ ...timing, gracePeriodMs: 0 }, T0);
    const outcomes = [];
    let now = T0 + 1000;
    for (let i = 0; i < 3; i++) {
      const seq = h.due(now);
      outcomes.push(h.result(seq ?? -1, false, now));
      now += 500;
    }
    expect(outcomes).toEqual([
      { report: false, kill: false, consecutiveFailures: 1 },
      { report: undefined, kill: false, consecutiveFailures: 2 },
      { report: undefined, kill: true, consecutiveFailures: 3 },
    ]);
  });

  it('a success resets the count; a stale or unknown result changes nothing; a stopped checker checks no more', () => {
    const h = new HealthChecker({ ...timing, gracePeriodMs: 0 }, T0);
    h.due(T0 + 1000);
    h.result(1, false, T0 + 1000);
    h.due(T0 + 1500);
    expect(h.result(7, true, T0 + 1500)).toBeUndefined();
    h.result(2, true, T0 + 1500);
    h.due(T0 + 2000);
    expect(h.result(3, false, T0 + 2000)?.consecutiveFailures).toBe(1);
    h.stop();
    expect(h.due(T0 + 100_000)).toBeUndefined();
  });
});

function taskWithCheck(check: Partial<HealthCheck> = {}): TaskInfo {
  return TaskInfo.parse({
    taskId: 't1',
    name: 't1',
    agentId: 'a1',
    resources: Resources.parse('cpus:1;mem:64').toWire(),
    command: { value: 'sleep 100' },
    killPolicy: { gracePeriodMs: 200 },
    healthCheck: { type: 'TCP', tcp: { port: 9 }, delaySeconds: 1, intervalSeconds: 0.5, timeoutSeconds: 0.3, gracePeriodSeconds: 0, consecutiveFailures: 2, ...check },
  });
}

function sent(effects: readonly ExecutorEffect[]): TaskStatus[] {
  return effects.flatMap((e) => (e.kind === 'send-update' ? [e.status] : []));
}

function checks(effects: readonly ExecutorEffect[]) {
  return effects.flatMap((e) => (e.kind === 'health-check' ? [e] : []));
}

function runningWithCheck(check: Partial<HealthCheck> = {}): ExecutorCore {
  let seq = 0;
  const core = new ExecutorCore({ agentId: 'a1', executorId: 't1', frameworkId: 'f1', sandbox: '/sb', path: '/bin', ids: { uuid: () => `u-${++seq}` } });
  core.onLaunch(taskWithCheck(check), T0);
  core.onSpawned(4242, T0);
  return core;
}

describe('executor core: health checks', () => {
  it('runs the task\'s check after its delay, in the task\'s directory and environment', () => {
    const core = runningWithCheck();
    expect(checks(core.tick(T0 + 999))).toEqual([]);
    const [check] = checks(core.tick(T0 + 1000));
    expect(check).toMatchObject({ taskId: 't1', seq: 1, cwd: '/sb', timeoutMs: 300, check: { type: 'TCP', tcp: { port: 9 } } });
    expect(check?.env.NESOS_TASK_ID).toBe('t1');
  });

  it('reports health changes as TASK_RUNNING with `healthy` and REASON_TASK_HEALTH_CHECK_STATUS_UPDATED', () => {
    const core = runningWithCheck({ consecutiveFailures: 5 });
    core.tick(T0 + 1000);
    const healthy = sent(core.onHealthResult('t1', 1, true, 'TCP port 9 open', T0 + 1010));
    expect(healthy).toEqual([expect.objectContaining({ state: S.RUNNING, healthy: true, reason: TaskReason.HEALTH_CHECK })]);
    core.tick(T0 + 1510);
    expect(sent(core.onHealthResult('t1', 2, true, 'TCP port 9 open', T0 + 1520))).toEqual([]); // no change, no update
    core.tick(T0 + 2020);
    const unhealthy = sent(core.onHealthResult('t1', 3, false, 'connection refused', T0 + 2030));
    expect(unhealthy).toEqual([expect.objectContaining({ state: S.RUNNING, healthy: false, reason: TaskReason.HEALTH_CHECK, message: 'Health check failed: connection refused' })]);
  });

  it('kills an unhealthy task with its kill policy; it ends TASK_KILLED, healthy false, with the reason', () => {
    const core = runningWithCheck();
    core.tick(T0 + 1000);
    core.onHealthResult('t1', 1, false, 'refused', T0 + 1000);
    core.tick(T0 + 1500);
    const effects = core.onHealthResult('t1', 2, false, 'refused', T0 + 1500);
    expect(sent(effects).map((s) => s.state)).toEqual([S.KILLING]);
    expect(effects.filter((e) => e.kind === 'signal')).toEqual([{ kind: 'signal', taskId: 't1', signal: 'SIGTERM' }]);
    // grace period of the kill policy: 200 ms; no more checks meanwhile
    expect(checks(core.tick(T0 + 1699))).toEqual([]);
    expect(core.tick(T0 + 1700).filter((e) => e.kind === 'signal')).toEqual([{ kind: 'signal', taskId: 't1', signal: 'SIGKILL' }]);
    const [end] = sent(core.onTaskExited({ exitCode: null, signal: 'SIGKILL' }, T0 + 1710));
    expect(end).toMatchObject({ state: S.KILLED, healthy: false, reason: TaskReason.HEALTH_CHECK });
    expect(end?.message).toBe('Task killed after 2 consecutive failed health checks (last: refused); Command terminated with signal SIGKILL');
  });

  it('ignores results that come after the task ended or was killed', () => {
    const core = runningWithCheck();
    core.tick(T0 + 1000);
    core.onKill('t1', 100, T0 + 1001);
    expect(core.onHealthResult('t1', 1, false, 'late', T0 + 1002)).toEqual([]);
  });
});
