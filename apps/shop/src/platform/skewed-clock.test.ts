import { ManualClock, systemClock } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import { shopConfigSchema } from './shop-config.js';
import { skewedClock } from './skewed-clock.js';

describe('skewedClock', () => {
  it('reads the base clock shifted by the offset, ahead or behind', () => {
    const base = new ManualClock(1_000_000);
    expect(skewedClock(30_000, base).now()).toBe(1_030_000);
    expect(skewedClock(-30_000, base).now()).toBe(970_000);
  });

  it('fires timers after real durations of the base clock', async () => {
    const base = new ManualClock(0);
    const fired: number[] = [];
    const clock = skewedClock(60_000, base);
    clock.setTimeout(() => fired.push(clock.now()), 100);
    const cancelled = clock.setTimeout(() => fired.push(-1), 50);
    clock.clearTimeout(cancelled);
    await base.advance(99);
    expect(fired).toEqual([]);
    await base.advance(1);
    expect(fired).toEqual([60_100]);
  });

  it('is the shared system clock when there is no offset', () => {
    expect(skewedClock(0)).toBe(systemClock);
  });

  it('comes from SHOP_CLOCK_OFFSET_MS, bounded to a day either way', () => {
    const base = { INTERNAL_TOKEN_SECRET: 'x'.repeat(32) };
    expect(shopConfigSchema.parse(base).SHOP_CLOCK_OFFSET_MS).toBe(0);
    expect(shopConfigSchema.parse({ ...base, SHOP_CLOCK_OFFSET_MS: '-25000' }).SHOP_CLOCK_OFFSET_MS).toBe(
      -25_000,
    );
    expect(shopConfigSchema.safeParse({ ...base, SHOP_CLOCK_OFFSET_MS: '90000000' }).success).toBe(false);
  });
});
