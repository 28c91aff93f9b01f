// A small seeded pseudo-random number generator (mulberry32) and a Fisher–Yates shuffle.
// Pure cores take an `Rng` instead of calling Math.random, so that a seed replays a run.

/** A source of uniform numbers in [0, 1), like `Math.random`, but reproducible from a seed. */
export type Rng = () => number;

/** Returns a mulberry32 generator: the same seed always yields the same sequence. */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Returns a new array holding `items` in an order drawn from `rng` (Fisher–Yates); `items` is not changed. */
export function shuffle<T>(items: readonly T[], rng: Rng): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    // Clamp in case a generator ever returns exactly 1.
    const j = Math.min(i, Math.floor(rng() * (i + 1)));
    const a = out[i] as T;
    out[i] = out[j] as T;
    out[j] = a;
  }
  return out;
}
