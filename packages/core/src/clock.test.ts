import { describe, expect, it } from 'vitest';
import { ManualClock, sleep } from './index.js';

describe('ManualClock', () => {
  it('fires timers in due order and only when time reaches them', async () => {
    const clock = new ManualClock(1000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b'), 20);
    clock.setTimeout(() => fired.push('a'), 10);
    await clock.advance(9);
    expect(fired).toEqual([]);
    await clock.advance(11);
    expect(fired).toEqual(['a', 'b']);
    expect(clock.now()).toBe(1020);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('runs timers scheduled by promise callbacks during the same advance', async () => {
    const clock = new ManualClock();
    const done: number[] = [];
    void (async () => {
      await sleep(10, { clock });
      done.push(clock.now());
      await sleep(10, { clock });
      done.push(clock.now());
    })();
    await clock.advance(25);
    expect(done).toEqual([10, 20]);
  });

  it('sleep rejects on abort and clears its timer', async () => {
    const clock = new ManualClock();
    const ac = new AbortController();
    const p = sleep(100, { clock, signal: ac.signal });
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    expect(clock.pendingTimers()).toBe(0);
  });
});
