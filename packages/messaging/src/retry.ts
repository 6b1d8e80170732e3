import { isValidationError } from '@trellis/core';
import { Backoff } from '@trellis/resilience';
import type { RetryOptions } from './bus.js';

/** A subscription's retry policy with defaults applied. */
export interface ResolvedRetry {
  maxAttempts: number;
  /** Delay before attempt `attempt + 1`, after attempt `attempt` (1-based) failed. */
  delayFor(attempt: number): number;
  isRetryable(error: unknown): boolean;
}

/** Default number of delivery attempts before a message is dead-lettered. */
export const DEFAULT_MAX_ATTEMPTS = 5;

/**
 * Applies defaults to a {@link RetryOptions}. The delay schedule is `@trellis/resilience`'s
 * {@link Backoff} (exponential, capped, with jitter); the bus only decides *when* the next
 * delivery happens, durably (a visibility time, a NAK delay), instead of sleeping in-process.
 *
 * Throws `RangeError` for `maxAttempts < 1` and `ValidationError` for a bad backoff.
 */
export function resolveRetry(options: RetryOptions = {}): ResolvedRetry {
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!(maxAttempts >= 1)) throw new RangeError('retry.maxAttempts must be at least 1');
  const backoff = options.backoff instanceof Backoff ? options.backoff : new Backoff(options.backoff);
  const random = options.random ?? Math.random;
  return {
    maxAttempts,
    isRetryable: options.isRetryable ?? defaultIsRetryable,
    delayFor(attempt) {
      // Durable transports do not remember the previous jittered delay; the un-jittered one
      // is what decorrelated jitter grows from on average.
      const previous =
        attempt > 1
          ? Math.min(backoff.maxDelay, backoff.initialDelay * backoff.multiplier ** (attempt - 2))
          : 0;
      return backoff.delay(attempt, previous, random);
    },
  };
}

/**
 * The default retry predicate of bus handlers: everything is retried except validation
 * failures and errors marked `retryable: false`. Unlike synchronous calls, a 404 or 409 in an
 * asynchronous handler is often transient (the read model has not caught up yet, an
 * optimistic-concurrency conflict), so client errors are retried too.
 */
export function defaultIsRetryable(error: unknown): boolean {
  if (isValidationError(error)) return false;
  return !(
    typeof error === 'object' &&
    error !== null &&
    (error as { retryable?: unknown }).retryable === false
  );
}
