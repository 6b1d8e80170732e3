/**
 * Token-bucket rate limiting: a bucket holds up to `capacity` tokens and gains
 * `refillPerSecond` tokens per second; each call takes one (or `cost`). Bursts up to the
 * capacity pass at once, the long-run rate is the refill rate. Refill is computed from the
 * clock when the bucket is used, so an idle bucket needs no timer.
 */
import { type Clock, systemClock } from '@trellis/core';
import { RateLimitedError } from './errors.js';
import { fastNow } from './fast-clock.js';
import type { Policy, Work } from './policy.js';
import { rejectLater } from './reject-later.js';
import { abortError, neverAborted } from './signal.js';
import { num } from './validate.js';

/** Configuration of a {@link TokenBucket} (and of each bucket of a keyed limiter). */
export interface TokenBucketOptions {
  /** Most tokens the bucket holds: the largest burst. */
  capacity: number;
  /** Tokens added per second: the sustained rate. */
  refillPerSecond: number;
  /** Tokens at creation. Default `capacity` (a new client may burst). */
  initialTokens?: number;
  clock?: Clock;
}

/** Checked bucket parameters (shared by every bucket of a keyed limiter). */
export interface BucketShape {
  capacity: number;
  perMs: number;
}

/** Validates the shape; throws `ValidationError` naming the bad option. */
export function bucketShape(options: TokenBucketOptions): BucketShape {
  const capacity = num('capacity', options.capacity, Number.MIN_VALUE);
  const refill = num('refillPerSecond', options.refillPerSecond, Number.MIN_VALUE);
  return { capacity, perMs: refill / 1000 };
}

/** State of one bucket: tokens at time `at`. Plain object so keyed limiters store it cheaply. */
export interface BucketState {
  tokens: number;
  at: number;
}

/** Refills `b` up to `now`; returns the tokens available. */
export function refill(shape: BucketShape, b: BucketState, now: number): number {
  if (now > b.at) {
    b.tokens = Math.min(shape.capacity, b.tokens + (now - b.at) * shape.perMs);
    b.at = now;
  }
  return b.tokens;
}

/** Milliseconds until `cost` tokens are available (Infinity when `cost` exceeds the capacity). */
export function waitFor(shape: BucketShape, tokens: number, cost: number): number {
  if (cost > shape.capacity) return Number.POSITIVE_INFINITY;
  return tokens >= cost ? 0 : Math.ceil((cost - tokens) / shape.perMs);
}

/**
 * One token bucket, usable directly (`tryTake`) or as a policy (`execute` throws
 * `RateLimitedError` with `retryAfterMs` when no token is left).
 *
 * @example
 * ```ts
 * const limiter = new TokenBucket({ capacity: 20, refillPerSecond: 10 });
 * if (!limiter.tryTake()) return reply.code(429).send();
 * ```
 */
export class TokenBucket implements Policy {
  readonly capacity: number;
  readonly refillPerSecond: number;
  private readonly shape: BucketShape;
  private readonly state: BucketState;
  private readonly now: () => number;

  /** Throws `ValidationError` when capacity or refill rate is not positive. */
  constructor(options: TokenBucketOptions) {
    this.shape = bucketShape(options);
    this.capacity = this.shape.capacity;
    this.refillPerSecond = options.refillPerSecond;
    this.now = fastNow(options.clock ?? systemClock);
    const initial = num('initialTokens', options.initialTokens ?? this.capacity, 0);
    this.state = { tokens: Math.min(initial, this.capacity), at: this.now() };
  }

  /** Tokens available now (fractional). */
  get available(): number {
    return refill(this.shape, this.state, this.now());
  }

  /** Takes `cost` tokens if available; false (taking nothing) otherwise. */
  tryTake(cost = 1): boolean {
    if (refill(this.shape, this.state, this.now()) < cost) return false;
    this.state.tokens -= cost;
    return true;
  }

  /** Milliseconds until `cost` tokens will be available (0 when they are now). */
  retryAfterMs(cost = 1): number {
    return waitFor(this.shape, refill(this.shape, this.state, this.now()), cost);
  }

  /**
   * Runs `fn` if a token is available; otherwise throws `RateLimitedError` without running it
   * (and without taking a token). Throws `AbortedError` when `signal` is already aborted.
   */
  execute<T>(fn: Work<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (!this.tryTake(1)) return rejectLater(RateLimitedError.fast(this.retryAfterMs(1), ''));
    try {
      return Promise.resolve(fn(signal ?? neverAborted));
    } catch (error) {
      return Promise.reject(error);
    }
  }
}
