import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExecutorCore, readExecutorEnv, taskEnvironment, type ExecutorCoreOptions, type ExecutorEffect } from '../../actors/executor/core.js';
import { ExecutorEnvError } from '../../actors/executor/errors.js';
import { Resources } from '../../protocol/resources.js';
import type { TaskInfo, TaskStatus } from '../../protocol/schema.js';
import { canTransition } from '../../protocol/task-lifecycle.js';
import { TaskReason, TaskSource, TaskState, isTerminal } from '../../protocol/task-state.js';

const S = TaskState;
const SANDBOX = '/work/agents/a1/frameworks/f1/executors/t1/runs/r1';
const T0 = 1_000_000;

function taskInfo(extra: Partial<TaskInfo> = {}): TaskInfo {
  return {
    taskId: 't1',
    name: 't1',
    agentId: 'a1',
    resources: Resources.parse('cpus:1;mem:64').toWire(),
    command: { value: 'echo hi', environment: { GREETING: 'hello' } },
    ...extra,
  };
}

/** An ExecutorCore with uuids u-1, u-2, … and a clock starting at T0. */
function executor(options: Partial<ExecutorCoreOptions> = {}) {
  let seq = 0;
  const core = new ExecutorCore({
    agentId: 'a1',
    executorId: 't1',
    frameworkId: 'f1',
    sandbox: SANDBOX,
    path: '/usr/bin:/bin',
    ids: { uuid: () => `u-${++seq}` },
    ...options,
  });
  return core;
}

/** Statuses of send-update effects, in order. */
function sent(effects: readonly ExecutorEffect[]): TaskStatus[] {
  return effects.flatMap((e) => (e.kind === 'send-update' ? [e.status] : []));
}

/** Signals sent to the task, in order. */
function signals(effects: readonly ExecutorEffect[]): string[] {
  return effects.flatMap((e) => (e.kind === 'signal' ? [e.signal] : []));
}

/** Exit effects. */
function exits(effects: readonly ExecutorEffect[]) {
  return effects.filter((e) => e.kind === 'exit');
}

/** Log messages at `level`. */
function logs(effects: readonly ExecutorEffect[], level: 'debug' | 'info' | 'warn' | 'error'): string[] {
  return effects.flatMap((e) => (e.kind === 'log' && e.level === level ? [e.msg] : []));
}

/** A core whose task was launched at T0 and started (STARTING u-1, RUNNING u-2, both acknowledged). */
function running(options: Partial<ExecutorCoreOptions> = {}, task = taskInfo()) {
  const core = executor(options);
  core.onLaunch(task, T0);
  core.onSpawned(4242, T0);
  core.onAcknowledged('t1', 'u-1');
  core.onAcknowledged('t1', 'u-2');
  return core;
}

describe('readExecutorEnv', () => {
  const env = {
    NESOS_NATS_URL: 'nats://127.0.0.1:4222',
    NESOS_CLUSTER: 'c1',
    NESOS_AGENT_ID: 'a1',
    NESOS_EXECUTOR_ID: 't1',
    NESOS_FRAMEWORK_ID: 'f1',
    NESOS_SANDBOX: SANDBOX,
  };

  it('reads every setting, with a default PATH when none is given', () => {
    expect(readExecutorEnv(env)).toEqual({
      natsUrl: 'nats://127.0.0.1:4222',
      cluster: 'c1',
      agentId: 'a1',
      executorId: 't1',
      frameworkId: 'f1',
      sandbox: SANDBOX,
      path: '/usr/local/bin:/usr/bin:/bin',
      joinFiles: [],
      mode: 'command',
    });
    expect(readExecutorEnv({ ...env, NESOS_EXECUTOR_KIND: 'default', NESOS_CGROUP_PROCS: '/c/memory/cgroup.procs:/c/cpu/cgroup.procs' })).toMatchObject({
      mode: 'default',
      joinFiles: ['/c/memory/cgroup.procs', '/c/cpu/cgroup.procs'],
    });
    expect(readExecutorEnv({ ...env, PATH: '/opt/bin' }).path).toBe('/opt/bin');
  });

  it('names every missing or empty variable', () => {
    const { NESOS_CLUSTER: _c, NESOS_FRAMEWORK_ID: _f, ...rest } = env;
    let error: unknown;
    try {
      readExecutorEnv({ ...rest, NESOS_AGENT_ID: '' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ExecutorEnvError);
    expect((error as ExecutorEnvError).variables).toEqual(['NESOS_CLUSTER', 'NESOS_AGENT_ID', 'NESOS_FRAMEWORK_ID']);
    expect((error as Error).message).toMatch(/started by a Nesos agent; missing environment: NESOS_CLUSTER, NESOS_AGENT_ID, NESOS_FRAMEWORK_ID/);
    expect(() => readExecutorEnv({})).toThrow(ExecutorEnvError);
  });

  it('refuses a relative sandbox', () => {
    expect(() => readExecutorEnv({ ...env, NESOS_SANDBOX: 'runs/r1' })).toThrow(
      expect.objectContaining({ name: 'ExecutorEnvError', variables: ['NESOS_SANDBOX'], message: expect.stringContaining('absolute') }),
    );
  });
});

describe('taskEnvironment', () => {
  it('gives PATH, HOME, the task’s variables and the sandbox variables, which the task cannot override', () => {
    const task = taskInfo({ command: { value: 'x', environment: { PATH: '/mine', HOME: '/home/me', NESOS_SANDBOX: '/elsewhere', MESOS_SANDBOX: '/x', NESOS_TASK_ID: 'fake', A: '1' } } });
    expect(taskEnvironment(task, { sandbox: SANDBOX, path: '/usr/bin' })).toEqual({
      PATH: '/mine',
      HOME: '/home/me',
      A: '1',
      MESOS_SANDBOX: SANDBOX,
      NESOS_SANDBOX: SANDBOX,
      NESOS_TASK_ID: 't1',
    });
    expect(taskEnvironment(taskInfo({ command: { value: 'x', environment: {} } }), { sandbox: SANDBOX, path: '/usr/bin' })).toEqual({
      PATH: '/usr/bin',
      HOME: SANDBOX,
      MESOS_SANDBOX: SANDBOX,
      NESOS_SANDBOX: SANDBOX,
      NESOS_TASK_ID: 't1',
    });
  });
});

describe('executor core: launch', () => {
  it('reports TASK_STARTING, then starts the command in the sandbox with the task environment', () => {
    const core = executor();
    expect(logs(core.onSubscribed(), 'info')).toEqual(['subscribed to the agent']);
    const effects = core.onLaunch(taskInfo(), T0);
    expect(effects).toEqual([
      {
        kind: 'send-update',
        status: { taskId: 't1', state: S.STARTING, agentId: 'a1', executorId: 't1', source: TaskSource.EXECUTOR, uuid: 'u-1', timestamp: T0 / 1000 },
      },
      { kind: 'spawn', taskId: 't1', command: 'echo hi', cwd: SANDBOX, env: taskEnvironment(taskInfo(), { sandbox: SANDBOX, path: '/usr/bin:/bin' }) },
    ]);
    expect(core.taskState).toBe(S.STARTING);
  });

  it('reports TASK_RUNNING once the command has started', () => {
    const core = executor();
    core.onLaunch(taskInfo(), T0);
    const effects = core.onSpawned(4242, T0 + 5);
    expect(sent(effects)).toEqual([expect.objectContaining({ state: S.RUNNING, uuid: 'u-2', timestamp: (T0 + 5) / 1000 })]);
    expect(core.taskState).toBe(S.RUNNING);
    expect(core.unacknowledged).toEqual(['u-1', 'u-2']);
  });

  it('runs one task only: a second LAUNCH is ignored', () => {
    const core = running();
    const effects = core.onLaunch(taskInfo({ taskId: 't2' }), T0);
    expect(effects.filter((e) => e.kind !== 'log')).toEqual([]);
    expect(logs(effects, 'warn')).toEqual(['LAUNCH for a second task ignored: the command executor runs one']);
  });

  it('reports TASK_FAILED when the command cannot be started', () => {
    const core = executor();
    core.onLaunch(taskInfo(), T0);
    const effects = core.onSpawnFailed('ENOENT', T0);
    expect(sent(effects)).toEqual([
      expect.objectContaining({ state: S.FAILED, reason: TaskReason.COMMAND_EXITED, message: 'Failed to launch the command: ENOENT' }),
    ]);
    expect(core.onSpawnFailed('again', T0)).toEqual([]);
    expect(core.onTaskExited({ exitCode: 1, signal: null }, T0)).toEqual([]);
  });
});

describe('executor core: the command ends', () => {
  it('reports TASK_FINISHED for exit status 0, and sweeps the process group', () => {
    const core = running();
    const effects = core.onTaskExited({ exitCode: 0, signal: null }, T0 + 100);
    expect(effects).toEqual([
      { kind: 'signal', taskId: 't1', signal: 'SIGKILL' },
      {
        kind: 'send-update',
        status: {
          taskId: 't1',
          state: S.FINISHED,
          agentId: 'a1',
          executorId: 't1',
          source: TaskSource.EXECUTOR,
          uuid: 'u-3',
          timestamp: (T0 + 100) / 1000,
          message: 'Command exited with status 0',
          exitCode: 0,
        },
      },
    ]);
    expect(core.taskState).toBe(S.FINISHED);
  });

  it('reports TASK_FAILED with the exit status for a non-zero exit', () => {
    const core = running();
    const [status] = sent(core.onTaskExited({ exitCode: 3, signal: null }, T0));
    expect(status).toMatchObject({ state: S.FAILED, reason: TaskReason.COMMAND_EXITED, exitCode: 3, message: 'Command exited with status 3' });
    expect(status?.signal).toBeUndefined();
  });

  it('reports TASK_FAILED with the signal when the command was killed by one it was not asked for', () => {
    const core = running();
    const [status] = sent(core.onTaskExited({ exitCode: null, signal: 'SIGSEGV' }, T0));
    expect(status).toMatchObject({ state: S.FAILED, reason: TaskReason.COMMAND_EXITED, signal: 'SIGSEGV', message: 'Command terminated with signal SIGSEGV' });
    expect(status?.exitCode).toBeUndefined();
  });

  it('reports an exit without status or signal as unknown, and only the first exit', () => {
    const core = running();
    expect(sent(core.onTaskExited({ exitCode: null, signal: null }, T0))[0]).toMatchObject({ state: S.FAILED, message: 'Command exited with status unknown' });
    expect(core.onTaskExited({ exitCode: 0, signal: null }, T0)).toEqual([]);
    expect(core.taskState).toBe(S.FAILED);
  });
});

describe('executor core: KILL', () => {
  it('reports TASK_KILLING and sends SIGTERM, then SIGKILL once the grace period is over', () => {
    const core = running();
    const effects = core.onKill('t1', 2000, T0);
    expect(sent(effects)).toEqual([expect.objectContaining({ state: S.KILLING, uuid: 'u-3' })]);
    expect(signals(effects)).toEqual(['SIGTERM']);
    core.onAcknowledged('t1', 'u-3');
    expect(signals(core.tick(T0 + 1999))).toEqual([]);
    const late = core.tick(T0 + 2000);
    expect(signals(late)).toEqual(['SIGKILL']);
    expect(logs(late, 'warn')).toEqual(['grace period over; sending SIGKILL']);
    expect(signals(core.tick(T0 + 5000))).toEqual([]);
  });

  it('reports TASK_KILLED when the command ends after a kill, whatever its exit status (as Mesos’s command executor)', () => {
    for (const exit of [
      { exitCode: null, signal: 'SIGTERM' },
      { exitCode: 0, signal: null },
      { exitCode: 143, signal: null },
    ]) {
      const core = running();
      core.onKill('t1', 1000, T0);
      const [status] = sent(core.onTaskExited(exit, T0 + 10));
      expect(status).toMatchObject({ state: S.KILLED, reason: TaskReason.KILL_REQUESTED });
      // ended within the grace period: no SIGKILL later
      expect(signals(core.tick(T0 + 10_000))).toEqual([]);
    }
  });

  it('takes the grace period from KILL, else the task’s kill policy, else the default', () => {
    const deadline = (core: ExecutorCore, grace: number | undefined): number => {
      core.onKill('t1', grace, T0);
      for (let t = T0; t < T0 + 60_000; t += 10) if (signals(core.tick(t)).includes('SIGKILL')) return t - T0;
      return -1;
    };
    expect(deadline(running({}, taskInfo({ killPolicy: { gracePeriodMs: 500 } })), 120)).toBe(120);
    expect(deadline(running({}, taskInfo({ killPolicy: { gracePeriodMs: 500 } })), undefined)).toBe(500);
    expect(deadline(running({ defaultGracePeriodMs: 730 }), undefined)).toBe(730);
    expect(deadline(running(), undefined)).toBe(3000);
  });

  it('sends SIGKILL at once for a grace period of 0, and no second one', () => {
    const core = running();
    const effects = core.onKill('t1', 0, T0);
    expect(sent(effects).map((s) => s.state)).toEqual([S.KILLING]);
    expect(signals(effects)).toEqual(['SIGKILL']);
    expect(signals(core.tick(T0 + 60_000))).toEqual([]);
  });

  it('signals a command that starts after the kill was asked for (it must not outlive the kill)', () => {
    const graceful = executor();
    graceful.onLaunch(taskInfo(), T0);
    graceful.onKill('t1', 1000, T0);
    const started = graceful.onSpawned(77, T0 + 1);
    expect(signals(started)).toEqual(['SIGTERM']);
    expect(sent(started)).toEqual([]); // KILLING stays: no RUNNING after KILLING
    expect(graceful.taskState).toBe(S.KILLING);
    expect(signals(graceful.tick(T0 + 1000))).toEqual(['SIGKILL']);

    const immediate = executor();
    immediate.onLaunch(taskInfo(), T0);
    expect(signals(immediate.onKill('t1', 0, T0))).toEqual([]); // no process yet
    expect(signals(immediate.onSpawned(78, T0 + 1))).toEqual(['SIGKILL']);
  });

  it('ignores a KILL for another task, before LAUNCH, after the end, or a second time', () => {
    const fresh = executor();
    expect(logs(fresh.onKill('t1', 0, T0), 'warn')).toEqual(['KILL for a task this executor does not run']);
    const core = running();
    expect(logs(core.onKill('t9', 0, T0), 'warn')).toEqual(['KILL for a task this executor does not run']);
    expect(core.taskState).toBe(S.RUNNING);
    core.onKill('t1', 1000, T0);
    const again = core.onKill('t1', 0, T0);
    expect(signals(again)).toEqual([]);
    expect(sent(again)).toEqual([]);
    expect(logs(again, 'info')).toEqual(['KILL again: already killing']);
    core.onTaskExited({ exitCode: null, signal: 'SIGTERM' }, T0);
    const ended = core.onKill('t1', 0, T0);
    expect(signals(ended)).toEqual([]);
    expect(logs(ended, 'info')).toEqual(['KILL for a task that has already ended']);
  });
});

describe('executor core: acknowledgements and exit', () => {
  it('resends every unacknowledged update each resendMs until acknowledged', () => {
    const core = executor({ resendMs: 400 });
    core.onLaunch(taskInfo(), T0);
    core.onSpawned(1, T0 + 100);
    expect(sent(core.tick(T0 + 399))).toEqual([]);
    expect(sent(core.tick(T0 + 400)).map((s) => s.uuid)).toEqual(['u-1']);
    expect(sent(core.tick(T0 + 500)).map((s) => s.uuid)).toEqual(['u-2']);
    core.onAcknowledged('t1', 'u-1');
    expect(core.unacknowledged).toEqual(['u-2']);
    expect(sent(core.tick(T0 + 900)).map((s) => s.uuid)).toEqual(['u-2']);
    core.onAcknowledged('t1', 'u-2');
    expect(sent(core.tick(T0 + 10_000))).toEqual([]);
  });

  it('resends the identical update (same uuid and content), so the agent can tell a duplicate', () => {
    const core = executor();
    const [first] = sent(core.onLaunch(taskInfo(), T0));
    const [again] = sent(core.tick(T0 + 1000));
    expect(again).toEqual(first);
  });

  it('exits once the terminal update and every earlier one are acknowledged', () => {
    const core = executor();
    core.onLaunch(taskInfo(), T0);
    core.onSpawned(1, T0);
    core.onTaskExited({ exitCode: 0, signal: null }, T0);
    expect(core.unacknowledged).toEqual(['u-1', 'u-2', 'u-3']);
    expect(exits(core.onAcknowledged('t1', 'u-3'))).toEqual([]);
    expect(exits(core.onAcknowledged('t1', 'u-1'))).toEqual([]);
    expect(core.isFinished).toBe(false);
    expect(exits(core.onAcknowledged('t1', 'u-2'))).toEqual([{ kind: 'exit', code: 0, reason: `task reported ${S.FINISHED}` }]);
    expect(core.isFinished).toBe(true);
    expect(core.tick(T0 + 100_000)).toEqual([]);
  });

  it('does not exit before the task has ended, even with nothing to acknowledge', () => {
    const core = running();
    expect(core.unacknowledged).toEqual([]);
    expect(core.isFinished).toBe(false);
    expect(exits(core.tick(T0 + 1_000_000))).toEqual([]);
  });

  it('exits after ackTimeoutMs without the acknowledgement of the terminal update, once', () => {
    const core = running({ ackTimeoutMs: 5000 });
    core.onTaskExited({ exitCode: 1, signal: null }, T0 + 1000);
    expect(exits(core.tick(T0 + 5999))).toEqual([]);
    expect(exits(core.tick(T0 + 6000))).toEqual([{ kind: 'exit', code: 0, reason: 'no acknowledgement of the terminal update; exiting anyway' }]);
    expect(core.tick(T0 + 7000)).toEqual([]);
    expect(core.onAcknowledged('t1', 'u-3')).toEqual([]);
  });

  it('waits 10 s by default for the last acknowledgement', () => {
    const core = running();
    core.onTaskExited({ exitCode: 0, signal: null }, T0);
    expect(exits(core.tick(T0 + 9999))).toEqual([]);
    expect(exits(core.tick(T0 + 10_000))).toHaveLength(1);
  });

  it('ignores an acknowledgement of an update it does not hold', () => {
    const core = running();
    expect(logs(core.onAcknowledged('t1', 'u-1'), 'debug')).toEqual(['acknowledgement of an unknown update ignored']);
    expect(logs(core.onAcknowledged('t1', 'nope'), 'debug')).toEqual(['acknowledgement of an unknown update ignored']);
  });

  it('stops resending an update the agent refused, and exits if that was the last one after the end', () => {
    const core = running();
    core.onTaskExited({ exitCode: 0, signal: null }, T0);
    expect(core.onUpdateRejected('nope', 'x')).toEqual([]);
    const effects = core.onUpdateRejected('u-3', 'INVALID: illegal transition');
    expect(logs(effects, 'warn')).toEqual(['the agent refused an update; dropping it']);
    expect(exits(effects)).toHaveLength(1);
    expect(core.unacknowledged).toEqual([]);
  });

  it('refuses to report an illegal transition', () => {
    const core = executor();
    core.onLaunch(taskInfo(), T0);
    core.onSpawnFailed('EACCES', T0);
    expect(core.taskState).toBe(S.FAILED);
    const effects = core.onSpawned(5, T0);
    expect(sent(effects)).toEqual([]);
    expect(logs(effects, 'warn')).toEqual([`not reporting illegal transition ${S.FAILED} → ${S.RUNNING}`]);
    expect(core.taskState).toBe(S.FAILED);
  });
});

describe('executor core: SHUTDOWN', () => {
  it('exits at once when no task was launched, and launches nothing afterwards', () => {
    const core = executor();
    expect(core.onShutdown(undefined, T0)).toEqual([{ kind: 'exit', code: 0, reason: 'shut down before any task was launched' }]);
    const late = core.onLaunch(taskInfo(), T0);
    expect(late.filter((e) => e.kind !== 'log')).toEqual([]);
    expect(logs(late, 'warn')).toEqual(['LAUNCH after SHUTDOWN ignored']);
  });

  it('kills a running task with the shutdown grace period, then exits once TASK_KILLED is acknowledged', () => {
    const core = running();
    const effects = core.onShutdown(800, T0);
    expect(sent(effects).map((s) => s.state)).toEqual([S.KILLING]);
    expect(signals(effects)).toEqual(['SIGTERM']);
    expect(signals(core.tick(T0 + 800))).toEqual(['SIGKILL']);
    const ended = core.onTaskExited({ exitCode: null, signal: 'SIGKILL' }, T0 + 850);
    expect(sent(ended)).toEqual([expect.objectContaining({ state: S.KILLED, uuid: 'u-4' })]);
    core.onAcknowledged('t1', 'u-3');
    expect(exits(core.onAcknowledged('t1', 'u-4'))).toEqual([{ kind: 'exit', code: 0, reason: `task reported ${S.KILLED}` }]);
  });

  it('does not signal again when the task is already being killed', () => {
    const core = running();
    core.onKill('t1', 1000, T0);
    const effects = core.onShutdown(0, T0);
    expect(signals(effects)).toEqual([]);
    expect(exits(effects)).toEqual([]);
  });

  it('exits at once when the task has ended and been acknowledged, or on the acknowledgement otherwise', () => {
    const done = running();
    done.onTaskExited({ exitCode: 0, signal: null }, T0);
    done.onAcknowledged('t1', 'u-3');
    // (already exited on that acknowledgement; SHUTDOWN adds nothing)
    expect(done.isFinished).toBe(true);
    expect(done.onShutdown(undefined, T0)).toEqual([]);

    const waiting = running();
    waiting.onTaskExited({ exitCode: 0, signal: null }, T0);
    const effects = waiting.onShutdown(undefined, T0);
    expect(effects).toEqual([]);
    expect(exits(waiting.onAcknowledged('t1', 'u-3'))).toHaveLength(1);
  });
});

describe('executor core: invariants (property)', () => {
  type Ev =
    | { e: 'launch' }
    | { e: 'spawned' }
    | { e: 'spawnFailed' }
    | { e: 'exited'; code: number | null; signal: string | null }
    | { e: 'kill'; grace: number | undefined }
    | { e: 'shutdown'; grace: number | undefined }
    | { e: 'ack'; index: number }
    | { e: 'reject'; index: number }
    | { e: 'tick'; ms: number };
  // a grace period of 0 (SIGKILL at once) is a case of its own: give it a fair share
  const grace = fc.option(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3000 })), { nil: undefined });
  const ev: fc.Arbitrary<Ev> = fc.oneof(
    fc.constant<Ev>({ e: 'launch' }),
    fc.constant<Ev>({ e: 'spawned' }),
    fc.constant<Ev>({ e: 'spawnFailed' }),
    fc.record({ code: fc.option(fc.integer({ min: 0, max: 255 })), signal: fc.option(fc.constantFrom('SIGTERM', 'SIGKILL')) }).map((x): Ev => ({ e: 'exited', ...x })),
    grace.map((g): Ev => ({ e: 'kill', grace: g })),
    grace.map((g): Ev => ({ e: 'shutdown', grace: g })),
    fc.nat(5).map((index): Ev => ({ e: 'ack', index })),
    fc.nat(5).map((index): Ev => ({ e: 'reject', index })),
    fc.integer({ min: 0, max: 4000 }).map((ms): Ev => ({ e: 'tick', ms })),
  );

  it('reports a legal sequence of states with at most one terminal, exits at most once and does nothing after', () => {
    fc.assert(
      fc.property(fc.array(ev, { maxLength: 40 }), (events) => {
        const core = executor({ resendMs: 1000, ackTimeoutMs: 5000 });
        let now = T0;
        let state: TaskState = S.STAGING;
        const reported = new Map<string, TaskState>();
        let exitCount = 0;
        let killSentAt: number | undefined;
        let killGrace = 0;
        let sigkilled = false;
        // what the shell can report: a spawn's outcome once per spawn effect, an exit once per started command
        let child: 'none' | 'spawning' | 'running' | 'gone' = 'none';
        for (const x of events) {
          let effects: ExecutorEffect[];
          switch (x.e) {
            case 'launch':
              effects = core.onLaunch(taskInfo(), now);
              break;
            case 'spawned':
              if (child !== 'spawning') continue;
              child = 'running';
              effects = core.onSpawned(9, now);
              break;
            case 'spawnFailed':
              if (child !== 'spawning') continue;
              child = 'gone';
              effects = core.onSpawnFailed('boom', now);
              break;
            case 'exited':
              if (child !== 'running') continue;
              child = 'gone';
              effects = core.onTaskExited({ exitCode: x.code, signal: x.signal }, now);
              break;
            case 'kill':
              effects = core.onKill('t1', x.grace, now);
              break;
            case 'shutdown':
              effects = core.onShutdown(x.grace, now);
              break;
            case 'ack':
              effects = core.onAcknowledged('t1', core.unacknowledged[x.index] ?? 'none');
              break;
            case 'reject':
              effects = core.onUpdateRejected(core.unacknowledged[x.index] ?? 'none', 'no');
              break;
            case 'tick':
              now += x.ms;
              effects = core.tick(now);
              break;
          }
          if (effects.some((e) => e.kind === 'spawn')) {
            expect(child).toBe('none'); // one command per executor
            child = 'spawning';
          }
          if (exitCount > 0) expect(effects.filter((e) => e.kind !== 'log')).toEqual([]);
          for (const s of sent(effects)) {
            const known = reported.get(s.uuid as string);
            if (known !== undefined) {
              expect(s.state).toBe(known); // a resend
              continue;
            }
            expect(canTransition(state, s.state)).toBe(true);
            expect(isTerminal(state)).toBe(false);
            state = s.state;
            reported.set(s.uuid as string, s.state);
            if (s.state === S.KILLING) {
              killSentAt = now;
              killGrace = x.e === 'kill' || x.e === 'shutdown' ? (x.grace ?? 3000) : 3000;
            }
          }
          // SIGKILL from a tick only once the grace period is over
          if (x.e === 'tick' && signals(effects).includes('SIGKILL') && killSentAt !== undefined) {
            expect(now - killSentAt).toBeGreaterThanOrEqual(killGrace);
          }
          if (killSentAt !== undefined && signals(effects).includes('SIGKILL')) sigkilled = true;
          // and a started command that was asked to die has been SIGKILLed once its grace period is over
          if (x.e === 'tick' && killSentAt !== undefined && child === 'running' && now >= killSentAt + killGrace) {
            expect(sigkilled).toBe(true);
          }
          exitCount += exits(effects).length;
          expect(core.taskState).toBe(state);
          expect(core.isFinished).toBe(exitCount > 0);
        }
        expect(exitCount).toBeLessThanOrEqual(1);
        // it never exits while the task it launched is still live
        if (exitCount > 0 && reported.size > 0) expect(isTerminal(state)).toBe(true);
      }),
      { numRuns: 1500 },
    );
  });
});
