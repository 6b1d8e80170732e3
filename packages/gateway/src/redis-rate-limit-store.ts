/**
 * Token buckets in Redis, shared by every gateway instance. The check-and-take is one Lua
 * script, so it is atomic: two instances can never both take the last token (the race Kong's
 * Redis limiter had before PR #8227). Time comes from the Redis server (`TIME`) so gateway
 * clocks need not agree; tests pass a clock instead.
 *
 * When Redis is slow or down, the store falls back to a per-instance in-memory limiter
 * (fail-open, the default) or refuses with 503 (fail-closed), and says so in metrics and logs.
 */
import type { Clock } from '@trellis/core';
import { ServiceUnavailableError } from '@trellis/service';
import { Redis } from 'ioredis';
import type { RateLimitRule } from './config.js';
import { MemoryRateLimitStore, type RateLimitDecision, type RateLimitStore } from './rate-limit-store.js';

/** KEYS[1] bucket; ARGV capacity, tokens per ms, cost, now (ms, or -1 for Redis TIME). */
const TAKE_SCRIPT = `
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1])
local at = tonumber(b[2])
if tokens == nil or at == nil then
  tokens = capacity
  at = now
end
if now > at then
  tokens = math.min(capacity, tokens + (now - at) * rate)
  at = now
end
local allowed = 0
local wait = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  wait = math.ceil((cost - tokens) / rate)
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'at', at)
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate) + 1000)
return { allowed, math.floor(tokens), wait }
`;

type Scripted = Redis & {
  trellisTakeToken(
    key: string,
    capacity: number,
    rate: number,
    cost: number,
    now: number,
  ): Promise<[number, number, number]>;
};

/** Options of {@link RedisRateLimitStore}. */
export interface RedisRateLimitStoreOptions {
  url: string;
  keyPrefix?: string;
  /** Command timeout before falling back (ms). Default 50. */
  timeoutMs?: number;
  /** Fall back to in-memory limits when Redis fails (default), instead of refusing. */
  failOpen?: boolean;
  /** Use this clock's time instead of Redis `TIME` (tests). */
  clock?: Clock;
  /** Told about every fallback (for metrics and logs). */
  onFallback?: (error: unknown) => void;
}

/** Shared token buckets in Redis. */
export class RedisRateLimitStore implements RateLimitStore {
  private readonly redis: Scripted;
  private readonly fallback: MemoryRateLimitStore;
  private readonly prefix: string;

  constructor(private readonly options: RedisRateLimitStoreOptions) {
    this.prefix = options.keyPrefix ?? 'trellis:rl:';
    this.redis = new Redis(options.url, {
      commandTimeout: options.timeoutMs ?? 50,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      enableAutoPipelining: true,
      lazyConnect: false,
    }) as Scripted;
    this.redis.on('error', () => undefined); // reported through fallbacks, not as crashes
    this.redis.defineCommand('trellisTakeToken', { numberOfKeys: 1, lua: TAKE_SCRIPT });
    this.fallback = new MemoryRateLimitStore({ clock: options.clock });
  }

  async take(key: string, rule: RateLimitRule): Promise<RateLimitDecision> {
    const rate = rule.refillPerSecond / 1000;
    const now = this.options.clock ? this.options.clock.now() : -1;
    try {
      const [allowed, remaining, wait] = await this.redis.trellisTakeToken(
        `${this.prefix}${rule.capacity}:${rule.refillPerSecond}:${key}`,
        rule.capacity,
        rate,
        1,
        now,
      );
      return { allowed: allowed === 1, remaining, retryAfterMs: wait, limit: rule.capacity };
    } catch (error) {
      this.options.onFallback?.(error);
      if (this.options.failOpen === false) {
        throw new ServiceUnavailableError('Rate limiter unavailable', 1000, { cause: error });
      }
      return this.fallback.take(key, rule);
    }
  }

  /** Waits until connected (or fails). */
  async ready(): Promise<void> {
    if (this.redis.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      this.redis.once('ready', resolve);
      this.redis.once('end', () => reject(new Error('redis connection ended')));
    });
  }

  async close(): Promise<void> {
    this.redis.disconnect();
    await this.fallback.close();
  }
}
