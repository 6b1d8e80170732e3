/**
 * The conformance suite of the {@link IdempotencyStore} contract: every store (memory, SQLite,
 * PostgreSQL, yours) must pass it. Exported from `@trellis/service/conformance` so the main
 * entry never imports vitest.
 */
import { ManualClock } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import type { IdempotencyStore } from './idempotency-store.js';

/**
 * Registers the idempotency store tests. `open` gets a `ManualClock` the store must use.
 *
 * @example
 * ```ts
 * describeIdempotencyStoreConformance('memory', async (clock) => new MemoryIdempotencyStore({ clock }));
 * ```
 */
export function describeIdempotencyStoreConformance(
  name: string,
  open: (clock: ManualClock) => Promise<IdempotencyStore>,
): void {
  describe(`IdempotencyStore conformance: ${name}`, () => {
    const response = {
      status: 201,
      headers: { 'content-type': 'application/json', location: '/o/1' },
      body: '{"id":1}',
    };

    it('grants a new key once; a second claim sees it in progress with the first fingerprint', async () => {
      const store = await open(new ManualClock(1_000));
      expect(await store.acquire('k1', 'fp-a', 60_000)).toEqual({ state: 'acquired' });
      expect(await store.acquire('k1', 'fp-b', 60_000)).toEqual({
        state: 'in-progress',
        fingerprint: 'fp-a',
      });
    });

    it('replays a completed response with its fingerprint until the TTL passes', async () => {
      const clock = new ManualClock(1_000);
      const store = await open(clock);
      await store.acquire('k2', 'fp', 60_000);
      await store.complete('k2', response, 10_000);
      expect(await store.acquire('k2', 'fp', 60_000)).toEqual({
        state: 'completed',
        fingerprint: 'fp',
        response,
      });
      await clock.advance(10_000);
      expect(await store.acquire('k2', 'fp2', 60_000)).toEqual({ state: 'acquired' });
    });

    it('lets a released key be claimed again, but never releases a completed one', async () => {
      const store = await open(new ManualClock(1_000));
      await store.acquire('k3', 'fp', 60_000);
      await store.release('k3');
      expect(await store.acquire('k3', 'fp', 60_000)).toEqual({ state: 'acquired' });
      await store.complete('k3', response, 60_000);
      await store.release('k3');
      expect((await store.acquire('k3', 'fp', 60_000)).state).toBe('completed');
    });

    it('hands over a claim whose holder did not finish within the lock time (crashed)', async () => {
      const clock = new ManualClock(1_000);
      const store = await open(clock);
      await store.acquire('k4', 'fp', 5_000);
      await clock.advance(4_999);
      expect((await store.acquire('k4', 'fp', 5_000)).state).toBe('in-progress');
      await clock.advance(1);
      expect(await store.acquire('k4', 'fp', 5_000)).toEqual({ state: 'acquired' });
    });

    it('lets exactly one of many concurrent claims of a key win', async () => {
      const store = await open(new ManualClock(1_000));
      const results = await Promise.all(Array.from({ length: 10 }, () => store.acquire('k5', 'fp', 60_000)));
      expect(results.filter((r) => r.state === 'acquired')).toHaveLength(1);
    });

    it('keeps keys apart', async () => {
      const store = await open(new ManualClock(1_000));
      expect((await store.acquire('a', 'fp', 60_000)).state).toBe('acquired');
      expect((await store.acquire('b', 'fp', 60_000)).state).toBe('acquired');
    });
  });
}
