import { ManualClock, NotFoundError } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import { retry } from './retry.js';

describe('retry', () => {
  it('retries with exponential back-off on the clock and returns the first success', async () => {
    const clock = new ManualClock();
    const policy = retry({ maxAttempts: 4, backoff: { initialDelay: 100, jitter: 'none' }, clock });
    const delays: number[] = [];
    policy.onRetry((e) => delays.push(e.delayMs));
    let attempts = 0;
    const p = policy.execute(async () => {
      attempts++;
      if (attempts < 4) throw new Error('flaky');
      return attempts;
    });
    await clock.advance(100 + 200 + 400);
    expect(await p).toBe(4);
    expect(delays).toEqual([100, 200, 400]);
  });

  it('does not retry client errors by default and rethrows the last error', async () => {
    const policy = retry({ maxAttempts: 5, clock: new ManualClock() });
    let attempts = 0;
    await expect(
      policy.execute(async () => {
        attempts++;
        throw new NotFoundError('nope');
      }),
    ).rejects.toThrow('nope');
    expect(attempts).toBe(1);
  });
});
