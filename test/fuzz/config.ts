/**
 * Run settings shared by the fuzz suites: a fixed seed (so a run is the same everywhere and a
 * failure replays), and run counts small enough that each file takes a few seconds.
 * `NESOS_FUZZ_SEED=<n>` picks another seed; `NESOS_FUZZ_SCALE=<k>` multiplies every run count
 * for a longer hunt. fast-check prints the seed and the shrunk counterexample on failure.
 */
import type fc from 'fast-check';

/** The seed of every property in the fuzz suites. */
export const FUZZ_SEED = Number(process.env.NESOS_FUZZ_SEED ?? 0x5eed);

/** Multiplier of every run count (default 1). */
export const FUZZ_SCALE = Math.max(1, Number(process.env.NESOS_FUZZ_SCALE ?? 1));

/** fast-check parameters: the fixed seed and `runs` × the scale. */
export function runs<T>(numRuns: number): fc.Parameters<T> {
  return { seed: FUZZ_SEED, numRuns: Math.round(numRuns * FUZZ_SCALE) };
}
