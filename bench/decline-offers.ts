// Mesos's `HierarchicalAllocator_BENCHMARK_Test.DeclineOffers`: agents of
// `cpus:24;mem:4096;disk:4096;ports:[31000-32000]`, each already running `cpus:16;mem:2014;
// disk:1024` and 16 ports for framework i % N, every framework in role `*`. Each round, every
// offer of the previous round is declined with an infinite filter, then one allocation run
// (one allocation interval later) is timed.
import { AllocatorCore, type OfferDecision } from '../actors/allocator/core.js';
import { createRng } from '../actors/runtime/rng.js';
import { Resources } from '../protocol/resources.js';
import { heapMiB, median, memoryMiB, pairLoopMs, round3, timeMs } from './measure.js';

/** One grid point's result (one JSON line). */
export interface DeclineOffersResult {
  scenario: 'DeclineOffers';
  agents: number;
  frameworks: number;
  rounds: number;
  medianMs: number;
  firstMs: number;
  maxMs: number;
  offersPerRound: number;
  setupMs: number;
  heapUsedMiB: number;
  heapAddedMiB: number;
  rssMiB: number;
  /** Median of the baseline loop timed after each round. */
  baselineMs: number;
  /** Median over rounds of round time / that round's baseline. */
  ratioToBaseline: number;
}

const AGENT = 'cpus:24;mem:4096;disk:4096;ports:[31000-32000]';
// 16 single ports spread over the range, as Mesos's `fragment(createRange(31000, 32000), 16)`.
const USED = `cpus:16;mem:2014;disk:1024;ports:[${Array.from({ length: 16 }, (_, i) => `${31000 + i * 62}-${31000 + i * 62}`).join(',')}]`;
const INFINITE_REFUSE_SECONDS = 2 ** 31 - 1; // INT_MAX, capped by the core at a year
const INTERVAL_MS = 1000;

/** Runs the scenario for one grid point. */
export function declineOffers(agents: number, frameworks: number, rounds: number, seed: number): DeclineOffersResult {
  const heapBefore = heapMiB();
  const core = new AllocatorCore();
  const total = Resources.parse(AGENT);
  const used = Resources.parse(USED);
  const setupMs = timeMs(() => {
    for (let f = 0; f < frameworks; f++) core.addFramework(`framework-${f}`, { roles: ['*'] });
    for (let a = 0; a < agents; a++) core.addAgent(`agent-${a}`, total, new Map([[`framework-${a % frameworks}`, used]]));
  });
  const rng = createRng(seed);
  let now = 0;
  let offers: OfferDecision[] = [];
  const times: number[] = [];
  // The baseline is timed right after each round, so that both see the same machine load.
  const baselines: number[] = [];
  let offered = 0;
  for (let round = 0; round < rounds; round++) {
    for (const o of offers) core.recoverResources(o.frameworkId, o.agentId, o.resources, INFINITE_REFUSE_SECONDS, now);
    now += INTERVAL_MS;
    times.push(timeMs(() => (offers = core.allocate(now, rng))));
    baselines.push(pairLoopMs(agents, frameworks));
    offered += offers.length;
  }
  const memory = memoryMiB(core, heapBefore);
  const baselineMs = median(baselines);
  const medianMs = median(times);
  return {
    scenario: 'DeclineOffers',
    agents,
    frameworks,
    rounds,
    medianMs: round3(medianMs),
    firstMs: round3(times[0] ?? 0),
    maxMs: round3(Math.max(...times)),
    offersPerRound: Math.round(offered / rounds),
    setupMs: round3(setupMs),
    ...memory,
    baselineMs: round3(baselineMs),
    ratioToBaseline: round3(median(times.map((t, i) => t / (baselines[i] as number)))),
  };
}
