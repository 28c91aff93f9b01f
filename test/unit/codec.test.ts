import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, encode } from '../../protocol/codec.js';
import {
  InvalidMessageError,
  MalformedMessageError,
  MessageTooLargeError,
  ProtocolError,
  UnknownMessageTypeError,
} from '../../protocol/errors.js';
import { AgentToMaster, MasterToAgent } from '../../protocol/agent.js';
import { ExecutorCall, ExecutorEvent } from '../../protocol/executor.js';
import { SchedulerCall, SchedulerEvent } from '../../protocol/scheduler.js';
import { TaskSource, TaskState } from '../../protocol/task-state.js';
import { UpdateRecord } from '../../protocol/updates.js';

const launch = {
  type: 'ACCEPT',
  frameworkId: 'fw-1',
  offerIds: ['o-1'],
  operations: [
    {
      type: 'LAUNCH',
      tasks: [
        {
          taskId: 't-1',
          name: 'hello',
          agentId: 'a-1',
          resources: [{ name: 'cpus', scalar: 0.5 }, { name: 'ports', ranges: [[31000, 31001]] as [number, number][] }],
          command: { value: 'echo hello', environment: { A: 'b' } },
        },
      ],
    },
  ],
  filters: { refuseSeconds: 5 },
};

describe('codec', () => {
  it('round-trips a scheduler call', () => {
    const r = decode(SchedulerCall, encode(launch));
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.value).toEqual(launch);
  });

  it('fills defaults at decode (framework roles and capabilities)', () => {
    const r = decode(SchedulerCall, encode({ type: 'SUBSCRIBE', framework: { id: 'fw-1', name: 'n', principal: 'p' } }));
    expect(r.ok && r.value.type === 'SUBSCRIBE' && r.value.framework.roles).toEqual(['*']);
  });

  it('round-trips binary data in an event', () => {
    const ev = { type: 'MESSAGE', epoch: 3, agentId: 'a', executorId: 'e', data: new Uint8Array([1, 2, 3]) };
    const r = decode(SchedulerEvent, encode(ev));
    expect(r.ok).toBe(true);
    if (r.ok && r.value.type === 'MESSAGE') expect([...r.value.data]).toEqual([1, 2, 3]);
  });

  it('round-trips a status update through the executor union and the updates stream record, and no longer takes it from agents', () => {
    const status = { taskId: 't', state: TaskState.RUNNING, source: TaskSource.EXECUTOR, uuid: 'u-1', timestamp: 1.5 };
    const e = decode(ExecutorCall, encode({ type: 'UPDATE', executorId: 'e', frameworkId: 'f', status }));
    const r = decode(UpdateRecord, encode({ type: 'STATUS_UPDATE', frameworkId: 'f', status }));
    expect(e.ok && r.ok).toBe(true);
    const a = decode(AgentToMaster, encode({ type: 'STATUS_UPDATE', agentId: 'a', frameworkId: 'f', status }));
    expect(!a.ok && a.error).toBeInstanceOf(UnknownMessageTypeError);
    const k = decode(MasterToAgent, encode({ type: 'KILL_TASK', epoch: 1, frameworkId: 'f', taskId: 't' }));
    expect(k.ok).toBe(true);
    const l = decode(ExecutorEvent, encode({ type: 'KILL', taskId: 't', gracePeriodMs: 10 }));
    expect(l.ok).toBe(true);
  });

  it('takes REGISTER_AGENT from an older agent that still sends a FrameworkInfo with each task, and leaves it out', () => {
    const task = { taskId: 't-1', name: 'x', agentId: 'a-1', resources: [{ name: 'cpus', scalar: 0.1 }], command: { value: 'true', environment: {} } };
    const agent = { id: 'a-1', hostname: 'h', resources: [{ name: 'cpus', scalar: 1 }], attributes: {} };
    const framework = { id: 'f', name: 'f', principal: 'f', roles: ['*'], capabilities: [], failoverTimeoutSeconds: 0 };
    const d = decode(AgentToMaster, encode({ type: 'REGISTER_AGENT', agent, tasks: [{ frameworkId: 'f', framework, task, state: TaskState.RUNNING }] }));
    expect(d.ok).toBe(true);
    if (d.ok && d.value.type === 'REGISTER_AGENT') expect(d.value.tasks).toEqual([{ frameworkId: 'f', task, state: TaskState.RUNNING }]);
  });

  it('stores status updates in the updates stream only with a uuid', () => {
    const status = { taskId: 't', state: TaskState.FINISHED, source: TaskSource.MASTER, timestamp: 2 };
    const ok = decode(UpdateRecord, encode({ type: 'STATUS_UPDATE', frameworkId: 'f', status: { ...status, uuid: 'u-9' } }));
    expect(ok.ok && ok.value.status.uuid).toBe('u-9');
    const none = decode(UpdateRecord, encode({ type: 'STATUS_UPDATE', frameworkId: 'f', status }));
    expect(!none.ok && none.error).toBeInstanceOf(InvalidMessageError);
  });

  it('rejects malformed bytes', () => {
    const r = decode(SchedulerCall, new Uint8Array([0xc1, 0xff, 0x00]));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toBeInstanceOf(MalformedMessageError);
  });

  it('rejects an empty payload and a non-map', () => {
    for (const bytes of [new Uint8Array(0), encode([1, 2]), encode('x' as unknown as object)]) {
      const r = decode(SchedulerCall, bytes);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toBeInstanceOf(MalformedMessageError);
    }
  });

  it('rejects truncated messages', () => {
    const bytes = encode(launch);
    for (let n = 1; n < bytes.length; n += 7) {
      const r = decode(SchedulerCall, bytes.subarray(0, n));
      expect(r.ok, `truncated at ${n}`).toBe(false);
    }
  });

  it('rejects an unknown type and a missing type', () => {
    const r = decode(SchedulerCall, encode({ type: 'LAUNCH_ROCKETS' }));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toBeInstanceOf(UnknownMessageTypeError);
      expect(r.error.message).toContain('LAUNCH_ROCKETS');
      expect(r.error.code).toBe('UNKNOWN_TYPE');
    }
    const m = decode(SchedulerCall, encode({ frameworkId: 'x' }));
    expect(!m.ok && m.error).toBeInstanceOf(UnknownMessageTypeError);
  });

  it('rejects missing and ill-typed fields, naming the field', () => {
    const r = decode(SchedulerCall, encode({ type: 'KILL', frameworkId: 'fw', taskId: 42 }));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toBeInstanceOf(InvalidMessageError);
      expect(r.error.message).toContain('taskId');
    }
    const m = decode(SchedulerCall, encode({ type: 'DECLINE', frameworkId: 'fw' }));
    expect(!m.ok && m.error.message).toContain('offerIds');
  });

  it('rejects ids that are not safe subject tokens', () => {
    const r = decode(SchedulerCall, encode({ type: 'TEARDOWN', frameworkId: 'a.b.>' }));
    expect(!r.ok && r.error).toBeInstanceOf(InvalidMessageError);
  });

  it('rejects resources with two kinds of value', () => {
    const bad = structuredClone(launch);
    (bad.operations[0]!.tasks[0]!.resources[0] as Record<string, unknown>).set = ['x'];
    const r = decode(SchedulerCall, encode(bad));
    expect(!r.ok && r.error).toBeInstanceOf(InvalidMessageError);
  });

  it('rejects an over-sized payload before parsing it', () => {
    const big = encode({ type: 'TEARDOWN', frameworkId: 'f', pad: 'x'.repeat(2000) });
    const r = decode(SchedulerCall, big, { maxBytes: 1000 });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toBeInstanceOf(MessageTooLargeError);
      expect(r.error.code).toBe('TOO_LARGE');
    }
  });

  it('never throws on random bytes, and fails with a ProtocolError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        const r = decode(SchedulerCall, bytes);
        if (!r.ok) expect(r.error).toBeInstanceOf(ProtocolError);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on mutated valid messages', () => {
    const base = encode(launch);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), (edits) => {
        const bytes = Uint8Array.from(base);
        for (const [i, v] of edits) bytes[i] = v;
        const r = decode(SchedulerCall, bytes);
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });
});
