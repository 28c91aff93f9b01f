// Mesos's `BENCHMARK_HierarchicalAllocator_WithQuotaParam.LargeAndSmallQuota`: roles with a
// small quota (half an agent: agents get chopped) and roles with a large quota (two agents:
// roles get chopped), one framework each, agents of `cpus:2;mem:2048;disk:2048`, as many as
// `small / 5 + large * 5`. The first run must hand out every agent; the second has nothing
// left to offer. Both are timed, for the DRF and the random sorter.
import { AllocatorCore, type OfferDecision } from '../actors/allocator/core.js';
import { RandomSorter } from '../actors/allocator/random-sorter.js';
import { createRng } from '../actors/runtime/rng.js';
import { Resources } from '../protocol/resources.js';
import { heapMiB, median, memoryMiB, pairLoopMs, round3, timeMs } from './measure.js';

const SMALL = { cpus: 1, mem: 1024, disk: 1024 };
const LARGE = { cpus: 4, mem: 4096, disk: 4096 };

/** One repeat on a fresh core: setup, the first run, the second run, memory. */
function once(smallRoles: number, largeRoles: number, agents: number, sorter: 'drf' | 'random', seed: number) {
  const heapBefore = heapMiB();
  const rng = createRng(seed);
  const core = new AllocatorCore(sorter === 'random' ? { sorterFactory: () => new RandomSorter(rng) } : {});
  const setupMs = timeMs(() => {
    for (let i = 0; i < agents; i++) core.addAgent(`agent-${i}`, Resources.parse('cpus:2;mem:2048;disk:2048'));
    for (let i = 0; i < smallRoles; i++) core.addFramework(`framework_small_${i}`, { roles: [`smallQuotaRole${i}`] });
    for (let i = 0; i < largeRoles; i++) core.addFramework(`framework_large_${i}`, { roles: [`largeQuotaRole${i}`] });
    for (let i = 0; i < smallRoles; i++) core.setQuota(`smallQuotaRole${i}`, { guarantees: SMALL, limits: SMALL });
    for (let i = 0; i < largeRoles; i++) core.setQuota(`largeQuotaRole${i}`, { guarantees: LARGE, limits: LARGE });
  });
  let made: OfferDecision[] = [];
  const firstMs = timeMs(() => (made = core.allocate(1000, rng)));
  const baselineMs = pairLoopMs(agents, smallRoles + largeRoles);
  const offers = made.length;
  const secondMs = timeMs(() => (made = core.allocate(2000, rng)));
  return { setupMs, firstMs, baselineMs, offers, secondMs, leftover: made.length, memory: memoryMiB(core, heapBefore) };
}

/** Runs the scenario `repeats` times on fresh cores and reports medians. */
export function largeAndSmallQuota(smallRoles: number, largeRoles: number, sorter: 'drf' | 'random', seed: number, repeats = 3): object {
  const agents = smallRoles / 5 + largeRoles * 5;
  const roles = smallRoles + largeRoles;
  const runs = Array.from({ length: repeats }, (_, r) => once(smallRoles, largeRoles, agents, sorter, seed + r));
  const last = runs[runs.length - 1] as ReturnType<typeof once>;
  const baselineMs = median(runs.map((x) => x.baselineMs));
  const firstMs = median(runs.map((x) => x.firstMs));
  return {
    scenario: 'LargeAndSmallQuota',
    sorter,
    agents,
    roles,
    frameworks: roles,
    firstRoundMs: round3(firstMs),
    offers: last.offers,
    secondRoundMs: round3(median(runs.map((x) => x.secondMs))),
    secondRoundOffers: last.leftover,
    setupMs: round3(last.setupMs),
    ...last.memory,
    baselineMs: round3(baselineMs),
    ratioToBaseline: round3(median(runs.map((x) => x.firstMs / x.baselineMs))),
  };
}
