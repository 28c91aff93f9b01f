import { describe, expect, it } from 'vitest';
import { SubjectTokenError } from '../../protocol/errors.js';
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
});
