/**
 * A min-heap of things due at a time, so that 50,000 simulated agents cost what is due
 * now, not a scan of every agent per tick. Pure: the caller says what time it is.
 */

/** One entry: due at `at` (ms); `seq` keeps entries due at the same time in insertion order. */
interface Entry<T> {
  at: number;
  seq: number;
  item: T;
}

/** Items ordered by due time; equal times come out in the order they went in. */
export class TimerQueue<T> {
  private readonly heap: Array<Entry<T>> = [];
  private seq = 0;

  /** How many items are waiting. */
  get size(): number {
    return this.heap.length;
  }

  /** The earliest due time, or undefined when empty. */
  get nextAt(): number | undefined {
    return this.heap[0]?.at;
  }

  /** Adds `item`, due at `at`. */
  push(at: number, item: T): void {
    this.heap.push({ at, seq: this.seq++, item });
    this.up(this.heap.length - 1);
  }

  /** Removes and returns every item due at or before `now`, earliest first; at most `limit`. */
  popDue(now: number, limit = Number.POSITIVE_INFINITY): T[] {
    const out: T[] = [];
    while (out.length < limit && this.heap.length > 0 && this.heap[0]!.at <= now) out.push(this.pop()!);
    return out;
  }

  private pop(): T | undefined {
    const top = this.heap[0];
    const last = this.heap.pop();
    if (top === undefined || last === undefined) return undefined;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.down(0);
    }
    return top.item;
  }

  private less(i: number, j: number): boolean {
    const a = this.heap[i]!;
    const b = this.heap[j]!;
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private swap(i: number, j: number): void {
    const t = this.heap[i]!;
    this.heap[i] = this.heap[j]!;
    this.heap[j] = t;
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const n = this.heap.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.less(l, m)) m = l;
      if (r < n && this.less(r, m)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
}
