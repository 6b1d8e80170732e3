/**
 * Where token buckets live. In memory for one gateway instance (the keyed limiter of
 * @trellis/resilience, bounded), or in Redis so many instances share one limit. Both answer
 * with the numbers the `RateLimit-*` headers need.
 */
import type { Clock } from '@trellis/core';
import { KeyedRateLimiter, type RateLimitDecision } from '@trellis/resilience';
import type { RateLimitRule } from './config.js';

export type { RateLimitDecision };

/** A rate-limit backend. */
export interface RateLimitStore {
  /** Takes one token from `key`'s bucket shaped by `rule`. */
  take(key: string, rule: RateLimitRule): RateLimitDecision | Promise<RateLimitDecision>;
  /** Resolves when the store can answer (a connection is up). */
  ready?(): Promise<void>;
  close(): Promise<void>;
}

/** Token buckets in process memory, one bounded keyed limiter per bucket shape. */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly limiters = new Map<RateLimitRule, KeyedRateLimiter>();

  constructor(private readonly options: { clock?: Clock; maxKeys?: number } = {}) {}

  take(key: string, rule: RateLimitRule): RateLimitDecision {
    let limiter = this.limiters.get(rule);
    if (!limiter) {
      limiter = new KeyedRateLimiter({
        capacity: rule.capacity,
        refillPerSecond: rule.refillPerSecond,
        maxKeys: this.options.maxKeys,
        clock: this.options.clock,
      });
      this.limiters.set(rule, limiter);
    }
    return limiter.take(key);
  }

  async close(): Promise<void> {
    this.limiters.clear();
  }
}

/** Seconds until the bucket is full again (`RateLimit-Reset`). */
export function resetSeconds(d: RateLimitDecision, rule: RateLimitRule): number {
  return Math.max(0, Math.ceil((d.limit - d.remaining) / rule.refillPerSecond));
}
