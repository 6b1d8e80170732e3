import { isAbortedError, ManualClock } from '@trellis/core';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { Bulkhead } from './bulkhead.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { CircuitState } from './circuit-state.js';
import { isCircuitBreakerOpenError, isTimeoutError } from './errors.js';
import { fallback } from './fallback.js';
import type { Policy, Work } from './policy.js';
import { retry } from './retry.js';
import { timeout } from './timeout.js';
import { pipeline, wrap } from './wrap.js';

/** A policy that records when it is entered and left. */
function tracer(name: string, log: string[]): Policy {
  return {
    async execute<T>(fn: Work<T>, signal?: AbortSignal): Promise<T> {
      log.push(`>${name}`);
      try {
        return await fn(signal ?? new AbortController().signal);
      } finally {
        log.push(`<${name}`);
      }
    },
  };
}

describe('wrap', () => {
  it('runs the first policy outermost', async () => {
    const log: string[] = [];
    await wrap(tracer('a', log), tracer('b', log), tracer('c', log)).execute(async () => log.push('work'));
    expect(log).toEqual(['>a', '>b', '>c', 'work', '<c', '<b', '<a']);
  });

  it('pipeline() applies the recommended order whatever the order of its keys', async () => {
    const log: string[] = [];
    const p = pipeline({
      bulkhead: tracer('bulkhead', log),
      timeout: tracer('timeout', log),
      retry: tracer('retry', log),
      rateLimit: tracer('rateLimit', log),
      breaker: tracer('breaker', log),
    });
    await p.execute(async () => log.push('work'));
    expect(log.slice(0, 6)).toEqual(['>retry', '>breaker', '>rateLimit', '>timeout', '>bulkhead', 'work']);
    const withFallback = pipeline({ fallback: fallback(() => 'cached'), retry: tracer('retry', []) });
    const result = await withFallback.execute(async (): Promise<number> => {
      throw new Error('down');
    });
    expectTypeOf(result).toEqualTypeOf<number | string>();
    expect(result).toBe('cached');
  });

  it('with no policies it just runs the work', async () => {
    expect(await wrap().execute((signal) => signal.aborted)).toBe(false);
  });

  it('passes each policy’s signal inward: an outer timeout aborts the innermost work', async () => {
    const clock = new ManualClock();
    let aborted = false;
    const p = wrap(timeout(100, { clock }), new Bulkhead({ maxConcurrent: 1 }))
      .execute((signal) => new Promise(() => signal.addEventListener('abort', () => (aborted = true))))
      .catch((e: unknown) => e);
    await clock.advance(100);
    expect(isTimeoutError(await p)).toBe(true);
    expect(aborted).toBe(true);
  });

  it('retry + breaker + timeout: timeouts count as breaker failures, retry stops on an open breaker', async () => {
    const clock = new ManualClock();
    const breaker = new CircuitBreaker({ failureThreshold: 2, timeout: 60_000, clock });
    const policy = wrap(
      retry({
        maxAttempts: 5,
        backoff: { initialDelay: 10, jitter: 'none' },
        isRetryable: (e) => !isCircuitBreakerOpenError(e),
        clock,
      }),
      breaker,
      timeout(100, { clock }),
    );
    let attempts = 0;
    const p = policy
      .execute(() => {
        attempts++;
        return new Promise(() => undefined); // hangs: every attempt times out
      })
      .catch((e: unknown) => e);
    await clock.advance(100); // attempt 1 times out
    await clock.advance(10 + 100); // retry, attempt 2 times out → breaker opens
    await clock.advance(20); // retry → rejected fast by the open breaker
    const error = await p;
    expect(attempts).toBe(2);
    expect(isCircuitBreakerOpenError(error)).toBe(true);
    expect(breaker.state).toBe(CircuitState.OPEN);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('fallback outermost answers once everything gave up, and its type is carried', async () => {
    const clock = new ManualClock();
    const policy = wrap(
      fallback(() => null),
      retry({ maxAttempts: 2, backoff: { initialDelay: 0 }, clock }),
    );
    const result = await policy.execute(async (): Promise<number> => {
      throw new Error('down');
    });
    expectTypeOf(result).toEqualTypeOf<number | null>();
    expect(result).toBeNull();
  });

  it('fallback does not handle what shouldHandle rejects, nor a caller abort', async () => {
    const fb = fallback(() => 'fallback', { shouldHandle: (e) => (e as Error).message !== 'fatal' });
    const taken: unknown[] = [];
    fb.onFallback((e) => taken.push(e.error));
    expect(await fb.execute(() => Promise.reject(new Error('meh')))).toBe('fallback');
    await expect(fb.execute(() => Promise.reject(new Error('fatal')))).rejects.toThrow('fatal');
    const controller = new AbortController();
    const aborted = fb
      .execute(
        (signal) =>
          new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('gone')))),
        controller.signal,
      )
      .catch((e: unknown) => e);
    controller.abort();
    expect(await aborted).toMatchObject({ message: 'gone' });
    expect(
      isAbortedError(await fb.execute(async () => 'x', controller.signal).catch((e: unknown) => e)),
    ).toBe(true);
    expect(taken).toHaveLength(1);
  });
});
