// Measuring helpers for the allocator benchmark: a clock, medians, memory, and a baseline
// that a noisy or slow machine runs as slowly as it runs the allocator, so ratios compare
// across machines where milliseconds do not.
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Milliseconds `fn` took. */
export function timeMs(fn: () => void): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

/** The median of `values` (0 when empty). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Rounds to 3 decimals for printing. */
export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

// A full garbage collection on demand, without asking the user for --expose-gc.
v8.setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

/** Heap used after a full GC, in MiB. */
export function heapMiB(): number {
  collect();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

/**
 * Memory after a full GC while `alive` (the scenario's allocator) is still referenced: the
 * heap in use, what the scenario added to the heap since `heapBefore`, and the process's RSS.
 */
export function memoryMiB(alive: unknown, heapBefore: number): { heapUsedMiB: number; heapAddedMiB: number; rssMiB: number } {
  const heap = heapMiB();
  if (alive === undefined) throw new Error('unreachable'); // keeps `alive` reachable until now
  return { heapUsedMiB: round3(heap), heapAddedMiB: round3(heap - heapBefore), rssMiB: round3(process.memoryUsage().rss / 2 ** 20) };
}

/**
 * The baseline: a plain loop over `agents × frameworks` pairs doing one Map lookup and one
 * comparison each — the least any allocator that looks at every pair once must do — timed
 * once, in ms. An allocator round below 1× this is sub-linear in agents × frameworks.
 */
export function pairLoopMs(agents: number, frameworks: number): number {
  const filters = pairFilters(frameworks);
  let sink = 0;
  const ms = timeMs(() => {
    for (let a = 0; a < agents; a++) {
      for (let f = 0; f < frameworks; f++) if ((filters.get(f) ?? -1) === a) sink++;
    }
  });
  if (sink < 0) throw new Error('unreachable');
  return ms;
}

/** The baseline loop, median of three runs, in ms. */
export function pairLoopBaselineMs(agents: number, frameworks: number): number {
  return median([0, 1, 2].map(() => pairLoopMs(agents, frameworks)));
}

function pairFilters(frameworks: number): Map<number, number> {
  const filters = new Map<number, number>();
  for (let f = 0; f < frameworks; f += 7) filters.set(f, f);
  return filters;
}
