import { isAbortedError, ManualClock } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import { Bulkhead } from './bulkhead.js';
import { isBulkheadRejectedError, isTimeoutError } from './errors.js';
import { timeout } from './timeout.js';
import { wrap } from './wrap.js';

function gate() {
  const waiting: Array<() => void> = [];
  let started = 0;
  const work = (label: string) => () =>
    new Promise<string>((resolve) => {
      started++;
      waiting.push(() => resolve(label));
    });
  return { work, started: () => started, releaseNext: () => waiting.shift()?.() };
}

describe('Bulkhead', () => {
  it('runs at most maxConcurrent, queues FIFO up to maxQueue, rejects the rest', async () => {
    const b = new Bulkhead({ maxConcurrent: 2, maxQueue: 2 });
    const g = gate();
    const results = ['a', 'b', 'c', 'd', 'e'].map((l) => b.execute(g.work(l)).catch((e: unknown) => e));
    expect(g.started()).toBe(2);
    expect([b.active, b.queued]).toEqual([2, 2]);
    expect(isBulkheadRejectedError(await results[4])).toBe(true);
    g.releaseNext(); // a done → c starts
    await new Promise((r) => setImmediate(r));
    expect(g.started()).toBe(3);
    for (let i = 0; i < 3; i++) {
      g.releaseNext();
      await new Promise((r) => setImmediate(r));
    }
    expect(await Promise.all(results.slice(0, 4))).toEqual(['a', 'b', 'c', 'd']);
    expect([b.active, b.queued]).toEqual([0, 0]);
  });

  it('frees a slot only when the work really ends, not when its caller times out (resilience4j #905)', async () => {
    const clock = new ManualClock();
    const b = new Bulkhead({ maxConcurrent: 1, maxQueue: 0 });
    const policy = wrap(timeout(100, { clock }), b);
    let finish!: () => void;
    const first = policy
      .execute(() => new Promise<void>((resolve) => (finish = resolve))) // ignores its signal
      .catch((e: unknown) => e);
    await clock.advance(100);
    expect(isTimeoutError(await first)).toBe(true);
    expect(b.active).toBe(1); // still running: the slot is still taken
    expect(isBulkheadRejectedError(await b.execute(async () => 'x').catch((e: unknown) => e))).toBe(true);
    finish();
    await clock.advance(0);
    expect(b.active).toBe(0);
    expect(await b.execute(async () => 'x')).toBe('x');
  });

  it('a queued caller that times out leaves the queue at once and never runs', async () => {
    const clock = new ManualClock();
    const b = new Bulkhead({ maxConcurrent: 1, maxQueue: 5 });
    const g = gate();
    const running = b.execute(g.work('first'));
    let ran = false;
    const queued = wrap(timeout(50, { clock }), b)
      .execute(async () => {
        ran = true;
      })
      .catch((e: unknown) => e);
    expect(b.queued).toBe(1);
    await clock.advance(50);
    expect(isTimeoutError(await queued)).toBe(true);
    expect(b.queued).toBe(0);
    g.releaseNext();
    await running;
    await clock.advance(0);
    expect(ran).toBe(false);
  });

  it('a caller abort while queued rejects with AbortedError', async () => {
    const b = new Bulkhead({ maxConcurrent: 1, maxQueue: 1 });
    const g = gate();
    void b.execute(g.work('x'));
    const controller = new AbortController();
    const queued = b.execute(async () => 'never', controller.signal).catch((e: unknown) => e);
    controller.abort();
    expect(isAbortedError(await queued)).toBe(true);
    expect(b.queued).toBe(0);
  });

  it('does not accumulate cancelled waiters while the slots stay busy', async () => {
    const clock = new ManualClock();
    const b = new Bulkhead({ maxConcurrent: 1, maxQueue: 1 });
    void b.execute(() => new Promise(() => undefined));
    const policy = wrap(timeout(1, { clock }), b);
    for (let i = 0; i < 1000; i++) {
      const p = policy.execute(async () => 'x').catch(() => undefined);
      await clock.advance(1);
      await p;
    }
    expect(b.queued).toBe(0);
    expect((b as unknown as { queue: unknown[] }).queue.length).toBeLessThan(100);
  });

  it('counts work that throws synchronously and emits rejections', async () => {
    const b = new Bulkhead({ maxConcurrent: 1 });
    const rejected: number[] = [];
    b.onRejected((e) => rejected.push(e.running));
    await expect(
      b.execute(() => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    await new Promise((r) => setImmediate(r));
    expect(b.active).toBe(0);
    void b.execute(() => new Promise(() => undefined));
    await b.execute(async () => 1).catch(() => undefined);
    expect(rejected).toEqual([1]);
    expect(() => new Bulkhead({ maxConcurrent: 0 })).toThrow(/maxConcurrent/);
  });
});
