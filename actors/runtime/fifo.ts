/**
 * A first-in, first-out queue whose `shift` is O(1). `Array.prototype.shift` moves every
 * element once an array is large (V8 trims small arrays in place, not large ones): a
 * mailbox holding 50,000 jobs (a registration burst of 50,000 agents) spent ~300 ms of
 * shifts draining them. Taken items are cleared and the array is compacted now and then.
 */
export class Fifo<T> {
  private items: Array<T | undefined> = [];
  private head = 0;

  /** Items waiting. */
  get length(): number {
    return this.items.length - this.head;
  }

  /** Adds `item` at the back. */
  push(item: T): void {
    this.items.push(item);
  }

  /** Removes and returns the front item; undefined when empty. */
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head += 1;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= COMPACT_AFTER && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

/** Taken slots kept at the front before the array is compacted (when they are also half of it). */
const COMPACT_AFTER = 4096;
