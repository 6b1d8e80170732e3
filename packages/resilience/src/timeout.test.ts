import { isAbortedError, ManualClock } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import { isTimeoutError, type TimeoutError } from './errors.js';
import { timeout } from './timeout.js';

/** Work that never finishes on its own but rejects with the signal's reason when aborted. */
function abortable(onAbort?: (reason: unknown) => void) {
  return (signal: AbortSignal) =>
    new Promise<string>((_, reject) => {
      signal.addEventListener('abort', () => {
        onAbort?.(signal.reason);
        reject(signal.reason);
      });
    });
}

describe('timeout', () => {
  it('rejects with TimeoutError at the limit and aborts the work with it', async () => {
    const clock = new ManualClock();
    let reason: unknown;
    const p = timeout(1000, { clock })
      .execute(abortable((r) => (reason = r)))
      .catch((e: unknown) => e);
    await clock.advance(999);
    expect(reason).toBeUndefined();
    await clock.advance(1);
    const error = await p;
    expect(isTimeoutError(error)).toBe(true);
    expect((error as TimeoutError).timeoutMs).toBe(1000);
    expect(reason).toBe(error);
  });

  it('aggressive: the caller is released at the limit even if the work ignores the signal', async () => {
    const clock = new ManualClock();
    const p = timeout(50, { clock })
      .execute(() => new Promise(() => undefined))
      .catch((e: unknown) => e);
    await clock.advance(50);
    expect(isTimeoutError(await p)).toBe(true);
  });

  it('cooperative: waits for the work to stop; a late failure becomes TimeoutError, a late result is returned', async () => {
    const clock = new ManualClock();
    let settled = false;
    const p = timeout(100, { clock, strategy: 'cooperative' })
      .execute(
        (signal) =>
          new Promise((_, reject) =>
            signal.addEventListener('abort', () =>
              clock.setTimeout(() => {
                settled = true;
                reject(new Error('stopped'));
              }, 50),
            ),
          ),
      )
      .then(
        () => 'resolved',
        (e: unknown) => e,
      );
    await clock.advance(100);
    expect(settled).toBe(false);
    await clock.advance(50);
    const error = await p;
    expect(isTimeoutError(error)).toBe(true);
    expect((error as Error).cause).toMatchObject({ message: 'stopped' });

    const late = timeout(100, { clock, strategy: 'cooperative' }).execute(
      () => new Promise((resolve) => clock.setTimeout(() => resolve('late but here'), 150)),
    );
    await clock.advance(150);
    expect(await late).toBe('late but here');
  });

  it('a caller abort rejects with AbortedError and aborts the work', async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    let aborted = false;
    const p = timeout(1000, { clock })
      .execute(
        abortable(() => (aborted = true)),
        controller.signal,
      )
      .catch((e: unknown) => e);
    controller.abort(new Error('user left'));
    expect(isAbortedError(await p)).toBe(true);
    expect(aborted).toBe(true);
    expect(clock.pendingTimers()).toBe(0);
    expect(
      isAbortedError(
        await timeout(10, { clock })
          .execute(async () => 1, controller.signal)
          .catch((e) => e),
      ),
    ).toBe(true);
  });

  it('passes results and errors through and clears its timer', async () => {
    const clock = new ManualClock();
    const t = timeout(1000, { clock });
    expect(await t.execute(async () => 'ok')).toBe('ok');
    expect(await t.execute(() => 'sync')).toBe('sync');
    await expect(t.execute(() => Promise.reject(new Error('own')))).rejects.toThrow('own');
    await expect(
      t.execute(() => {
        throw new Error('sync throw');
      }),
    ).rejects.toThrow('sync throw');
    expect(clock.pendingTimers()).toBe(0);
  });

  it('Infinity means no limit and no timer', async () => {
    const clock = new ManualClock();
    const p = timeout(Number.POSITIVE_INFINITY, { clock }).execute(async () => 'ok');
    expect(clock.pendingTimers()).toBe(0);
    expect(await p).toBe('ok');
    expect(() => timeout(-5)).toThrow(/"ms"/);
  });
});
