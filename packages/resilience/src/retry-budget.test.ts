import { ManualClock } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import { RetryBudget } from './retry-budget.js';

describe('RetryBudget', () => {
  it('allows retries up to ratio × calls plus the per-second floor', () => {
    const clock = new ManualClock();
    const budget = new RetryBudget({ ratio: 0.1, minRetriesPerSecond: 0.2, windowMs: 10_000, clock });
    for (let i = 0; i < 50; i++) budget.recordCall();
    // 0.2/s × 10 s + 0.1 × 50 = 7
    const granted = Array.from({ length: 10 }, () => budget.tryRetry()).filter(Boolean).length;
    expect(granted).toBe(7);
    expect(budget.stats).toEqual({ calls: 50, retries: 7, allowed: 7 });
  });

  it('forgets calls and retries that slide out of the window', async () => {
    const clock = new ManualClock();
    const budget = new RetryBudget({ ratio: 1, minRetriesPerSecond: 0, windowMs: 1000, buckets: 10, clock });
    budget.recordCall();
    expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(false);
    await clock.advance(500);
    budget.recordCall();
    expect(budget.tryRetry()).toBe(true);
    await clock.advance(600); // the first call and retry slid out, the second stay
    expect(budget.stats).toEqual({ calls: 1, retries: 1, allowed: 1 });
    expect(budget.tryRetry()).toBe(false);
    await clock.advance(1000);
    expect(budget.stats).toEqual({ calls: 0, retries: 0, allowed: 0 });
  });

  it('the floor lets a low-traffic caller retry', () => {
    const budget = new RetryBudget({ clock: new ManualClock() }); // 1/s over 10 s
    budget.recordCall();
    expect(budget.tryRetry()).toBe(true);
  });
});
