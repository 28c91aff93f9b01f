import { describe, expect, it } from 'vitest';
import { SubjectTokenError } from '../../protocol/errors.js';
import { Buckets } from '../../protocol/buckets.js';
import { Subjects } from '../../protocol/subjects.js';

describe('subjects', () => {
  const s = new Subjects('test-1');

  it('puts every subject under nesos.<cluster>.', () => {
    const all = [
      s.schedulerCall('alice'),
      s.frameworkEvents('fw-1'),
      s.agentToMaster('a-1'),
      s.masterToAgent('a-1'),
      s.executorToAgent('a-1', 'e-1'),
      s.agentToExecutor('a-1', 'e-1'),
      s.agentFiles('a-1', 'cli'),
      s.statusUpdate('fw-1', 't-1'),
    ];
    for (const subject of all) expect(subject.startsWith('nesos.test-1.')).toBe(true);
    expect(new Set(all).size).toBe(all.length);
  });

  it('puts the sender principal last where a principal sends', () => {
    expect(Subjects.lastToken(s.schedulerCall('alice'))).toBe('alice');
    expect(Subjects.lastToken(s.agentToMaster('a-7'))).toBe('a-7');
    expect(Subjects.lastToken(s.executorToAgent('a-7', 'e-2'))).toBe('e-2');
    expect(Subjects.lastToken(s.agentFiles('a-7', 'ops'))).toBe('ops');
  });

  it('refuses tokens that would change the subject', () => {
    for (const bad of ['', 'a.b', 'a*', '>', 'a b', 'x'.repeat(129)]) {
      expect(() => s.schedulerCall(bad)).toThrow(SubjectTokenError);
    }
    expect(() => new Subjects('a.b')).toThrow(SubjectTokenError);
  });

  it('keeps clusters apart', () => {
    expect(new Subjects('a').agentToMaster('x')).not.toBe(new Subjects('b').agentToMaster('x'));
  });

  it('names each status update after its framework and task, and parses such subjects back', () => {
    expect(s.statusUpdate('fw-1', 't-1')).toBe('nesos.test-1.updates.fw-1.t-1');
    expect(s.frameworkStatusUpdates('fw-1')).toBe('nesos.test-1.updates.fw-1.>');
    expect(s.statusUpdatesWildcard()).toBe('nesos.test-1.updates.>');
    expect(s.parseStatusUpdate(s.statusUpdate('fw~1', 't_1'))).toEqual({ frameworkId: 'fw~1', taskId: 't_1' });
    for (const other of ['nesos.test-1.updates.fw-1', 'nesos.test-1.updates.a.b.c', 'nesos.other.updates.a.b', s.frameworkEvents('fw-1')]) {
      expect(s.parseStatusUpdate(other)).toBeUndefined();
    }
    expect(() => s.statusUpdate('fw-1', 't.1')).toThrow(SubjectTokenError);
  });
});

describe('bucket, stream and consumer names', () => {
  it('carry the cluster name, and give each framework its own consumer', () => {
    const b = new Buckets('c~1');
    expect([b.leader(), b.registry(), b.updates()]).toEqual(['nesos_c_1_leader', 'nesos_c_1_registry', 'nesos_c_1_updates']);
    expect(b.masterUpdatesConsumer()).toBe('master');
    // the prefix keeps a framework named "master" from sharing the master's consumer
    expect(b.frameworkUpdatesConsumer('master')).toBe('fw_master');
    expect(() => b.frameworkUpdatesConsumer('a.b')).toThrow(SubjectTokenError);
  });
});
