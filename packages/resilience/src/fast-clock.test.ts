import { ManualClock, systemClock } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import { coarseNow, fastNow } from './fast-clock.js';

function spinUntilAfter(t: number): void {
  while (Date.now() <= t) {
    // busy-wait: the point is to stay inside one event-loop turn while real time moves
  }
}

async function nextTurn(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
}

describe('coarseNow', () => {
  it('reuses one reading within a turn, but never for more than 64 reads', async () => {
    await nextTurn(); // start from a fresh reading
    const first = coarseNow();
    spinUntilAfter(first + 1);
    const reads: number[] = [];
    for (let i = 0; i < 64; i++) reads.push(coarseNow());
    expect(reads.slice(0, 63)).toEqual(Array(63).fill(first));
    expect(reads.at(-1)).toBeGreaterThan(first);
  });

  it('reads the clock again in the next turn', async () => {
    const first = coarseNow();
    spinUntilAfter(first + 1);
    await nextTurn();
    expect(coarseNow()).toBeGreaterThan(first);
  });

  it('is only used for the system clock; injected clocks are read directly', async () => {
    expect(fastNow(systemClock)).toBe(coarseNow);
    const clock = new ManualClock(5);
    const now = fastNow(clock);
    clock.set(42);
    expect(now()).toBe(42);
  });
});
