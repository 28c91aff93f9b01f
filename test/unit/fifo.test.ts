import { describe, expect, it } from 'vitest';
import { Fifo } from '../../actors/runtime/fifo.js';

describe('Fifo', () => {
  it('gives items back in the order they came, and undefined once empty', () => {
    const q = new Fifo<number>();
    expect(q.shift()).toBeUndefined();
    q.push(1);
    q.push(2);
    expect(q.length).toBe(2);
    expect(q.shift()).toBe(1);
    q.push(3);
    expect([q.shift(), q.shift(), q.shift()]).toEqual([2, 3, undefined]);
    expect(q.length).toBe(0);
  });

  it('keeps the order across compactions while items keep coming', () => {
    const q = new Fifo<number>();
    const out: number[] = [];
    let next = 0;
    // push 3, take 2, many times: the front is compacted again and again with items behind it
    for (let round = 0; round < 20_000; round++) {
      for (let i = 0; i < 3; i++) q.push(next++);
      for (let i = 0; i < 2; i++) out.push(q.shift()!);
    }
    for (let item = q.shift(); item !== undefined; item = q.shift()) out.push(item);
    expect(out).toEqual(Array.from({ length: next }, (_, i) => i));
  });
});
