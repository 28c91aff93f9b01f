// Bugs found by fuzzing, kept as regression checks (one that is still open is marked
// `it.fails`: when a fix lands, vitest reports it passing unexpectedly — then drop the mark).
import { describe, expect, it } from 'vitest';
import { snapshot } from '../../actors/master/snapshot.js';
import { MasterHarness } from '../harness/master-harness.js';

describe('found by fuzzing: one resource name of two kinds across agents', () => {
  // Found by test/fuzz/allocator-core.fuzz.test.ts (the allocator's allocationOf throws the
  // same way). Nothing ties a resource name to a kind: agent a1 may register `ports:3` (a
  // scalar) and a2 `ports:[31000-31010]` (ranges). Once one framework holds resources on
  // both, snapshot() sums them per framework and Resources.add throws
  // ResourceArithmeticError: GET_STATE is answered REJECTED INTERNAL and /state, /metrics
  // and SUBSCRIBED's snapshot fail. Fix: fix the kinds of the well-known names (cpus, mem,
  // disk, gpus scalar; ports ranges) when resources are built, and refuse a REGISTER_AGENT
  // whose kinds clash with the cluster's (actors/master/agents.ts), or sum per kind in
  // actors/master/snapshot.ts.
  // Fixed: the master refuses an agent whose resource kinds clash with the cluster's.
  it('refuses a second kind for one resource name, so the state is always served', () => {
    const h = new MasterHarness();
    expect(() => h.registerAgent('a1', 'cpus:1;mem:128;ports:3')).toThrow(/"ports" is scalar here but ranges/);
    h.registerAgent('a1', 'cpus:1;mem:128;gpus_x:3');
    expect(() => h.registerAgent('a2', 'cpus:1;mem:128;gpus_x:{a,b}')).toThrow(/"gpus_x" is set here but scalar in this cluster/);
    h.registerAgent('a2', 'cpus:1;mem:128;gpus_x:2;ports:[31000-31010]');
    h.subscribe('f1');
    h.offer('f1', 'a1', 'cpus:1;mem:128;gpus_x:3');
    h.offer('f1', 'a2', 'cpus:1;mem:128;gpus_x:2;ports:[31000-31010]');
    const state = snapshot(h.core.state, { masterId: 'm1', epoch: 7, cluster: 'c', startedAt: 0, shareOf: () => 0 });
    expect(state.frameworks[0]?.offers).toBe(2);
  });
});
