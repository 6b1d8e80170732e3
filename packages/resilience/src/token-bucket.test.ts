import { isAbortedError, ManualClock } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import { isRateLimitedError, type RateLimitedError } from './errors.js';
import { KeyedRateLimiter } from './keyed-rate-limiter.js';
import { TokenBucket } from './token-bucket.js';

describe('TokenBucket', () => {
  it('lets a burst of `capacity` through, then the refill rate', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket({ capacity: 5, refillPerSecond: 10, clock });
    expect(Array.from({ length: 7 }, () => bucket.tryTake()).filter(Boolean)).toHaveLength(5);
    expect(bucket.retryAfterMs()).toBe(100);
    await clock.advance(100);
    expect(bucket.tryTake()).toBe(true);
    expect(bucket.tryTake()).toBe(false);
    await clock.advance(10_000);
    expect(bucket.available).toBe(5); // never above capacity
  });

  it('as a policy: rejects with RateLimitedError carrying retryAfterMs, without running the work', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 2, clock });
    expect(await bucket.execute(async () => 'ok')).toBe('ok');
    let ran = false;
    const error = await bucket
      .execute(async () => {
        ran = true;
      })
      .catch((e: unknown) => e);
    expect(ran).toBe(false);
    expect(isRateLimitedError(error)).toBe(true);
    expect((error as RateLimitedError).retryAfterMs).toBe(500);
  });

  it('an aborted caller neither runs nor takes a token', async () => {
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1, clock: new ManualClock() });
    const controller = new AbortController();
    controller.abort();
    const error = await bucket.execute(async () => 'x', controller.signal).catch((e: unknown) => e);
    expect(isAbortedError(error)).toBe(true);
    expect(bucket.tryTake()).toBe(true);
    const keyed = new KeyedRateLimiter({ capacity: 1, refillPerSecond: 1, clock: new ManualClock() });
    expect(isAbortedError(await keyed.execute('k', async () => 1, controller.signal).catch((e) => e))).toBe(
      true,
    );
    expect(keyed.tryTake('k')).toBe(true);
  });

  it('respects initialTokens and costs above the capacity', () => {
    const bucket = new TokenBucket({
      capacity: 10,
      refillPerSecond: 1,
      initialTokens: 2,
      clock: new ManualClock(),
    });
    expect(bucket.tryTake(3)).toBe(false);
    expect(bucket.tryTake(2)).toBe(true);
    expect(bucket.retryAfterMs(11)).toBe(Number.POSITIVE_INFINITY);
    expect(() => new TokenBucket({ capacity: 0, refillPerSecond: 1 })).toThrow(/capacity/);
  });
});

describe('KeyedRateLimiter', () => {
  it('keeps one bucket per key', () => {
    const limiter = new KeyedRateLimiter({ capacity: 2, refillPerSecond: 1, clock: new ManualClock() });
    expect([limiter.tryTake('a'), limiter.tryTake('a'), limiter.tryTake('a')]).toEqual([true, true, false]);
    expect(limiter.tryTake('b')).toBe(true);
  });

  it('take() returns the numbers for rate-limit headers', async () => {
    const clock = new ManualClock();
    const limiter = new KeyedRateLimiter({ capacity: 3, refillPerSecond: 2, clock });
    expect(limiter.take('c')).toEqual({ allowed: true, remaining: 2, retryAfterMs: 0, limit: 3 });
    limiter.take('c');
    limiter.take('c');
    expect(limiter.take('c')).toEqual({ allowed: false, remaining: 0, retryAfterMs: 500, limit: 3 });
    await clock.advance(500);
    expect(limiter.take('c').allowed).toBe(true);
  });

  it('execute() throws RateLimitedError naming the key', async () => {
    const limiter = new KeyedRateLimiter({ capacity: 1, refillPerSecond: 1, clock: new ManualClock() });
    await limiter.execute('k', async () => 1);
    const error = await limiter.execute('k', async () => 1).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'RATE_LIMITED', key: 'k', retryAfterMs: 1000 });
  });

  it('memory stays bounded under a flood of distinct keys, and active abusers stay limited', async () => {
    const clock = new ManualClock();
    const limiter = new KeyedRateLimiter({ capacity: 2, refillPerSecond: 1, maxKeys: 100, clock });
    limiter.tryTake('abuser');
    limiter.tryTake('abuser');
    for (let i = 0; i < 10_000; i++) {
      limiter.tryTake(`random-${i}`);
      if (i % 50 === 0) expect(limiter.tryTake('abuser')).toBe(false); // used often: never evicted
      expect(limiter.size).toBeLessThanOrEqual(100);
    }
  });

  it('drops buckets that refilled completely (they carry no information)', async () => {
    const clock = new ManualClock();
    const limiter = new KeyedRateLimiter({ capacity: 2, refillPerSecond: 1, maxKeys: 1000, clock });
    for (let i = 0; i < 50; i++) limiter.tryTake(`k${i}`);
    await clock.advance(2000);
    for (let i = 0; i < 20; i++) limiter.tryTake(`new${i}`);
    expect(limiter.size).toBe(20);
  });
});
