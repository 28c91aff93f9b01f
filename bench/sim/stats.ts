/** Percentiles and rounding for benchmark lines. */

/** The `p`th percentile of `values` (nearest rank), rounded to 0.01; 0 when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return round2(sorted[rank]!);
}

/** Rounds to two decimals. */
export function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
