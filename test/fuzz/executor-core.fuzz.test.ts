// Property-based fuzzing of the command executor's pure core (read-only here: it is being
// reworked): random orders of agent events (SUBSCRIBED, LAUNCH, KILL, SHUTDOWN,
// ACKNOWLEDGED, rejections), process events (spawned, spawn failed, exited) and ticks,
// with random and repeated task ids and uuids. It never throws; it spawns at most once and
// signals only a spawned task; the states it reports follow the task lifecycle; it exits
// at most once and says nothing after. Fixed seed (test/fuzz/config.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExecutorCore, type ExecutorEffect } from '../../actors/executor/core.js';
import { canTransition } from '../../protocol/task-lifecycle.js';
import { Resources } from '../../protocol/resources.js';
import { TaskState } from '../../protocol/task-state.js';
import { runs } from './config.js';

type Ev =
  | { ev: 'subscribed' | 'spawned' | 'spawn-failed' }
  | { ev: 'launch'; id: string; grace: number | undefined }
  | { ev: 'exited'; code: number | null; signal: string | null }
  | { ev: 'kill'; id: string; grace: number | undefined }
  | { ev: 'shutdown'; grace: number | undefined }
  | { ev: 'ack'; id: string; pick: number }
  | { ev: 'rejected'; pick: number }
  | { ev: 'tick'; ms: number };

const id = fc.constantFrom('t1', 't2');
const grace = fc.option(fc.constantFrom(0, 1, 500, 3000, 3_600_000), { nil: undefined });
const ev: fc.Arbitrary<Ev> = fc.oneof(
  fc.record({ ev: fc.constantFrom('subscribed' as const, 'spawned' as const, 'spawn-failed' as const) }),
  fc.record({ ev: fc.constant('launch' as const), id, grace }),
  fc.record({ ev: fc.constant('exited' as const), code: fc.option(fc.integer({ min: 0, max: 255 }), { nil: null }), signal: fc.option(fc.constantFrom('SIGTERM', 'SIGKILL'), { nil: null }) }),
  fc.record({ ev: fc.constant('kill' as const), id, grace }),
  fc.record({ ev: fc.constant('shutdown' as const), grace }),
  { arbitrary: fc.record({ ev: fc.constant('ack' as const), id, pick: fc.nat() }), weight: 3 },
  fc.record({ ev: fc.constant('rejected' as const), pick: fc.nat() }),
  { arbitrary: fc.record({ ev: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 12_000 }) }), weight: 2 },
);

describe('executor core fuzz', () => {
  it('never throws, spawns once, signals only what it spawned, reports legal transitions and exits once', () => {
    fc.assert(
      fc.property(fc.array(ev, { minLength: 1, maxLength: 40, size: 'max' }), (events) => {
        let n = 0;
        const core = new ExecutorCore({ agentId: 'a', executorId: 't1', frameworkId: 'f', sandbox: '/tmp/s', path: '/bin', ids: { uuid: () => `u${++n}` } });
        let now = 0;
        let spawns = 0;
        let spawned = false;
        let exits = 0;
        let reported: TaskState = TaskState.STAGING;
        const sent = new Set<string>();
        for (const e of events) {
          let effects: ExecutorEffect[];
          switch (e.ev) {
            case 'subscribed':
              effects = core.onSubscribed();
              break;
            case 'launch':
              effects = core.onLaunch({ taskId: e.id, name: e.id, agentId: 'a', resources: Resources.parse('cpus:1').toWire(), command: { value: 'true', environment: {} }, ...(e.grace !== undefined && { killPolicy: { gracePeriodMs: e.grace } }) }, now);
              break;
            case 'spawned':
              effects = spawns > 0 && !spawned ? core.onSpawned(42, now) : [];
              spawned ||= spawns > 0;
              break;
            case 'spawn-failed':
              effects = spawns > 0 && !spawned ? core.onSpawnFailed('ENOENT', now) : [];
              break;
            case 'exited':
              effects = spawned ? core.onTaskExited({ exitCode: e.code, signal: e.signal }, now) : [];
              break;
            case 'kill':
              effects = core.onKill(e.id, e.grace, now);
              break;
            case 'shutdown':
              effects = core.onShutdown(e.grace, now);
              break;
            case 'ack': {
              const pending = core.unacknowledged;
              effects = core.onAcknowledged(e.id, pending[e.pick % Math.max(1, pending.length)] ?? 'u-none');
              break;
            }
            case 'rejected': {
              const pending = core.unacknowledged;
              effects = core.onUpdateRejected(pending[e.pick % Math.max(1, pending.length)] ?? 'u-none', 'INVALID');
              break;
            }
            case 'tick':
              now += e.ms;
              effects = core.tick(now);
              break;
          }
          if (exits > 0) expect(effects.filter((x) => x.kind !== 'log'), `after exit: ${e.ev}`).toEqual([]);
          for (const x of effects) {
            if (x.kind === 'spawn') spawns += 1;
            if (x.kind === 'signal') expect(spawns, 'signal before spawn').toBeGreaterThan(0);
            if (x.kind === 'exit') exits += 1;
            // A resend of an unacknowledged update repeats its uuid; only new ones must move on.
            if (x.kind === 'send-update' && !sent.has(x.status.uuid ?? '') && x.status.state !== reported) {
              expect(canTransition(reported, x.status.state), `${reported} → ${x.status.state}`).toBe(true);
              reported = x.status.state;
            }
            if (x.kind === 'send-update') sent.add(x.status.uuid ?? '');
          }
          expect(spawns).toBeLessThanOrEqual(1);
          expect(exits).toBeLessThanOrEqual(1);
        }
      }),
      runs(500),
    );
  });
});
