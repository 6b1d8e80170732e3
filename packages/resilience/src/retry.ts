/**
 * Retry with exponential back-off and jitter, a retryable-error predicate and an optional
 * shared {@link RetryBudget}. Waiting uses the injected clock and stops at once when the
 * caller's signal aborts.
 */
import { type Clock, isTrellisError, sleep, systemClock } from '@trellis/core';
import { Backoff, type BackoffOptions } from './backoff.js';
import { Listeners } from './listeners.js';
import type { Policy, Work } from './policy.js';
import type { RetryBudget } from './retry-budget.js';
import { abortError, neverAborted } from './signal.js';
import { int } from './validate.js';

/** Configuration of a {@link RetryPolicy}. */
export interface RetryOptions {
  /** Attempts in total, the first one included. Default 3. */
  maxAttempts?: number;
  /** Delay schedule between attempts (a {@link Backoff} or its options). */
  backoff?: Backoff | BackoffOptions;
  /**
   * Whether an error is worth another attempt. Default: everything except client errors
   * (Trellis errors with a 4xx status other than 408 and 429) and aborts.
   */
  isRetryable?: (error: unknown, attempt: number) => boolean;
  /** Shared budget capping retries as a share of recent calls. */
  budget?: RetryBudget;
  /**
   * Wait at least the `retryAfterMs` an error carries (`RateLimitedError`,
   * `CircuitBreakerOpenError`), capped at `backoff.maxDelay`. Default true.
   */
  respectRetryAfter?: boolean;
  clock?: Clock;
  /** Source of randomness in [0, 1) for jitter. Default `Math.random`. */
  random?: () => number;
}

/** Emitted before each wait. */
export interface RetryEvent {
  /** The attempt that failed (1 = the first call). */
  attempt: number;
  delayMs: number;
  error: unknown;
}

/** Emitted when the policy stops retrying and rethrows. */
export interface GiveUpEvent {
  attempts: number;
  error: unknown;
  reason: 'maxAttempts' | 'notRetryable' | 'budget' | 'aborted';
}

/** The default `isRetryable`: server-side and unknown errors yes, client errors no. */
export function isTransientError(error: unknown): boolean {
  if (!isTrellisError(error)) return true;
  if (error.code === 'ABORTED') return false;
  const s = error.status;
  return !(s >= 400 && s < 500) || s === 408 || s === 429;
}

/**
 * Retries failed work. Rethrows the last error when attempts, retryable errors or the budget
 * run out; throws `AbortedError` (or the signal's Trellis reason) when the caller aborts.
 *
 * @example
 * ```ts
 * const policy = retry({ maxAttempts: 4, backoff: { initialDelay: 50, jitter: 'decorrelated' } });
 * const stock = await policy.execute((signal) => inventory.get(sku, { signal }));
 * ```
 */
export class RetryPolicy implements Policy {
  readonly maxAttempts: number;
  readonly backoff: Backoff;
  private readonly isRetryable: (error: unknown, attempt: number) => boolean;
  private readonly budget: RetryBudget | undefined;
  private readonly respectRetryAfter: boolean;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly retryListeners = new Listeners<RetryEvent>();
  private readonly giveUpListeners = new Listeners<GiveUpEvent>();

  /** Throws `ValidationError` when an option is out of range. */
  constructor(options: RetryOptions = {}) {
    this.maxAttempts = int('maxAttempts', options.maxAttempts ?? 3, 1, true);
    this.backoff = options.backoff instanceof Backoff ? options.backoff : new Backoff(options.backoff);
    this.isRetryable = options.isRetryable ?? isTransientError;
    this.budget = options.budget;
    this.respectRetryAfter = options.respectRetryAfter ?? true;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
  }

  async execute<T>(fn: Work<T>, signal?: AbortSignal): Promise<T> {
    const sig = signal ?? neverAborted;
    this.budget?.recordCall();
    let previousDelay = 0;
    for (let attempt = 1; ; attempt++) {
      if (sig.aborted) throw abortError(sig);
      try {
        return await fn(sig);
      } catch (error) {
        const reason = this.stopReason(error, attempt, sig);
        if (reason !== undefined) {
          if (this.giveUpListeners.active) this.giveUpListeners.emit({ attempts: attempt, error, reason });
          throw error;
        }
        const delay = this.delayFor(attempt, previousDelay, error);
        previousDelay = delay;
        if (this.retryListeners.active) this.retryListeners.emit({ attempt, delayMs: delay, error });
        if (delay > 0) {
          try {
            await sleep(delay, { clock: this.clock, signal: sig });
          } catch {
            throw abortError(sig);
          }
        }
      }
    }
  }

  private stopReason(
    error: unknown,
    attempt: number,
    signal: AbortSignal,
  ): GiveUpEvent['reason'] | undefined {
    if (signal.aborted) return 'aborted';
    if (attempt >= this.maxAttempts) return 'maxAttempts';
    if (!this.isRetryable(error, attempt)) return 'notRetryable';
    if (this.budget && !this.budget.tryRetry()) return 'budget';
    return undefined;
  }

  private delayFor(attempt: number, previous: number, error: unknown): number {
    let delay = this.backoff.delay(attempt, previous, this.random);
    if (this.respectRetryAfter && typeof error === 'object' && error !== null) {
      const hint = (error as { retryAfterMs?: unknown }).retryAfterMs;
      if (typeof hint === 'number' && hint > delay) delay = Math.min(hint, this.backoff.maxDelay);
    }
    return delay;
  }

  /** Subscribes to retries (before each wait); returns the unsubscribe function. */
  onRetry(listener: (event: RetryEvent) => void): () => void {
    return this.retryListeners.add(listener);
  }

  /** Subscribes to give-ups (the error is rethrown right after); returns the unsubscribe function. */
  onGiveUp(listener: (event: GiveUpEvent) => void): () => void {
    return this.giveUpListeners.add(listener);
  }
}

/** Creates a {@link RetryPolicy}. Throws `ValidationError` when an option is out of range. */
export function retry(options: RetryOptions = {}): RetryPolicy {
  return new RetryPolicy(options);
}
