import { ManualClock } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import { isTimeoutError } from './errors.js';
import { timeout } from './timeout.js';

describe('timeout', () => {
  it('rejects with TimeoutError at the limit and aborts the work', async () => {
    const clock = new ManualClock();
    let aborted: unknown;
    const p = timeout(1000, { clock })
      .execute(
        (signal) =>
          new Promise(() => {
            signal.addEventListener('abort', () => {
              aborted = signal.reason;
            });
          }),
      )
      .catch((e: unknown) => e);
    await clock.advance(999);
    expect(aborted).toBeUndefined();
    await clock.advance(1);
    const error = await p;
    expect(isTimeoutError(error)).toBe(true);
    expect(aborted).toBe(error);
  });

  it('clears its timer when the work finishes first', async () => {
    const clock = new ManualClock();
    expect(await timeout(1000, { clock }).execute(async () => 'ok')).toBe('ok');
    expect(clock.pendingTimers()).toBe(0);
  });
});
