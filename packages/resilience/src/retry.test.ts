import { spawnSync } from 'node:child_process';
import { isAbortedError, ManualClock, NotFoundError, ValidationError } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff.js';
import { RateLimitedError, TimeoutError } from './errors.js';
import { isTransientError, retry } from './retry.js';
import { RetryBudget } from './retry-budget.js';

/** Work that fails `failures` times, then returns the attempt number. */
function flaky(failures: number, error: () => unknown = () => new Error('flaky')) {
  let attempts = 0;
  const fn = async () => {
    attempts++;
    if (attempts <= failures) throw error();
    return attempts;
  };
  return { fn, attempts: () => attempts };
}

describe('retry', () => {
  it('retries with exponential back-off on the clock and returns the first success', async () => {
    const clock = new ManualClock();
    const policy = retry({ maxAttempts: 4, backoff: { initialDelay: 100, jitter: 'none' }, clock });
    const delays: number[] = [];
    policy.onRetry((e) => delays.push(e.delayMs));
    const work = flaky(3);
    const p = policy.execute(work.fn);
    await clock.advance(699);
    expect(work.attempts()).toBe(3);
    await clock.advance(1);
    expect(await p).toBe(4);
    expect(delays).toEqual([100, 200, 400]);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('rethrows the last error after maxAttempts and says why it gave up', async () => {
    const clock = new ManualClock();
    const policy = retry({ maxAttempts: 3, backoff: { initialDelay: 10, jitter: 'none' }, clock });
    const reasons: string[] = [];
    policy.onGiveUp((e) => reasons.push(`${e.reason}@${e.attempts}`));
    let n = 0;
    const p = policy.execute(async () => {
      throw new Error(`attempt ${++n}`);
    });
    const caught = p.catch((e: unknown) => e);
    await clock.advance(30);
    expect(((await caught) as Error).message).toBe('attempt 3');
    expect(reasons).toEqual(['maxAttempts@3']);
  });

  it('does not retry client errors by default, and honours a custom predicate', async () => {
    const clock = new ManualClock();
    const notFound = flaky(5, () => new NotFoundError('nope'));
    await expect(retry({ maxAttempts: 5, clock }).execute(notFound.fn)).rejects.toThrow('nope');
    expect(notFound.attempts()).toBe(1);

    const custom = retry({
      maxAttempts: 5,
      clock,
      backoff: { initialDelay: 0 },
      isRetryable: (e, attempt) => (e as Error).message === 'again' && attempt < 2,
    });
    const work = flaky(5, () => new Error('again'));
    await expect(custom.execute(work.fn)).rejects.toThrow('again');
    expect(work.attempts()).toBe(2);
  });

  it('the default predicate: server errors, timeouts, 408/429 and foreign errors are transient', () => {
    expect(isTransientError(new Error('x'))).toBe(true);
    expect(isTransientError(new TimeoutError(10))).toBe(true);
    expect(isTransientError(new RateLimitedError(10))).toBe(true);
    expect(isTransientError(new NotFoundError('x'))).toBe(false);
    expect(isTransientError(new ValidationError('x'))).toBe(false);
  });

  it('waits at least the retryAfterMs an error carries, capped at maxDelay', async () => {
    const clock = new ManualClock();
    const policy = retry({
      maxAttempts: 3,
      backoff: { initialDelay: 10, maxDelay: 1000, jitter: 'none' },
      clock,
    });
    const delays: number[] = [];
    policy.onRetry((e) => delays.push(e.delayMs));
    const errors = [new RateLimitedError(300), new RateLimitedError(5000)];
    const work = flaky(2, () => errors.shift());
    const p = policy.execute(work.fn);
    await clock.advance(1300);
    expect(await p).toBe(3);
    expect(delays).toEqual([300, 1000]);
  });

  it('stops waiting at once when the caller aborts, without another attempt', async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    const work = flaky(10);
    const p = retry({ maxAttempts: 10, backoff: { initialDelay: 1000 }, clock, random: () => 0.5 })
      .execute(work.fn, controller.signal)
      .catch((e: unknown) => e);
    await clock.advance(100);
    controller.abort();
    expect(isAbortedError(await p)).toBe(true);
    expect(work.attempts()).toBe(1);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('a caller abort during an attempt rethrows that attempt’s error without retrying', async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    const policy = retry({ maxAttempts: 5, backoff: { initialDelay: 0 }, clock });
    const reasons: string[] = [];
    policy.onGiveUp((e) => reasons.push(e.reason));
    let attempts = 0;
    const p = policy
      .execute(
        (signal) =>
          new Promise((_, reject) => {
            attempts++;
            signal.addEventListener('abort', () => reject(new Error('request cancelled')));
          }),
        controller.signal,
      )
      .catch((e: unknown) => e);
    controller.abort();
    expect(await p).toMatchObject({ message: 'request cancelled' });
    expect(attempts).toBe(1);
    expect(reasons).toEqual(['aborted']);
  });

  it('gives up when the shared retry budget is spent', async () => {
    const clock = new ManualClock();
    const budget = new RetryBudget({ ratio: 0.5, minRetriesPerSecond: 0, windowMs: 10_000, clock });
    const policy = retry({ maxAttempts: 5, backoff: { initialDelay: 0 }, budget, clock });
    const reasons: string[] = [];
    policy.onGiveUp((e) => reasons.push(e.reason));
    // Two calls make room for one retry (50 %); both fail every attempt.
    const a = flaky(99);
    const b = flaky(99);
    await Promise.all([
      policy.execute(a.fn).catch(() => undefined),
      policy.execute(b.fn).catch(() => undefined),
    ]);
    await clock.advance(0);
    expect(a.attempts() + b.attempts()).toBe(3);
    expect(reasons).toEqual(['budget', 'budget']);
    expect(budget.stats).toEqual({ calls: 2, retries: 1, allowed: 1 });
  });

  it('finishes in a script whose only pending work is the back-off (real child process)', () => {
    const code = `import { retry } from '@trellis/resilience';
      let n = 0;
      const policy = retry({ maxAttempts: 3, backoff: { initialDelay: 20 } });
      console.log(await policy.execute(async () => { if (n++ === 0) throw new Error('down'); return 'ok after ' + n; }));`;
    const child = spawnSync(
      process.execPath,
      ['--input-type=module', '--conditions=source', '--import', 'tsx', '-e', code],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect({ status: child.status, out: child.stdout }).toEqual({ status: 0, out: 'ok after 2\n' });
  });
});

describe('Backoff', () => {
  const rnd = (v: number) => () => v;

  it('full jitter stays in [0, exponential delay] and the exponential delay is capped', () => {
    const b = new Backoff({ initialDelay: 100, maxDelay: 1000, multiplier: 2, jitter: 'full' });
    expect([1, 2, 3, 4, 5].map((n) => b.delay(n, 0, rnd(0.999)))).toEqual([99, 199, 399, 799, 999]);
    expect(b.delay(3, 0, rnd(0))).toBe(0);
  });

  it('decorrelated jitter grows from the previous delay within [initial, 3 × previous], capped', () => {
    const b = new Backoff({ initialDelay: 100, maxDelay: 1000, jitter: 'decorrelated' });
    expect(b.delay(1, 0, rnd(0))).toBe(100);
    expect(b.delay(2, 200, rnd(0.999))).toBe(599);
    expect(b.delay(3, 900, rnd(0.999))).toBe(999);
    let prev = 0;
    for (let n = 1; n < 50; n++) {
      prev = b.delay(n, prev, Math.random);
      expect(prev).toBeGreaterThanOrEqual(100);
      expect(prev).toBeLessThanOrEqual(1000);
    }
  });

  it('rejects nonsense', () => {
    expect(() => new Backoff({ initialDelay: -1 })).toThrow(ValidationError);
    expect(() => new Backoff({ initialDelay: 100, maxDelay: 10 })).toThrow(/maxDelay/);
    expect(() => new Backoff({ jitter: 'some' as never })).toThrow(/jitter/);
  });
});
