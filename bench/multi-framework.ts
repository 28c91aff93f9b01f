// Mesos's `BENCHMARK_HierarchicalAllocations.MultiFrameworkAllocations`: 80 agents of
// `cpus:64;mem:488000`; 4 Marathon-like frameworks (own roles) launching 4,000 tasks of
// `cpus:0.07;mem:400`, at most 100 per offer; 500 Jenkins-like frameworks (one shared role)
// launching 5 tasks of `cpus:0.1;mem:4000`, 1 per offer; 50 Spark-like frameworks (own roles)
// launching 20 tasks of `cpus:1;mem:1000`, 5 per offer. Each round allocates, every framework
// launches what it can from its offers and declines the rest without a filter; rounds go on
// until every task is launched, `maxRounds` pass, or 30 s.
//
// As in Mesos, frameworks that decline without a filter keep their low share and are offered
// again first, so finished frameworks crowd out the others and the faithful run does not
// launch everything. The `suppressWhenDone` variant has each framework SUPPRESS once it has
// launched all its tasks (what a real scheduler does) and then completes.
import { AllocatorCore } from '../actors/allocator/core.js';
import { createRng } from '../actors/runtime/rng.js';
import { Resources } from '../protocol/resources.js';
import { heapMiB, median, memoryMiB, pairLoopBaselineMs, round3, timeMs } from './measure.js';

interface Profile {
  tasks: number;
  task: Resources;
  perOffer: number;
  launched: number;
}

/** Runs the scenario once and reports rounds and round times. */
export function multiFrameworkAllocations(seed: number, options: { suppressWhenDone: boolean; maxRounds: number }): object {
  const heapBefore = heapMiB();
  const core = new AllocatorCore();
  const profiles = new Map<string, Profile>();
  const add = (id: string, role: string, tasks: number, task: string, perOffer: number): void => {
    core.addFramework(id, { roles: [role] });
    profiles.set(id, { tasks, task: Resources.parse(task), perOffer, launched: 0 });
  };
  for (let i = 0; i < 80; i++) core.addAgent(`agent-${i}`, Resources.parse('cpus:64;mem:488000'));
  for (let i = 1; i <= 4; i++) add(`Marathon-${i}`, `roleA-${i}`, 4000, 'cpus:0.07;mem:400', 100);
  for (let i = 0; i < 500; i++) add(`Jenkins-${i}`, 'roleB', 5, 'cpus:0.1;mem:4000', 1);
  for (let i = 1; i <= 50; i++) add(`SparkDispatcher-${i}`, `roleC-${i}`, 20, 'cpus:1;mem:1000', 5);
  const target = [...profiles.values()].reduce((n, p) => n + p.tasks, 0);
  const rng = createRng(seed);
  const times: number[] = [];
  let launched = 0;
  let now = 0;
  const started = Date.now();
  while (launched < target && times.length < options.maxRounds && Date.now() - started < 30_000) {
    now += 1000;
    const offers = (() => {
      let made: ReturnType<AllocatorCore['allocate']> = [];
      times.push(timeMs(() => (made = core.allocate(now, rng))));
      return made;
    })();
    for (const offer of offers) {
      const profile = profiles.get(offer.frameworkId) as Profile;
      let rest = offer.resources;
      let used = Resources.empty();
      for (let n = 0; n < profile.perOffer && profile.launched < profile.tasks && rest.contains(profile.task); n++) {
        rest = rest.subtract(profile.task);
        used = used.add(profile.task);
        profile.launched += 1;
        launched += 1;
      }
      core.offerAccepted(offer.frameworkId, offer.agentId, used, offer.role);
      core.recoverResources(offer.frameworkId, offer.agentId, rest, undefined, now, offer.role);
      if (options.suppressWhenDone && profile.launched === profile.tasks) core.suppress(offer.frameworkId);
    }
  }
  const medianMs = median(times);
  const baselineMs = pairLoopBaselineMs(80, profiles.size);
  return {
    scenario: options.suppressWhenDone ? 'MultiFrameworkAllocations+suppress' : 'MultiFrameworkAllocations',
    agents: 80,
    frameworks: profiles.size,
    tasksLaunched: launched,
    tasksTarget: target,
    completed: launched === target,
    rounds: times.length,
    medianMs: round3(medianMs),
    maxMs: round3(Math.max(...times)),
    totalMs: round3(times.reduce((a, b) => a + b, 0)),
    ...memoryMiB(core, heapBefore),
    baselineMs: round3(baselineMs),
    ratioToBaseline: round3(medianMs / baselineMs),
  };
}
