/**
 * Per-key token buckets (per client, per API key, per route) with bounded memory, for the
 * gateway. A bucket that has refilled to capacity is indistinguishable from a new one, so
 * evicting idle keys loses nothing; when more than `maxKeys` keys are active at once the least
 * recently used one is dropped, which can only make the limiter more lenient for that key.
 */
import { type Clock, systemClock } from '@trellis/core';
import { BoundedMap } from './bounded-map.js';
import { RateLimitedError } from './errors.js';
import { fastNow } from './fast-clock.js';
import { rejectLater } from './reject-later.js';
import { abortError, neverAborted } from './signal.js';
import { type BucketShape, type BucketState, bucketShape, refill, waitFor } from './token-bucket.js';
import { int } from './validate.js';

/** Configuration of a {@link KeyedRateLimiter}. */
export interface KeyedRateLimiterOptions {
  /** Burst size per key. */
  capacity: number;
  /** Sustained rate per key (tokens per second). */
  refillPerSecond: number;
  /** Most keys tracked at once. Default 100 000. */
  maxKeys?: number;
  clock?: Clock;
}

/** The answer to one rate-limit check (what the gateway turns into headers). */
export interface RateLimitDecision {
  allowed: boolean;
  /** Whole tokens left after this call. */
  remaining: number;
  /** When not allowed: milliseconds until the call would be (the `Retry-After`). */
  retryAfterMs: number;
  /** The bucket capacity (the `RateLimit-Limit`). */
  limit: number;
}

/**
 * Token buckets by key.
 *
 * @example
 * ```ts
 * const perClient = new KeyedRateLimiter({ capacity: 100, refillPerSecond: 50 });
 * const d = perClient.take(clientId);
 * if (!d.allowed) reply.header('retry-after', Math.ceil(d.retryAfterMs / 1000)).code(429);
 * ```
 */
export class KeyedRateLimiter {
  readonly capacity: number;
  readonly maxKeys: number;
  private readonly shape: BucketShape;
  private readonly now: () => number;
  private readonly buckets: BoundedMap<BucketState>;
  private readonly create: (key: string) => BucketState;

  /** Throws `ValidationError` when an option is out of range. */
  constructor(options: KeyedRateLimiterOptions) {
    this.shape = bucketShape(options);
    this.capacity = this.shape.capacity;
    this.maxKeys = int('maxKeys', options.maxKeys ?? 100_000, 1);
    this.now = fastNow(options.clock ?? systemClock);
    // A bucket idle long enough to refill completely carries no information: expire it then.
    const idleMs = Math.ceil(this.capacity / this.shape.perMs);
    this.buckets = new BoundedMap(this.maxKeys, idleMs, this.now, () => undefined);
    this.create = () => ({ tokens: this.capacity, at: this.now() });
  }

  /** Keys currently tracked (bounded by `maxKeys`). */
  get size(): number {
    return this.buckets.size;
  }

  /** Takes `cost` tokens from `key`'s bucket if available; false (taking nothing) otherwise. */
  tryTake(key: string, cost = 1): boolean {
    const b = this.buckets.getOrCreate(key, this.create);
    if (refill(this.shape, b, this.now()) < cost) return false;
    b.tokens -= cost;
    return true;
  }

  /** Like {@link tryTake}, with the numbers for rate-limit response headers. */
  take(key: string, cost = 1): RateLimitDecision {
    const b = this.buckets.getOrCreate(key, this.create);
    const tokens = refill(this.shape, b, this.now());
    if (tokens < cost) {
      return {
        allowed: false,
        remaining: Math.floor(tokens),
        retryAfterMs: waitFor(this.shape, tokens, cost),
        limit: this.capacity,
      };
    }
    b.tokens = tokens - cost;
    return { allowed: true, remaining: Math.floor(b.tokens), retryAfterMs: 0, limit: this.capacity };
  }

  /**
   * Runs `fn` when `key` has a token; otherwise throws `RateLimitedError` without running it.
   * Throws `AbortedError` when `signal` is already aborted.
   */
  execute<T>(key: string, fn: (signal: AbortSignal) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const b = this.buckets.getOrCreate(key, this.create);
    const tokens = refill(this.shape, b, this.now());
    if (tokens < 1) return rejectLater(RateLimitedError.fast(waitFor(this.shape, tokens, 1), key));
    b.tokens = tokens - 1;
    try {
      return Promise.resolve(fn(signal ?? neverAborted));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Forgets `key` (its next call starts with a full bucket). */
  reset(key: string): void {
    this.buckets.delete(key);
  }
}
