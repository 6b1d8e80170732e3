import { ValidationError } from '@trellis/core';
import { Backoff } from '@trellis/resilience';
import { describe, expect, it } from 'vitest';
import { defaultIsRetryable, resolveRetry } from './retry.js';

describe('resolveRetry', () => {
  it('grows delays exponentially up to the cap (no jitter)', () => {
    const r = resolveRetry({ backoff: { initialDelay: 100, maxDelay: 1000, multiplier: 3, jitter: 'none' } });
    expect([1, 2, 3, 4].map((a) => r.delayFor(a))).toEqual([100, 300, 900, 1000]);
    expect(r.maxAttempts).toBe(5);
  });

  it('jitters within [0, exp] with full jitter, using the injected randomness', () => {
    const r = resolveRetry({ backoff: { initialDelay: 100, jitter: 'full' }, random: () => 0.5 });
    expect(r.delayFor(2)).toBe(100);
    const d = resolveRetry({
      backoff: new Backoff({ initialDelay: 100, jitter: 'decorrelated' }),
      random: () => 0,
    });
    expect(d.delayFor(3)).toBe(100);
  });

  it('refuses fewer than one attempt', () => {
    expect(() => resolveRetry({ maxAttempts: 0 })).toThrow(RangeError);
  });

  it('does not retry validation failures or errors marked retryable: false', () => {
    expect(defaultIsRetryable(new ValidationError('bad'))).toBe(false);
    expect(defaultIsRetryable(Object.assign(new Error('x'), { retryable: false }))).toBe(false);
    expect(defaultIsRetryable(new Error('timeout'))).toBe(true);
    expect(defaultIsRetryable('string')).toBe(true);
  });
});
