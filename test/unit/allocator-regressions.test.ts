// Regressions found by fuzzing the allocator core (test/fuzz/allocator-core.fuzz.test.ts).
import { describe, expect, it } from 'vitest';
import { AllocatorCore } from '../../actors/allocator/core.js';
import { Resources } from '../../protocol/resources.js';

describe('allocator regressions', () => {
  it('removes an agent whose reserved resources a framework holds outside its roles, after another framework created that role', () => {
    // Found with NESOS_FUZZ_SEED=5 NESOS_FUZZ_SCALE=20: removeAgent threw UnknownClientError
    // half-way (the holding was never accounted in role "a", which did not exist yet, but was
    // un-accounted once f1 had created it), leaving the books changed.
    const core = new AllocatorCore();
    core.addFramework('g', { roles: ['*'] });
    core.addAgent('s0', Resources.parse('cpus(a):1'), new Map([['g', Resources.parse('cpus(a):1')]]));
    core.addFramework('f1', { roles: ['a'] });
    core.addAgent('s1', Resources.parse('cpus:1;mem:128'));
    expect(() => core.removeAgent('s0')).not.toThrow();
    expect(core.agentIds()).toEqual(['s1']);
    // g's hold in role "a" is gone with the agent; a run still offers s1 to someone.
    expect(core.allocationOf('g').toString()).toBe('');
    expect(core.roles().find((r) => r.role === 'a')?.allocated).toEqual({});
  });
});
