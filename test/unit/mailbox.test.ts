import { describe, expect, it } from 'vitest';
import { ActorStoppedError } from '../../actors/runtime/errors.js';
import { Mailbox, SLICE_MS, URGENT_RUN_MAX } from '../../actors/runtime/mailbox.js';
import { backoffDelay } from '../../actors/runtime/request.js';

describe('mailbox', () => {
  it('runs jobs one at a time in arrival order, even when they await', async () => {
    const box = new Mailbox('t');
    const log: string[] = [];
    const job = (name: string, pause: number) => async () => {
      log.push(`${name}:start`);
      await new Promise((r) => setTimeout(r, pause));
      log.push(`${name}:end`);
    };
    box.post(job('a', 20));
    box.post(job('b', 0));
    await box.run(job('c', 5));
    expect(log).toEqual(['a:start', 'a:end', 'b:start', 'b:end', 'c:start', 'c:end']);
  });

  it('keeps arrival order and its length through a long queue, with jobs posted while it drains', async () => {
    const box = new Mailbox('t');
    const order: number[] = [];
    const lengths: number[] = [];
    for (let i = 0; i < 5000; i++) {
      box.post(() => {
        order.push(i);
        if (i % 1000 === 0) lengths.push(box.length);
        // a job posting another, past the point where the queue is compacted
        if (i === 3000) for (let j = 5000; j < 7000; j++) box.post(() => void order.push(j));
      });
    }
    expect(box.length).toBe(5000);
    await box.idle();
    expect(order).toEqual(Array.from({ length: 7000 }, (_, i) => i));
    expect(lengths).toEqual([4999, 3999, 2999, 1999, 999 + 2000]);
    expect(box.length).toBe(0);
    expect(box.processed).toBe(7000);
    box.post(() => void order.push(-1));
    await box.idle();
    expect(order.at(-1)).toBe(-1);
  });

  it('lets timers and I/O run between slices of a long queue, keeping the order', async () => {
    const box = new Mailbox('t');
    const order: number[] = [];
    const busy = (ms: number) => {
      const until = performance.now() + ms;
      while (performance.now() < until) {
        /* a job that holds the thread */
      }
    };
    for (let i = 0; i < 40; i++) {
      box.post(() => {
        busy(SLICE_MS / 4);
        order.push(i);
      });
    }
    let seenByTimer: number | undefined;
    setTimeout(() => (seenByTimer = box.processed), 0);
    await box.idle();
    expect(order).toEqual(Array.from({ length: 40 }, (_, i) => i));
    // the timer ran while jobs were still queued, not after the whole queue
    expect(seenByTimer).toBeGreaterThan(0);
    expect(seenByTimer).toBeLessThan(40);
  });

  it('runs jobs that finish at once back to back, without a microtask turn between them (their NATS writes go out together)', async () => {
    const box = new Mailbox('t');
    const log: string[] = [];
    box.post(() => {
      log.push('a');
      queueMicrotask(() => log.push('microtask of a'));
    });
    box.post(() => {
      log.push('b');
      return undefined;
    });
    box.post(async () => {
      log.push('c');
      await Promise.resolve();
      log.push('c:end');
    });
    box.post(() => log.push('d'));
    await box.idle();
    expect(log).toEqual(['a', 'b', 'c', 'microtask of a', 'c:end', 'd']);
  });

  it('does not run a job inside the caller stack', () => {
    const box = new Mailbox('t');
    let ran = false;
    box.post(() => {
      ran = true;
    });
    expect(ran).toBe(false);
  });

  it('keeps going after a job throws, and counts it', async () => {
    const box = new Mailbox('t');
    box.post(() => {
      throw new Error('boom');
    });
    await expect(box.run(() => 42)).resolves.toBe(42);
    expect(box.failed).toBe(1);
    expect(box.processed).toBe(2);
  });

  it('hands a run() failure to its caller', async () => {
    const box = new Mailbox('t');
    await expect(box.run(() => Promise.reject(new Error('no')))).rejects.toThrow('no');
    expect(box.failed).toBe(0);
  });

  it('refuses jobs after close, once the queued ones ran', async () => {
    const box = new Mailbox('t');
    let done = 0;
    box.post(async () => {
      await new Promise((r) => setTimeout(r, 5));
      done += 1;
    });
    await box.close();
    expect(done).toBe(1);
    await expect(box.run(() => 1)).rejects.toBeInstanceOf(ActorStoppedError);
  });
});

describe('backoff', () => {
  it('doubles up to the cap, with jitter between 0.5x and 1.5x', () => {
    // base 100: attempts 1..5 → 100, 200, 400, 800, 1000 (capped)
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(a, 100, 1000, () => 0.5))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffDelay(3, 100, 1000, () => 0)).toBe(200);
    expect(backoffDelay(3, 100, 1000, () => 0.999)).toBe(600);
  });
});

describe('mailbox chunks', () => {
  it('runs chunks in order, each queued behind the jobs posted while the previous ran', async () => {
    const box = new Mailbox('t');
    const log: string[] = [];
    box.postInChunks([1, 2, 3, 4, 5, 6, 7], 3, (chunk) => {
      log.push(`chunk ${chunk.join(',')}`);
      // a call that arrives while the first chunk is being made
      if (chunk[0] === 1) box.post(() => log.push('call'));
    });
    await box.idle();
    expect(log).toEqual(['chunk 1,2,3', 'call', 'chunk 4,5,6', 'chunk 7']);
  });

  it('goes on with the next chunks after one throws, and counts it as a failed job', async () => {
    const box = new Mailbox('t');
    const seen: number[] = [];
    box.postInChunks([1, 2, 3], 1, (chunk) => {
      if (chunk[0] === 2) throw new Error('boom');
      seen.push(...chunk);
    });
    await box.idle();
    expect(seen).toEqual([1, 3]);
    expect(box.failed).toBe(1);
  });

  it('posts nothing for no items', async () => {
    const box = new Mailbox('t');
    box.postInChunks([], 10, () => {
      throw new Error('not called');
    });
    await box.idle();
    expect(box.processed).toBe(0);
  });
});

describe('mailbox urgent jobs', () => {
  it('runs urgent jobs before the waiting others, in their own order', async () => {
    const box = new Mailbox('t');
    const log: string[] = [];
    box.post(() => log.push('a'));
    box.post(() => log.push('b'));
    box.postUrgent(() => log.push('u1'));
    box.postUrgent(() => log.push('u2'));
    await box.idle();
    expect(log).toEqual(['u1', 'u2', 'a', 'b']);
  });

  it('lets one other job run after URGENT_RUN_MAX urgent ones in a row', async () => {
    const box = new Mailbox('t');
    const log: string[] = [];
    for (let i = 0; i < 3; i++) box.post(() => log.push(`n${i}`));
    for (let i = 0; i < URGENT_RUN_MAX * 2 + 1; i++) box.postUrgent(() => log.push(`u${i}`));
    await box.idle();
    const urgent = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `u${from + i}`);
    expect(log).toEqual([...urgent(0, URGENT_RUN_MAX), 'n0', ...urgent(URGENT_RUN_MAX, URGENT_RUN_MAX * 2), 'n1', `u${URGENT_RUN_MAX * 2}`, 'n2']);
  });

  it('counts urgent jobs in its length and waits for them in idle()', async () => {
    const box = new Mailbox('t');
    let ran = false;
    box.postUrgent(() => {
      ran = true;
    });
    expect(box.length).toBe(1);
    await box.idle();
    expect(ran).toBe(true);
    expect(box.length).toBe(0);
  });
});
