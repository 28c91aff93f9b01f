// The allocator benchmark (not a timed test): Mesos's DeclineOffers grid, LargeAndSmallQuota
// and MultiFrameworkAllocations against the pure core, one JSON line per scenario on stdout.
//
//   node dist/bench/allocator.js            full grid (1k×100 … 20k×2k), 20 rounds each
//   node dist/bench/allocator.js --quick    bounded: 1k×100 and 5k×500, 5 rounds, small quota
//   options: --rounds N, --seed N, --only DeclineOffers|LargeAndSmallQuota|MultiFrameworkAllocations
//
// Each line carries its own baseline (a plain loop over the same agents × frameworks, timed in
// the same process) and the ratio to it, so that runs on different machines compare.
import { declineOffers } from './decline-offers.js';
import { largeAndSmallQuota } from './quota.js';
import { multiFrameworkAllocations } from './multi-framework.js';

interface Options {
  quick: boolean;
  rounds: number | undefined;
  seed: number;
  only: string | undefined;
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = { quick: false, rounds: undefined, seed: 1, only: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--quick') options.quick = true;
    else if (arg === '--rounds') options.rounds = Number(value());
    else if (arg === '--seed') options.seed = Number(value());
    else if (arg === '--only') options.only = value();
    else throw new Error(`unknown option ${arg} (try --quick, --rounds N, --seed N, --only NAME)`);
  }
  return options;
}

function emit(line: object): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function main(): void {
  const options = parseArgs(process.argv.slice(2));
  const wants = (name: string): boolean => options.only === undefined || options.only === name;
  const grid: Array<[number, number]> = options.quick
    ? [
        [1000, 100],
        [5000, 500],
      ]
    : [
        [1000, 100],
        [5000, 500],
        [10000, 1000],
        [20000, 2000],
      ];
  const rounds = options.rounds ?? (options.quick ? 5 : 20);
  if (wants('DeclineOffers')) {
    // Warm the JIT up so that the smallest grid point is not measured cold.
    declineOffers(1000, 100, 3, options.seed + 1);
    const results = grid.map(([agents, frameworks]) => {
      const result = declineOffers(agents, frameworks, rounds, options.seed);
      emit(result);
      return result;
    });
    // Growth against the smallest grid point, per agent × framework pair and per agent.
    const base = results[0];
    if (base !== undefined && results.length > 1) {
      emit({
        scenario: 'DeclineOffersScaling',
        points: results.map((r) => ({
          agents: r.agents,
          frameworks: r.frameworks,
          timeVsSmallest: Math.round((r.medianMs / base.medianMs) * 100) / 100,
          pairsVsSmallest: (r.agents * r.frameworks) / (base.agents * base.frameworks),
          agentsVsSmallest: r.agents / base.agents,
        })),
      });
    }
  }
  if (wants('LargeAndSmallQuota')) {
    const scale = options.quick ? 10 : 1;
    for (const sorter of ['drf', 'random'] as const) emit(largeAndSmallQuota(2500 / scale, 500 / scale, sorter, options.seed));
  }
  if (wants('MultiFrameworkAllocations')) {
    const maxRounds = options.quick ? 200 : 2000;
    emit(multiFrameworkAllocations(options.seed, { suppressWhenDone: false, maxRounds }));
    emit(multiFrameworkAllocations(options.seed, { suppressWhenDone: true, maxRounds }));
  }
}

main();
