// A sorted sequence kept as a list of small sorted blocks (a one-level B-tree): insert and
// remove cost O(log n + block size) instead of shifting the whole sequence, and walking it in
// order is two nested loops. Deterministic (no random levels, unlike a skip list). Items must be
// distinct under `compare`, and an item must not change its sort key while it is inside.

const MAX_BLOCK = 64;

/** A sorted sequence of distinct items, in blocks of at most 64. */
export class OrderedBlocks<T> {
  private blocks: T[][] = [];
  private count = 0;

  constructor(private readonly compare: (a: T, b: T) => number) {}

  /** Number of items. */
  get size(): number {
    return this.count;
  }

  /** Replaces the content by `sorted` (already in order). */
  reset(sorted: readonly T[]): void {
    const half = MAX_BLOCK >> 1;
    this.blocks = [];
    for (let i = 0; i < sorted.length; i += half) this.blocks.push(sorted.slice(i, i + half));
    this.count = sorted.length;
  }

  /** Inserts `item` at its place. */
  insert(item: T): void {
    this.count += 1;
    if (this.blocks.length === 0) {
      this.blocks.push([item]);
      return;
    }
    const b = this.blockFor(item);
    const block = this.blocks[b] as T[];
    block.splice(this.lowerBound(block, item), 0, item);
    if (block.length > MAX_BLOCK) this.blocks.splice(b + 1, 0, block.splice(block.length >> 1));
  }

  /** Removes `item` (found by its key); returns false if it is not there. */
  remove(item: T): boolean {
    if (this.blocks.length === 0) return false;
    const b = this.blockFor(item);
    const block = this.blocks[b] as T[];
    const at = this.lowerBound(block, item);
    if (at >= block.length || this.compare(block[at] as T, item) !== 0) return false;
    block.splice(at, 1);
    this.count -= 1;
    if (block.length === 0) this.blocks.splice(b, 1);
    return true;
  }

  /** Calls `visit` on each item in order while it returns true. */
  walk(visit: (item: T) => boolean): void {
    for (const block of this.blocks) {
      for (const item of block) if (!visit(item)) return;
    }
  }

  /** The items in order, as a new array. */
  toArray(): T[] {
    return this.blocks.flat();
  }

  /** Index of the last block whose first item is ≤ `item` (0 if none). */
  private blockFor(item: T): number {
    let lo = 0;
    let hi = this.blocks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.compare((this.blocks[mid] as T[])[0] as T, item) <= 0) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** First index in `block` whose item is ≥ `item`. */
  private lowerBound(block: readonly T[], item: T): number {
    let lo = 0;
    let hi = block.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare(block[mid] as T, item) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
