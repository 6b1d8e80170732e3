import { ManualClock } from '@trellis/core';
import { serverUrl, startRedis } from '@trellis/testing';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startUpstream, type TestUpstream } from './fixtures/upstream.js';
import { createGateway, type Gateway } from './gateway.js';
import { RedisRateLimitStore } from './redis-rate-limit-store.js';

const redisUrl = serverUrl('redis');
const rule = { capacity: 20, refillPerSecond: 0.001, by: 'client' as const };

describe.skipIf(!redisUrl)('Redis token bucket', () => {
  const stores: RedisRateLimitStore[] = [];
  const open: Array<Gateway | TestUpstream> = [];
  afterEach(async () => {
    for (const o of open.splice(0).reverse()) await o.close();
    await Promise.all(stores.splice(0).map((s) => s.close()));
  });

  const store = (extra: Partial<ConstructorParameters<typeof RedisRateLimitStore>[0]> = {}) => {
    const s = new RedisRateLimitStore({
      url: redisUrl as string,
      keyPrefix: `t${Date.now()}${Math.random()}:`,
      timeoutMs: 500,
      ...extra,
    });
    stores.push(s);
    return s;
  };

  it('never lets two instances take more tokens than the bucket holds (atomic check-and-take)', async () => {
    const prefix = `race${Date.now()}:`;
    const a = store({ keyPrefix: prefix });
    const b = store({ keyPrefix: prefix });
    await Promise.all([a.ready(), b.ready()]);
    const decisions = await Promise.all(
      Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).take('client-1', rule)),
    );
    expect(decisions.filter((d) => d.allowed)).toHaveLength(20);
    const refused = decisions.find((d) => !d.allowed);
    expect(refused).toMatchObject({ remaining: 0, limit: 20 });
    expect(refused?.retryAfterMs).toBeGreaterThan(0);
  });

  it('refills with time (clock-driven) and keeps clients apart', async () => {
    const clock = new ManualClock(1_000_000);
    const s = store({ clock });
    await s.ready();
    const r = { capacity: 2, refillPerSecond: 1, by: 'client' as const };
    expect((await s.take('a', r)).allowed).toBe(true);
    expect((await s.take('a', r)).allowed).toBe(true);
    const third = await s.take('a', r);
    expect(third).toMatchObject({ allowed: false, retryAfterMs: 1000 });
    expect((await s.take('b', r)).allowed).toBe(true);
    clock.set(1_001_000);
    expect((await s.take('a', r)).allowed).toBe(true);
  });

  it('two gateways share one limit through Redis', async () => {
    const upstream = await startUpstream('svc');
    open.push(upstream);
    const keyPrefix = `gw${Date.now()}:`;
    const make = async () => {
      const g = createGateway({
        logger: { level: 'silent' },
        config: {
          upstreams: { svc: { instances: [upstream.url] } },
          routes: [{ prefix: '/', upstream: 'svc', auth: 'public' }],
          rateLimit: {
            store: 'redis',
            redisUrl,
            keyPrefix,
            // A busy test machine must not turn slow Redis answers into local (per-gateway) limits.
            redisTimeoutMs: 2000,
            default: { capacity: 5, refillPerSecond: 0.001 },
          },
          accessLog: false,
        },
      });
      open.push(g);
      return g.listen({ port: 0 });
    };
    const [u1, u2] = [await make(), await make()];
    const statuses = [];
    for (let i = 0; i < 10; i++) statuses.push((await fetch(`${i % 2 ? u1 : u2}/x`)).status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(5);
    expect(upstream.received).toHaveLength(5);
  });
});

describe.skipIf(!redisUrl)('Redis failure', () => {
  const handles: Array<Awaited<ReturnType<typeof startRedis>>> = [];
  afterAll(async () => {
    await Promise.all(handles.map((h) => h.destroy()));
  });

  it('falls back to a local limit when Redis stops answering (fail-open), or refuses with 503 (fail-closed)', async () => {
    const redis = await startRedis();
    handles.push(redis);
    const fallbacks: unknown[] = [];
    const open = new RedisRateLimitStore({
      url: redis.url,
      timeoutMs: 100,
      onFallback: (e) => fallbacks.push(e),
    });
    const closed = new RedisRateLimitStore({ url: redis.url, timeoutMs: 100, failOpen: false });
    await Promise.all([open.ready(), closed.ready()]);
    const r = { capacity: 1, refillPerSecond: 0.001, by: 'client' as const };
    expect((await open.take('k', r)).allowed).toBe(true);
    await redis.pause();
    const local = await open.take('k', r);
    expect(local.allowed).toBe(true); // the local bucket is fresh: limits are per instance while degraded
    expect((await open.take('k', r)).allowed).toBe(false);
    expect(fallbacks.length).toBeGreaterThanOrEqual(2);
    await expect(closed.take('k', r)).rejects.toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' });
    await redis.resume();
    await open.close();
    await closed.close();
  });
});
