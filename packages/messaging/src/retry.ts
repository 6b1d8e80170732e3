import { isValidationError } from '@trellis/core';
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

/** Applies defaults and validates a {@link RetryOptions}. */
export function resolveRetry(options: RetryOptions = {}): ResolvedRetry {
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!(maxAttempts >= 1)) throw new RangeError('retry.maxAttempts must be at least 1');
  const initial = options.initialDelayMs ?? 100;
  const max = options.maxDelayMs ?? 30_000;
  const multiplier = options.multiplier ?? 2;
  const jitter = options.jitter ?? 'full';
  let previous = initial;
  return {
    maxAttempts,
    isRetryable: options.isRetryable ?? defaultIsRetryable,
    delayFor(attempt) {
      const base = Math.min(max, initial * multiplier ** Math.max(0, attempt - 1));
      let delay: number;
      switch (jitter) {
        case 'none':
          delay = base;
          break;
        case 'equal':
          delay = base / 2 + Math.random() * (base / 2);
          break;
        case 'decorrelated':
          delay = Math.min(max, initial + Math.random() * (previous * 3 - initial));
          previous = delay;
          break;
        default:
          delay = Math.random() * base;
      }
      return Math.round(delay);
    },
  };
}

/** Validation failures and errors marked `retryable: false` are not worth retrying. */
export function defaultIsRetryable(error: unknown): boolean {
  if (isValidationError(error)) return false;
  return !(
    typeof error === 'object' &&
    error !== null &&
    (error as { retryable?: unknown }).retryable === false
  );
}
